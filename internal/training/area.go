package training

import (
	"context"
	"slices"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/traces"
)

// Open builds the training area of a node, after the traces area (whose
// figures show the later use of the tracing course).
func Open(d area.Deps) (area.Area, error) {
	return New(Config{DB: d.DB, Link: d.Link, Hub: d.Hub, Agreement: d.Agreement, AgreementHash: d.AgreementHash, Identity: d.Identity, Logger: d.Logger,
		Traces: area.Find[*traces.Service](d.Opened)}), nil
}

// Of returns the training area of a node.
func Of(h area.Holder) *Service { return area.Find[*Service](h) }

// Name is the area's name.
func (s *Service) Name() string { return Name }

// Kinds are the kinds the partner sends.
func (s *Service) Kinds() []area.Kind {
	return []area.Kind{
		{Kind: KindOffer, Version: 1, Handler: link.HandlerFunc(s.applyOffer)},
		{Kind: KindStep, Version: 1, Handler: link.HandlerFunc(s.applyStep)},
	}
}

// Event: a change to an offer refreshes its page ("training:ID") and the
// lists, figures and certificates, for users who read training.
func (s *Service) Event(ctx context.Context, u *auth.User, e live.Event) (string, string, bool) {
	if e.Topic != Name || !u.Can(auth.TrainRead) {
		return "", "", false
	}
	return Name, e.Key, true
}

// Work is what waits for a training coordinator: our drafts to publish (a
// coordinator who did not draft them), the partner's nominations to vet
// and answer by the commitment's date, the partner's offers still open
// for nominations, results to record for our courses that ended.
func (s *Service) Work(ctx context.Context, u *auth.User) (string, []area.WorkItem, error) {
	if !u.Can(auth.TrainWrite) || u.Can(auth.ReadAll) {
		return Name, nil, nil
	}
	list, err := s.List(ctx, u, Filter{})
	if err != nil {
		return Name, nil, err
	}
	now := s.Now()
	today := day(now)
	var out []area.WorkItem
	for _, o := range list {
		it := area.WorkItem{Title: o.Title, Link: "/training/o/" + o.ID}
		switch {
		case o.Origin == s.self && o.Status == StatusDraft:
			if !u.Can(auth.TrainRelease) || o.DraftedBy == u.Username {
				continue
			}
			it.Key = "trn.work.publish"
		case o.Origin == s.self && o.Status == StatusPublished && o.End < today && slices.ContainsFunc(o.Nominations, func(n *Nomination) bool { return n.Status == NomConfirmed && n.Result == "" }):
			it.Key = "trn.work.results"
		case o.Origin == s.self && o.Status == StatusPublished:
			var due *Nomination
			for _, n := range o.Nominations {
				if n.Active() && n.Status != NomConfirmed && (n.Vetting == nil || n.Vetting.Status == VetPending || n.Vetting.Status == VetApproved) &&
					(due == nil || n.VettingDue.Before(due.VettingDue)) {
					due = n
				}
			}
			if due == nil {
				continue
			}
			it.Key, it.Due, it.Overdue = "trn.work.answer", due.VettingDue, now.After(due.VettingDue)
		case o.Nominee == s.self && o.Status == StatusPublished && today <= o.NominateBy && o.Count(NomNominated, NomConfirmed, NomWaitlisted) == 0:
			it.Key = "trn.work.nominate"
			if nb, err := time.Parse(time.DateOnly, o.NominateBy); err == nil {
				it.Due = nb.Add(24*time.Hour - time.Second) // the end of the last day
			}
		default:
			continue
		}
		out = append(out, it)
	}
	return Name, out, nil
}
