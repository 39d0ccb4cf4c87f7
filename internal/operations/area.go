package operations

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/border"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/match"
	"puente/internal/store"
)

// Name is the area's name.
const Name = "operations"

// Link kinds of this area, all version 1. An operation's steps and shared
// reports share the stream "operations:o:ID"; a conflict's envelopes
// "operations:c:ID".
const (
	KindStep             = "operations.step"
	KindConflict         = "operations.conflict"
	KindConflictAck      = "operations.conflict_ack"
	KindConflictResolved = "operations.conflict_resolved"
)

// Open builds the operations area of a node. It deconflicts through the
// node's blind-matching area, which node.Areas opens before it.
func Open(d area.Deps) (area.Area, error) {
	ms := area.Find[*match.Service](d.Opened)
	if ms == nil {
		return nil, fmt.Errorf("operations: the blind-matching area must be opened before it")
	}
	return New(Config{DB: d.DB, Link: d.Link, Hub: d.Hub, Agreement: d.Agreement, Logger: d.Logger, Match: ms}), nil
}

// Of returns the operations area of a node.
func Of(h area.Holder) *Service { return area.Find[*Service](h) }

// Name is the area's name.
func (s *Service) Name() string { return Name }

// Kinds are the kinds the partner sends.
func (s *Service) Kinds() []area.Kind {
	return []area.Kind{
		{Kind: KindStep, Version: 1, Handler: link.HandlerFunc(s.applyStep)},
		{Kind: KindReport, Version: 1, Handler: link.HandlerFunc(s.applyReport)},
		{Kind: KindConflict, Version: 1, Handler: link.HandlerFunc(s.applyConflict)},
		{Kind: KindConflictAck, Version: 1, Handler: link.HandlerFunc(s.applyConflictAck)},
		{Kind: KindConflictResolved, Version: 1, Handler: link.HandlerFunc(s.applyResolved)},
	}
}

// Event: a change to an operation refreshes pages listening on
// "operations:ID" and the lists ("operations"); a report refreshes boards
// ("operations:board").
func (s *Service) Event(ctx context.Context, u *auth.User, e live.Event) (string, string, bool) {
	if e.Topic != Name || !u.Can(auth.OpsRead) {
		return "", "", false
	}
	if e.Key == "board" {
		return Name, "board", true
	}
	op, err := load(ctx, s.db.Read(), e.Key)
	if err != nil || !op.Visible(u, s.self) {
		return "", "", false
	}
	return Name, e.Key, true
}

// Run escalates conflicts close to their operation's start and re-checks
// operations against the partner's newest filter: every Interval, and at
// once when a new filter of the partner's arrives.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	events, _, stop := s.cfg.Hub.Subscribe()
	defer stop()
	for {
		if err := s.escalate(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("operations: escalating conflicts", "err", err)
		}
		if err := s.recheck(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("operations: re-checking operations", "err", err)
		}
		if !s.next(ctx, t.C, events) {
			return nil
		}
	}
}

// next waits for the next reason to work: the ticker, a kick, or a new
// filter of the partner's. It returns false when ctx ends.
func (s *Service) next(ctx context.Context, tick <-chan time.Time, events <-chan live.Event) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-tick:
			return true
		case <-s.wake:
			return true
		case e := <-events:
			if e.Topic == match.Name && e.Key == match.FilterEvent {
				return true
			}
		}
	}
}

// SideFigures are one side's figures.
type SideFigures struct {
	Party            string         `json:"party"`
	Proposed         int            `json:"proposed"`
	Accepted         int            `json:"accepted"` // of the partner's proposals
	Declined         int            `json:"declined"`
	Countered        int            `json:"countered"`
	Pending          int            `json:"pending"`
	Overdue          int            `json:"overdue"`
	Answers          int            `json:"answers"`
	MedianAnswerH    float64        `json:"median_answer_hours"`
	CommitmentHours  int            `json:"commitment_hours"`
	Joint            int            `json:"joint"` // joint operations it proposed
	ConflictsFound   int            `json:"conflicts_found"`
	ResolvedInTime   int            `json:"conflicts_resolved_before_start"`
	JointByPair      map[string]int `json:"joint_by_pair"`
	AfterActionFiled int            `json:"after_action_reports"`
}

// Figures are the area's figures per side, from the mirror operations and
// conflicts both nodes hold alike.
type Figures struct {
	Sides []SideFigures `json:"sides"`
}

