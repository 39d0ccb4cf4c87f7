package finintel

import (
	"context"
	"fmt"
	"strconv"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/live"
)

// Name is the area's name.
const Name = "finintel"

// Open builds the financial-intelligence area for a node.
func Open(d area.Deps) (area.Area, error) {
	return New(Config{DB: d.DB, Link: d.Link, Hub: d.Hub, Trust: d.Trust, Agreement: d.Agreement, Lists: d.Lists, Logger: d.Logger}), nil
}

// Of returns the financial-intelligence area of a node.
func Of(h area.Holder) *Service { return area.Find[*Service](h) }

// Name is the area's name.
func (s *Service) Name() string { return Name }

// Event says which disclosure or request an event is about, for users of
// the FIUs' agencies who may see it; the partner's access reports about
// our disclosures refresh them too.
func (s *Service) Event(ctx context.Context, u *auth.User, e live.Event) (string, string, bool) {
	key := ""
	switch e.Topic {
	case "finintel":
		key = e.Key
	case "access":
		id, ok := s.DisclosureOfEnvelope(ctx, e.Key)
		if !ok {
			return "", "", false
		}
		key = "d:" + id
	default:
		return "", "", false
	}
	return "finintel", key, u.Can(auth.FinIntelRead) && s.CanSee(ctx, u, key)
}

// Reciprocity is the area's ledger per side, for the Reciprocity page.
func (s *Service) Reciprocity(ctx context.Context, u *auth.User) (*area.Table, error) {
	if !u.Can(auth.FinIntelRead) {
		return nil, ErrForbidden
	}
	f, err := s.Figures(ctx)
	if err != nil {
		return nil, err
	}
	t := &area.Table{Area: Name, Title: "area.finintel", Live: "finintel"}
	for _, side := range f.Sides {
		t.Sides = append(t.Sides, side.Party)
	}
	row := func(label string, cell func(Side) area.Cell) {
		r := area.Row{Label: label}
		for _, side := range f.Sides {
			r.Cells = append(r.Cells, cell(side))
		}
		t.Rows = append(t.Rows, r)
	}
	count := func(label string, n func(Side) int) {
		row(label, func(sd Side) area.Cell { return area.Cell{Value: strconv.Itoa(n(sd))} })
	}
	months := area.Months(f.At, area.TrendMonths)
	row("recip.disclosures_sent", func(sd Side) area.Cell {
		return area.Cell{Value: strconv.Itoa(sd.DisclosuresSent), Trend: area.Trend(months, sd.SentByMonth)}
	})
	count("recip.disclosures_received", func(sd Side) int { return sd.DisclosuresReceived })
	count("recip.rfis_sent", func(sd Side) int { return sd.RFIsSent })
	count("recip.rfis_received", func(sd Side) int { return sd.RFIsReceived })
	count("recip.rfis_answered", func(sd Side) int { return sd.RFIsAnswered })
	count("recip.rfis_declined", func(sd Side) int { return sd.RFIsDeclined })
	count("recip.rfis_open", func(sd Side) int { return sd.RFIsOpen })
	row("recip.rfis_overdue", func(sd Side) area.Cell {
		return area.Cell{Value: strconv.Itoa(sd.RFIsOverdue), Bad: sd.RFIsOverdue > 0}
	})
	row("recip.median", func(sd Side) area.Cell {
		if sd.Responses == 0 {
			return area.Cell{Value: "—"}
		}
		return area.Cell{Value: fmt.Sprintf("%.1f", sd.MedianResponseDays), Key: "recip.days", Bad: sd.MedianResponseDays > float64(sd.CommitmentDays)}
	})
	count("recip.responses", func(sd Side) int { return sd.Responses })
	row("recip.commitment", func(sd Side) area.Cell {
		return area.Cell{Value: strconv.Itoa(sd.CommitmentDays), Key: "recip.days"}
	})
	count("recip.consents_requested", func(sd Side) int { return sd.ConsentsRequested })
	count("recip.consents_granted", func(sd Side) int { return sd.ConsentsGranted })
	count("recip.consents_denied", func(sd Side) int { return sd.ConsentsDenied })
	count("recip.consents_pending", func(sd Side) int { return sd.ConsentsPending })
	count("recip.feedback_sent", func(sd Side) int { return sd.FeedbackSent })
	count("recip.recalls_asked", func(sd Side) int { return sd.RecallsAsked })
	count("recip.recalls_honoured", func(sd Side) int { return sd.RecallsHonoured })
	return t, nil
}
