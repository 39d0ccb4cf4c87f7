package extradition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/input"
	"puente/internal/link"
	"puente/internal/store"
)

// KindCaseAssurance carries an assurance as the requesting side gives it
// and, later, as it stands (honoured, or withdrawn by agreement).
const KindCaseAssurance = "extradition.case.assurance"

// KindLogAssurance logs an assurance given or its new status.
const KindLogAssurance = "extradition.case.assurance"

// Kinds of assurances the requesting side gives.
var AssuranceKinds = []string{"no_death_penalty", "speciality", "no_life_without_parole", "credit_for_time_served", "other"}

// Assurance statuses: an obligation is open while given.
const (
	AssuranceGiven    = "given"
	AssuranceHonoured = "honoured"
	AssuranceBreached = "breached"
)

// AssuranceStatuses lists them.
var AssuranceStatuses = []string{AssuranceGiven, AssuranceHonoured, AssuranceBreached}

// Assurance is an undertaking of the requesting side, tracked as an
// obligation until the outcome.
type Assurance struct {
	ID      string    `json:"id"`
	Case    string    `json:"case"`
	Kind    string    `json:"kind"`
	Text    string    `json:"text"`
	Date    string    `json:"date"` // given on (YYYY-MM-DD)
	Status  string    `json:"status"`
	Outcome string    `json:"outcome,omitempty"` // what happened, when no longer open
	Side    string    `json:"side"`
	Agency  string    `json:"agency"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// Open reports whether the obligation still runs.
func (a *Assurance) Open() bool { return a.Status == AssuranceGiven }

func checkAssurance(a *Assurance, now time.Time) error {
	if !slices.Contains(AssuranceKinds, a.Kind) {
		return fault.Field("kind", "invalid_assurance_kind")
	}
	if err := input.Text("text", a.Text, MaxText, input.Required|input.Multiline); err != nil {
		return err
	}
	if err := date("date", a.Date, now, true); err != nil {
		return err
	}
	if !slices.Contains(AssuranceStatuses, a.Status) {
		return fault.Field("status", "invalid_status")
	}
	if a.Status != AssuranceGiven && strings.TrimSpace(a.Outcome) == "" {
		return fault.Field("outcome", "required")
	}
	return input.Text("outcome", a.Outcome, MaxText, input.Multiline)
}

// GiveAssurance records an assurance our side, the requesting one, gives
// in a case, or (with in.ID set) the new status of one it gave: an open
// one becomes honoured or breached, with what happened; a closed one
// changes no more.
func (s *Service) GiveAssurance(ctx context.Context, u *auth.User, caseID string, in Assurance) (*Assurance, error) {
	if !s.MayWrite(u) {
		return nil, ErrForbidden
	}
	var out *Assurance
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		c, err := loadCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if c.Requesting != s.self {
			return fault.Field("case", "not_requesting")
		}
		a := Assurance{ID: link.NewID(), Case: caseID, Kind: in.Kind, Text: strings.TrimSpace(in.Text), Date: strings.TrimSpace(in.Date), Status: AssuranceGiven}
		if in.ID != "" {
			i := slices.IndexFunc(c.Assurances, func(x Assurance) bool { return x.ID == in.ID })
			if i < 0 {
				return fault.Field("id", "unknown_assurance")
			}
			if !c.Assurances[i].Open() {
				return fault.Field("status", "assurance_closed")
			}
			a = c.Assurances[i]
			a.Status, a.Outcome = in.Status, strings.TrimSpace(in.Outcome)
			if a.Status == AssuranceGiven {
				return fault.Field("status", "invalid_status")
			}
		} else if c.Closed() && c.Current() != Surrendered {
			return fault.Field("case", "case_closed")
		}
		a.Side, a.Agency, a.By, a.At = s.self, u.Agency, u.Username, s.Now()
		if err := checkAssurance(&a, s.Now()); err != nil {
			return err
		}
		upsertAssurance(c, a)
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindCaseAssurance, Version: 1, Stream: caseStream(caseID), Caveats: s.DefaultCaveats(), Body: a}); err != nil {
			return fmt.Errorf("sending the assurance: %w", err)
		}
		if err := s.saveCase(ctx, tx, c, false); err != nil {
			return err
		}
		out = &a
		return s.log.Record(ctx, tx, KindLogAssurance, "case:"+caseID, "kind="+a.Kind+" status="+a.Status)
	})
	return out, err
}

func upsertAssurance(c *Case, a Assurance) {
	if i := slices.IndexFunc(c.Assurances, func(x Assurance) bool { return x.ID == a.ID }); i >= 0 {
		c.Assurances[i] = a
		return
	}
	c.Assurances = append(c.Assurances, a)
}

// applyAssurance records the partner's assurance, or its new status.
func (s *Service) applyAssurance(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var a Assurance
	if err := link.DecodeBody(env, &a); err != nil {
		return err
	}
	if !link.ValidID(a.ID) || env.Stream != caseStream(a.Case) || a.Side != s.partner || a.At.IsZero() ||
		text("by", a.By, MaxShort, true) != nil || !slices.Contains(Agencies[s.partner], a.Agency) {
		return link.Reject("assurance does not fit stream %s", env.Stream)
	}
	if err := checkAssurance(&a, time.Now().Add(24*time.Hour)); err != nil {
		return link.Reject("assurance %s does not check: %v", a.ID, err)
	}
	c, err := loadCase(ctx, tx, a.Case)
	if errors.Is(err, ErrCaseNotFound) {
		return link.Reject("assurance in case %s, which we do not know", a.Case)
	} else if err != nil {
		return err
	}
	if c.Requesting != s.partner {
		return link.Reject("assurance in case %s from the side that is not requesting", a.Case)
	}
	if i := slices.IndexFunc(c.Assurances, func(x Assurance) bool { return x.ID == a.ID }); i >= 0 && !c.Assurances[i].Open() {
		return link.Reject("assurance %s changed after it closed", a.ID)
	}
	a.At = a.At.UTC()
	upsertAssurance(c, a)
	c.Envelopes = append(c.Envelopes, env.ID)
	if err := s.saveCase(ctx, tx, c, false); err != nil {
		return err
	}
	return s.log.Record(ctx, tx, KindLogAssurance, "case:"+c.ID, "kind="+a.Kind+" status="+a.Status+" by="+s.partner)
}