// Figures computes the figures.
func (s *Service) Figures(ctx context.Context) (*Figures, error) {
	// Each operation decoded once per change (the figures only read them).
	ops, err := s.figures.Load(ctx, s.db.Read(), `kind = ? AND status <> ?`, Mirror, StatusDraft)
	if err != nil {
		return nil, err
	}
	parties := []string{s.self, s.partner}
	slices.Sort(parties)
	f := &Figures{}
	now := s.Now()
	for _, p := range parties {
		sf := SideFigures{Party: p, JointByPair: map[string]int{}, CommitmentHours: int(s.AnswerDeadline(p, now, false).Sub(now).Hours())}
		var waits []float64
		for _, op := range ops {
			if op.Origin == p {
				sf.Proposed++
				switch op.Status {
				case StatusJoint, StatusActive, StatusConcluded, StatusReported:
					sf.Joint++
					sf.JointByPair[op.Pair]++
				}
				continue
			}
			// p answers op.
			if op.AnsweredAt.IsZero() {
				if op.Status == StatusProposed {
					sf.Pending++
					if now.After(op.AnswerDue) {
						sf.Overdue++
					}
				}
			} else {
				sf.Answers++
				waits = append(waits, op.AnsweredAt.Sub(op.ReleasedAt).Hours())
				if op.Counter != nil || slices.ContainsFunc(op.History, func(e Event) bool { return e.What == StepCountered }) {
					sf.Countered++
				} else if slices.ContainsFunc(op.History, func(e Event) bool { return e.What == StepAccepted }) {
					sf.Accepted++
				} else if op.Status == StatusDeclined {
					sf.Declined++
				}
			}
		}
		for _, op := range ops {
			if sd := op.Sides[p]; sd != nil && !sd.ReportedAt.IsZero() {
				sf.AfterActionFiled++
			}
		}
		if len(waits) > 0 {
			slices.Sort(waits)
			sf.MedianAnswerH = waits[len(waits)/2]
			if len(waits)%2 == 0 {
				sf.MedianAnswerH = (waits[len(waits)/2-1] + waits[len(waits)/2]) / 2
			}
		}
		f.Sides = append(f.Sides, sf)
	}
	// Conflicts: each is held by both nodes under the finder's id.
	crow, err := s.db.Read().Query(ctx, `SELECT doc FROM op_conflicts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading conflicts: %w", err)
	}
	cs, err := store.Collect(crow, scanConflict)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		for i := range f.Sides {
			if f.Sides[i].Party == c.FoundBy {
				f.Sides[i].ConflictsFound++
				if c.Status == "resolved" && (c.From.IsZero() || c.ResolvedAt.Before(c.From)) {
					f.Sides[i].ResolvedInTime++
				}
			}
		}
	}
	return f, nil
}

// Reciprocity is the area's table on the Reciprocity page.
func (s *Service) Reciprocity(ctx context.Context, u *auth.User) (*area.Table, error) {
	if !u.Can(auth.OpsRead) {
		return nil, ErrForbidden
	}
	f, err := s.Figures(ctx)
	if err != nil {
		return nil, err
	}
	t := &area.Table{Area: Name, Title: "area.operations", Live: Name}
	for _, sd := range f.Sides {
		t.Sides = append(t.Sides, sd.Party)
	}
	row := func(label string, cell func(SideFigures) area.Cell) {
		r := area.Row{Label: label}
		for _, sd := range f.Sides {
			r.Cells = append(r.Cells, cell(sd))
		}
		t.Rows = append(t.Rows, r)
	}
	count := func(label string, n func(SideFigures) int) {
		row(label, func(sd SideFigures) area.Cell { return area.Cell{Value: strconv.Itoa(n(sd))} })
	}
	count("ops.recip.proposed", func(sd SideFigures) int { return sd.Proposed })
	count("ops.recip.joint", func(sd SideFigures) int { return sd.Joint })
	count("ops.recip.accepted", func(sd SideFigures) int { return sd.Accepted })
	count("ops.recip.countered", func(sd SideFigures) int { return sd.Countered })
	count("ops.recip.declined", func(sd SideFigures) int { return sd.Declined })
	count("ops.recip.pending", func(sd SideFigures) int { return sd.Pending })
	row("ops.recip.overdue", func(sd SideFigures) area.Cell {
		return area.Cell{Value: strconv.Itoa(sd.Overdue), Bad: sd.Overdue > 0}
	})
	row("ops.recip.median_answer", func(sd SideFigures) area.Cell {
		if sd.Answers == 0 {
			return area.Cell{Value: "—"}
		}
		return area.Cell{Value: fmt.Sprintf("%.1f", sd.MedianAnswerH), Key: "ops.recip.hours", Bad: sd.MedianAnswerH > float64(sd.CommitmentHours)}
	})
	row("ops.recip.commitment", func(sd SideFigures) area.Cell {
		return area.Cell{Value: strconv.Itoa(sd.CommitmentHours), Key: "ops.recip.hours"}
	})
	row("ops.recip.by_pair", func(sd SideFigures) area.Cell {
		var parts []string
		for _, p := range border.Pairs {
			if n := sd.JointByPair[p.ID]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", p.Name(), n))
			}
		}
		if len(parts) == 0 {
			return area.Cell{Value: "—"}
		}
		return area.Cell{Value: strings.Join(parts, "; ")}
	})
	count("ops.recip.conflicts_found", func(sd SideFigures) int { return sd.ConflictsFound })
	count("ops.recip.conflicts_resolved", func(sd SideFigures) int { return sd.ResolvedInTime })
	count("ops.recip.after_action", func(sd SideFigures) int { return sd.AfterActionFiled })
	return t, nil
}
