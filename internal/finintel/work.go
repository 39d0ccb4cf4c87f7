package finintel

import (
	"context"
	"fmt"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/store"
)

// Work is what waits for u in financial intelligence: its own drafts,
// submitted drafts for a supervisor who neither wrote nor submitted them,
// the partner's consent requests for those who decide them, and the
// partner's requests to us that are open, with their deadlines.
func (s *Service) Work(ctx context.Context, u *auth.User) (string, []area.WorkItem, error) {
	if !u.Can(auth.FinIntelRead) || u.Can(auth.ReadAll) || !s.isFIU(u) {
		return Name, nil, nil
	}
	var out []area.WorkItem
	if u.Can(auth.FinIntelWrite) {
		ds, err := s.List(ctx, u, ListFilter{Direction: "sent", Status: StatusDraft})
		if err != nil {
			return Name, nil, err
		}
		for _, d := range ds {
			if d.CreatedBy == u.Username {
				out = append(out, area.WorkItem{Key: "fi.work.draft", Title: d.Title, Link: "/finintel/d/" + d.ID})
			}
		}
	}
	if u.Can(auth.FinIntelRelease) {
		ds, err := s.List(ctx, u, ListFilter{Direction: "sent", Status: StatusSubmitted})
		if err != nil {
			return Name, nil, err
		}
		for _, d := range ds {
			if d.CreatedBy != u.Username && d.SubmittedBy != u.Username {
				out = append(out, area.WorkItem{Key: "fi.work.release", Title: d.Title, Link: "/finintel/d/" + d.ID})
			}
		}
	}
	if u.Can(auth.FinIntelConsent) {
		cond, args := visible(u, "d")
		rows, err := s.db.Read().Query(ctx, `SELECT d.id, d.title, c.agency, c.use_kind FROM consents c JOIN disclosures d ON d.id = c.disclosure_id
			WHERE c.status = ? AND d.origin = ? AND `+cond+` ORDER BY c.requested_at`, append([]any{ConsentPending, s.self}, args...)...)
		if err != nil {
			return Name, nil, fmt.Errorf("reading consent requests: %w", err)
		}
		items, err := store.Collect(rows, func(r store.Scanner) (area.WorkItem, error) {
			var id, title, agency, use string
			err := r.Scan(&id, &title, &agency, &use)
			who := agency
			if who == "" {
				who = use
			}
			return area.WorkItem{Key: "fi.work.consent", Title: title, Link: "/finintel/d/" + id, Who: who}, err
		})
		if err != nil {
			return Name, nil, err
		}
		out = append(out, items...)
	}
	rs, err := s.ListRFIs(ctx, u, "received")
	if err != nil {
		return Name, nil, err
	}
	for _, r := range rs {
		if r.Status == RFIOpen || r.Status == RFIPartial {
			out = append(out, area.WorkItem{Key: "fi.work.rfi", Title: r.Title, Link: "/finintel/r/" + r.ID, Due: r.DeadlineAt, Overdue: r.Overdue})
		}
	}
	return Name, out, nil
}
