package finintel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"puente/internal/screen"
	"puente/internal/store"
)

// Run seals expired disclosures, sends reminders and screens incoming
// subjects until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	var listsChanged <-chan struct{}
	if l := s.lists(); l != nil {
		listsChanged = l.Watch()
	}
	for {
		if err := s.tick(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("finintel worker", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		case <-listsChanged:
		}
	}
}

func (s *Service) tick(ctx context.Context) error {
	if _, err := s.SealExpired(ctx); err != nil {
		return err
	}
	if _, err := s.Remind(ctx); err != nil {
		return err
	}
	return s.ScreenPending(ctx)
}

// yearFits: a known birth year must agree (within a year) with one the
// list gives, when it gives any.
func yearFits(year int, years []int) bool {
	if year == 0 || len(years) == 0 {
		return true
	}
	for _, y := range years {
		if y >= year-1 && y <= year+1 {
			return true
		}
	}
	return false
}

// StrongName is the score at which a name match stands even when the birth
// years disagree: lists' birth dates are often wrong, approximate or
// several, and a full, rare name must not be erased by a different year.
const StrongName = 0.92

// flagOf is the flag a screening candidate raises for a subject's name,
// if any: a match whose birth year fits, or a strong name match with the
// discrepancy named.
func flagOf(subject, name string, year int, c screen.Candidate) (Flag, bool) {
	if !c.Match {
		return Flag{}, false
	}
	f := Flag{Subject: subject, Name: name, List: c.List, ListID: c.ID, Matched: c.MatchedName, Score: c.Score, Agencies: c.Agencies}
	if yearFits(year, c.BirthYears) {
		return f, true
	}
	if c.Score < StrongName {
		return Flag{}, false
	}
	f.YearDiffers, f.Year, f.ListedYears = true, year, c.BirthYears
	return f, true
}

func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ScreenPending screens the subjects of received disclosures against this
// node's sanctions lists and stores the strong matches as flags.
func (s *Service) ScreenPending(ctx context.Context) error {
	lists := s.lists()
	if lists == nil {
		return nil
	}
	if _, err := lists.Screener(); errors.Is(err, screen.ErrNoLists) {
		return nil
	}
	// The node's own lists (its priority targets) changed since the
	// received disclosures were screened: screen them again.
	if v := lists.OwnVersion(); v != s.ownScreened.Load() {
		if s.ownScreened.Swap(v) != 0 {
			err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE disclosures SET screened_at = 0 WHERE origin = ? AND screened_at > 0 AND sealed_at = 0`, s.partner)
				return err
			})
			if err != nil {
				return fmt.Errorf("screening again: %w", err)
			}
		}
	}
	// Batches of 50 until none is left (after the own lists changed, all
	// of them wait).
	for {
		n, err := s.screenBatch(ctx, lists)
		if err != nil || n < 50 || ctx.Err() != nil {
			return err
		}
	}
}

// screenBatch screens up to 50 received disclosures not screened yet and
// says how many it took.
func (s *Service) screenBatch(ctx context.Context, lists *screen.Lists) (int, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT id, content FROM disclosures WHERE origin = ? AND screened_at = 0 AND sealed_at = 0 LIMIT 50`, s.partner)
	if err != nil {
		return 0, fmt.Errorf("finding disclosures to screen: %w", err)
	}
	type item struct{ id, content string }
	var items []item
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.id, &it.content); err != nil {
			rows.Close()
			return 0, err
		}
		items = append(items, it)
	}
	rows.Close()
	if len(items) == 0 {
		return 0, nil
	}
	sc, err := lists.Screener()
	if err != nil {
		return 0, fmt.Errorf("loading sanctions lists: %w", err)
	}
	for _, it := range items {
		var c Content
		if err := json.Unmarshal([]byte(it.content), &c); err != nil {
			return 0, fmt.Errorf("screening disclosure %s: reading its content: %w", it.id, err)
		}
		flags := []Flag{}
		for _, sub := range c.Subjects {
			year := 0
			if len(sub.DOB) >= 4 {
				fmt.Sscanf(sub.DOB[:4], "%d", &year)
			}
			for _, n := range append([]string{sub.FullName()}, sub.Aliases...) {
				// A one-word nickname alone is no strong evidence.
				if len(strings.Fields(n)) < 2 {
					continue
				}
				typ := "individual"
				if sub.Type == "company" {
					typ = "entity"
				}
				for _, cand := range sc.Screen(screen.Query{Type: typ, Name: n, Year: year, Limit: 3}) {
					if f, ok := flagOf(sub.Ref, n, year, cand); ok {
						flags = append(flags, f)
					}
				}
			}
		}
		raw, _ := json.Marshal(flags)
		id := it.id
		err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE disclosures SET screened_at = ?, screening = ? WHERE id = ? AND sealed_at = 0`, s.Now().UnixMilli(), string(raw), id); err != nil {
				return fmt.Errorf("storing screening: %w", err)
			}
			s.changed(tx, "d:"+id)
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return len(items), nil
}
