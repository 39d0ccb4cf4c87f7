package seizures

import (
	"context"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/operations"
)

// Open builds the seizures area of a node. A seizure may belong to an
// operation of the operations area, which node.Areas opens before it.
func Open(d area.Deps) (area.Area, error) {
	return New(Config{DB: d.DB, Link: d.Link, Hub: d.Hub, Agreement: d.Agreement, Logger: d.Logger,
		Operations: area.Find[*operations.Service](d.Opened)}), nil
}

// Of returns the seizures area of a node.
func Of(h area.Holder) *Service { return area.Find[*Service](h) }

// Name is the area's name.
func (s *Service) Name() string { return Name }

// Kinds are the kinds the partner sends.
func (s *Service) Kinds() []area.Kind {
	return []area.Kind{{Kind: KindReleased, Version: 1, Handler: link.HandlerFunc(s.applyReleased)}}
}

// Event: a change to a seizure refreshes its page ("seizures:ID") and the
// lists and dashboard ("seizures:*"), for users who may see it.
func (s *Service) Event(ctx context.Context, u *auth.User, e live.Event) (string, string, bool) {
	if e.Topic != Name || !u.Can(auth.SeizRead) {
		return "", "", false
	}
	sz, err := load(ctx, s.db.Read(), e.Key)
	if err != nil || !sz.Visible(u, s.self) {
		// The figures changed all the same.
		return Name, "figures", true
	}
	return Name, e.Key, true
}

// Work is what waits for u: our seizures submitted for release, for a
// supervisor of the seizing agency who did not record them; the user's
// own returned ones.
func (s *Service) Work(ctx context.Context, u *auth.User) (string, []area.WorkItem, error) {
	if !u.Can(auth.SeizWrite) || u.Can(auth.ReadAll) {
		return Name, nil, nil
	}
	list, err := s.List(ctx, u, Filter{Side: s.self, Status: StatusSubmitted, Limit: 50})
	if err != nil {
		return Name, nil, err
	}
	var out []area.WorkItem
	for _, sz := range list {
		if u.Can(auth.SeizRelease) && sz.CreatedBy != u.Username {
			out = append(out, area.WorkItem{Key: "sz.work.release", Title: sz.Title(), Link: "/seizures/s/" + sz.ID})
		}
	}
	return Name, out, nil
}
