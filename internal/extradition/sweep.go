package extradition

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"puente/internal/agreement"
	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/live"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// noWarning is case_clocks.warned before any warning.
const noWarning = 1000

// sweepBatch bounds the warnings written in one transaction, so the sweep
// never holds the store's writer for long.
const sweepBatch = 250

// SweepResult is what one sweep did.
type SweepResult struct {
	Open      int     `json:"open_clocks"`
	Warned    int     `json:"warned"`
	Overdue   int     `json:"overdue"`
	Batches   int     `json:"batches"`
	MaxHoldMs float64 `json:"max_hold_ms"`
}

type sweepItem struct {
	caseID, term, party string
	point               int
}

// Sweep evaluates every open clock against today: at each warning point
// of the agreement (30, 15, 7, 3 and 1 days before the due date by
// default) and once overdue, it logs a warning, once per point, and the
// home pages of both sides refresh. The clocks' due dates were computed
// when their stages were recorded, so this reads and compares only.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	today := dateOf(s.Now())
	points := slices.Clone(s.cfg.Agreement.ExtraditionWarnDays())
	slices.Sort(points)
	horizon := today.AddDate(0, 0, points[len(points)-1])
	rows, err := s.db.Read().Query(ctx, `SELECT case_id, term, party, due, warned FROM case_clocks WHERE stopped = '' AND due <= ?`, horizon.Format(time.DateOnly))
	if err != nil {
		return res, fmt.Errorf("reading clocks: %w", err)
	}
	var todo []sweepItem
	lefts := map[string]int{}
	for rows.Next() {
		var it sweepItem
		var due string
		var warned int
		if err := rows.Scan(&it.caseID, &it.term, &it.party, &due, &warned); err != nil {
			rows.Close()
			return res, fmt.Errorf("reading clocks: %w", err)
		}
		res.Open++
		left, ok := lefts[due]
		if !ok {
			d, err := time.Parse(time.DateOnly, due)
			if err != nil {
				continue
			}
			left = int(d.Sub(today).Hours() / 24)
			lefts[due] = left // few distinct dates: each parsed once
		}
		it.point = -1
		if left < 0 {
			it.point = 0
		} else if i := slices.IndexFunc(points, func(p int) bool { return p >= left }); i >= 0 {
			it.point = points[i]
		}
		if it.point >= 0 && it.point < warned {
			todo = append(todo, it)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("reading clocks: %w", err)
	}
	for len(todo) > 0 {
		batch := todo[:min(sweepBatch, len(todo))]
		todo = todo[len(batch):]
		start := time.Now()
		err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			// One statement per term and warning point, which marks only the
			// clocks still open and not yet warned at it (another sweep, or
			// a stage that stopped the clock meanwhile) and returns them.
			type group struct {
				term  string
				point int
			}
			groups := map[group][]string{}
			for _, it := range batch {
				g := group{it.term, it.point}
				groups[g] = append(groups[g], it.caseID)
			}
			keys := slices.SortedFunc(maps.Keys(groups), func(a, b group) int {
				if a.term != b.term {
					return strings.Compare(a.term, b.term)
				}
				return a.point - b.point
			})
			var entries []trustlog.Entry
			for _, g := range keys {
				ids := groups[g]
				args := []any{g.point, g.term, g.point}
				for _, id := range ids {
					args = append(args, id)
				}
				// (stopped || '' keeps SQLite's planner on the primary key:
				// on the index of open clocks it would scan them all.)
				q := `UPDATE case_clocks SET warned = ? WHERE term = ? AND warned > ? AND stopped || '' = '' AND case_id IN (` +
					strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + `) RETURNING case_id, party`
				rows, err := tx.Query(ctx, q, args...)
				if err != nil {
					return fmt.Errorf("marking warnings: %w", err)
				}
				for rows.Next() {
					var id, party string
					if err := rows.Scan(&id, &party); err != nil {
						rows.Close()
						return fmt.Errorf("marking warnings: %w", err)
					}
					kind, detail := KindLogClockWarned, fmt.Sprintf("term=%s party=%s days=%d", g.term, party, g.point)
					if g.point == 0 {
						kind, detail = KindLogClockOverdue, fmt.Sprintf("term=%s party=%s", g.term, party)
					}
					entries = append(entries, trustlog.Entry{At: time.Now(), Kind: kind, Actor: "node", Object: "case:" + id, Detail: detail})
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return fmt.Errorf("marking warnings: %w", err)
				}
			}
			if len(entries) == 0 {
				return nil
			}
			if _, err := s.log.Append(ctx, tx, entries...); err != nil {
				return err
			}
			tx.AfterCommit(func() { s.cfg.Hub.Publish(live.Event{Topic: Name, Key: "clocks"}) })
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Batches++
		res.MaxHoldMs = max(res.MaxHoldMs, float64(time.Since(start).Microseconds())/1000)
		for _, it := range batch {
			if it.point == 0 {
				res.Overdue++
			} else {
				res.Warned++
			}
		}
	}
	return res, nil
}

// clockWork is the home page's share of the clocks: the open clocks in
// their warning window, ours to act on or the partner's overdue.
func (s *Service) clockWork(ctx context.Context, u *auth.User) ([]area.WorkItem, error) {
	if !s.CaseVisible(u) || u.Can(auth.ReadAll) || !(u.Can(auth.ExtWrite)) {
		return nil, nil
	}
	rows, err := s.db.Read().Query(ctx, `SELECT k.case_id, k.term, k.party, k.due, k.warned, c.doc, c.envelopes FROM case_clocks k JOIN cases c ON c.id = k.case_id
		WHERE k.stopped = '' AND k.warned < ? ORDER BY k.due, k.case_id LIMIT 200`, noWarning)
	if err != nil {
		return nil, fmt.Errorf("reading clocks: %w", err)
	}
	defer rows.Close()
	var out []area.WorkItem
	for rows.Next() {
		var id, term, party, due, doc, envs string
		var warned int
		if err := rows.Scan(&id, &term, &party, &due, &warned, &doc, &envs); err != nil {
			return nil, fmt.Errorf("reading clocks: %w", err)
		}
		c, err := decodeCase(doc)
		if err != nil {
			return nil, err
		}
		d, _ := time.Parse(time.DateOnly, due)
		it := area.WorkItem{Title: c.Title(), Link: "/extradition/cases/c/" + id, Due: d.Add(24*time.Hour - time.Second), Overdue: warned == 0, Who: party}
		known := slices.ContainsFunc(agreement.DefaultTerms(), func(t agreement.Term) bool { return t.ID == term })
		switch {
		case party == s.self && known:
			it.Key = "ext.work.clock." + term
		case party == s.self:
			it.Key = "ext.work.clock"
		case warned == 0:
			// The partner's overdue clock is flagged here too.
			it.Key, it.Flag = "ext.work.partner_overdue", "ext.escalated"
		default:
			continue
		}
		if it.Overdue && party == s.self {
			it.Flag = "ext.escalated"
		}
		out = append(out, it)
	}
	return out, rows.Err()
}
