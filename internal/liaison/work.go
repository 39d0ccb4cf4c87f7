package liaison

import (
	"context"

	"puente/internal/area"
	"puente/internal/auth"
)

// Work is the threads with messages u has not read, newest first.
func (s *Service) Work(ctx context.Context, u *auth.User) (string, []area.WorkItem, error) {
	if !u.Can(auth.LiaisonRead) || u.Can(auth.ReadAll) {
		return "thread", nil, nil
	}
	ts, err := s.List(ctx, u, "", 200)
	if err != nil {
		return "thread", nil, err
	}
	var out []area.WorkItem
	for _, t := range ts {
		if t.Unread > 0 {
			out = append(out, area.WorkItem{Key: "work.unread", Title: t.Subject, Link: "/threads/" + t.ID})
		}
	}
	return "thread", out, nil
}
