package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/link"
	"puente/internal/store"
)

var (
	fieldNotPassed      = fault.Field("result", "not_passed")
	fieldNotCertificate = fault.Field("file", "not_a_certificate")
)

// Step is one step of either side on an offer, as it crosses the link.
type Step struct {
	Offer string    `json:"offer"`
	Step  string    `json:"step"`
	At    time.Time `json:"at"`
	By    string    `json:"by"`
	// Nomination is the new nomination (nominate, substitute).
	Nomination *Nomination `json:"nomination,omitempty"`
	// NominationID is the nomination the step is about.
	NominationID string      `json:"nomination_id,omitempty"`
	Vetting      *Vetting    `json:"vetting,omitempty"`
	Day          *Day        `json:"day,omitempty"`
	Result       string      `json:"result,omitempty"`
	Hours        int         `json:"hours,omitempty"`
	Reason       string      `json:"reason,omitempty"`
	Commitment   *Commitment `json:"commitment,omitempty"`
	Report       *Report     `json:"report,omitempty"`
	// Certificate is the signed certificate file (certify).
	Certificate json.RawMessage `json:"certificate,omitempty"`
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// apply checks a step of side against o and applies it: the one rule for
// our user's step and the partner's arriving.
func apply(o *Offer, side string, st *Step) error {
	switch {
	case slices.Contains(nomineeSteps, st.Step):
		if side != o.Nominee {
			return ErrState
		}
	case slices.Contains(eitherSteps, st.Step):
		if o.Type != TypeExercise {
			return ErrExercise
		}
	case slices.Contains(Steps, st.Step):
		if side != o.Origin {
			return ErrState
		}
	default:
		return fault.Field("step", "unknown_step")
	}
	if o.Status == StatusDraft || (o.Status != StatusPublished && st.Step != StepReport && st.Step != StepRevoke) {
		return ErrState
	}
	var n *Nomination
	if st.NominationID != "" {
		if n = o.Nomination(st.NominationID); n == nil {
			return fault.Field("nomination_id", "unknown_nomination")
		}
	} else if st.Step != StepNominate && st.Step != StepCancel && st.Step != StepComplete && st.Step != StepCommit && st.Step != StepReport {
		return fault.Field("nomination_id", "required")
	}
	// The history names the nomination, and a value the page translates
	// ("vet.approved"); the detail keeps what is not a word (a date, a
	// certificate's id).
	nom, value, detail := st.NominationID, "", ""
	switch st.Step {
	case StepNominate:
		if day(st.At) > o.NominateBy {
			return fault.Field("nominate_by", "nominations_closed")
		}
		if err := o.addNomination(st); err != nil {
			return err
		}
		nom = st.Nomination.ID
	case StepSubstitute:
		if !n.Open() {
			return ErrState
		}
		if day(st.At) >= o.Start {
			return fault.Field("start", "course_started")
		}
		n.Status, n.Reason = NomSubstituted, st.Reason
		if err := o.addNomination(st); err != nil {
			return err
		}
		nom, detail = st.Nomination.ID, n.ID // the new nominee, and the one replaced
	case StepWithdraw:
		if !n.Open() || n.Result != "" {
			return ErrState
		}
		n.Status, n.Reason = NomWithdrawn, st.Reason
	case StepVet:
		if !o.Vetting {
			return ErrNoVetting
		}
		if !n.Active() {
			return ErrState
		}
		v := st.Vetting
		if v == nil || !slices.Contains(VetStatuses, v.Status) {
			return fault.Field("vetting.status", "unknown_value")
		}
		if v.Status != VetPending {
			d, err := date("vetting.date", v.Date)
			if err != nil {
				return err
			}
			if d.After(st.At) {
				return fault.Field("vetting.date", "in_the_future")
			}
			if err := text("vetting.unit_vetted", v.Unit, MaxShort, true); err != nil {
				return err
			}
		}
		n.Vetting = &Vetting{Status: v.Status, Date: v.Date, Unit: v.Unit, By: st.By, At: st.At}
		if v.Status != VetApproved && n.Status == NomConfirmed {
			n.Status = NomNominated // a seat needs standing vetting
		}
		value = "vet." + v.Status
	case StepConfirm:
		if n.Status != NomNominated && n.Status != NomWaitlisted {
			return ErrState
		}
		if o.Vetting && (n.Vetting == nil || n.Vetting.Status != VetApproved) {
			return fault.Field("vetting", "vetting_not_approved")
		}
		if o.Count(NomConfirmed) >= o.Seats {
			return fault.Field("seats", "no_seats_left")
		}
		n.Status = NomConfirmed
	case StepWaitlist:
		if !o.Waitlist {
			return ErrNoList
		}
		if n.Status != NomNominated && n.Status != NomConfirmed {
			return ErrState
		}
		n.Status = NomWaitlisted
	case StepDecline:
		if !n.Active() || n.Result != "" {
			return ErrState
		}
		if strings.TrimSpace(st.Reason) == "" {
			return fault.Field("reason", "required")
		}
		n.Status, n.Reason = NomDeclined, st.Reason
	case StepAttend:
		if n.Status != NomConfirmed || n.Result != "" {
			return ErrState
		}
		d := st.Day
		if d == nil {
			return fault.Field("date", "required")
		}
		if _, err := date("date", d.Date); err != nil {
			return err
		}
		if !slices.Contains(o.Days(), d.Date) {
			return fault.Field("date", "outside_course")
		}
		if d.Date > day(st.At) {
			return fault.Field("date", "in_the_future")
		}
		if d.Hours < 0 || d.Hours > 24 {
			return fault.Field("hours", "out_of_range")
		}
		att := slices.DeleteFunc(slices.Clone(n.Attendance), func(x Day) bool { return x.Date == d.Date })
		att = append(att, Day{Date: d.Date, Hours: d.Hours})
		slices.SortFunc(att, func(a, b Day) int { return strings.Compare(a.Date, b.Date) })
		total := 0
		for _, x := range att {
			total += x.Hours
		}
		if total > o.Hours {
			return fault.Field("hours", "over_total")
		}
		n.Attendance = att
		detail = d.Date
	case StepResult:
		if n.Status != NomConfirmed {
			return ErrState
		}
		if n.Certificate != "" {
			return ErrIssued
		}
		if !slices.Contains(Results, st.Result) {
			return fault.Field("result", "unknown_value")
		}
		if day(st.At) < o.Start {
			return fault.Field("result", "course_not_started")
		}
		h := st.Hours
		if h == 0 {
			h = n.AttendedHours()
		}
		if h < 0 || h > o.Hours {
			return fault.Field("hours", "over_total")
		}
		if st.Result == ResultPassed && h == 0 {
			return fault.Field("hours", "required")
		}
		n.Result, n.Hours = st.Result, h
		value = "result." + st.Result
	case StepCertify:
		if n.Result != ResultPassed {
			return fault.Field("result", "not_passed")
		}
		if n.Certificate != "" {
			return ErrIssued
		}
		c, err := ParseCertificate(st.Certificate)
		if err != nil {
			return fault.Field("certificate", "invalid_certificate")
		}
		if c.Issuer != o.Origin || c.Course.ID != o.ID || c.Participant.Nomination != n.ID || c.Hours != n.Hours || c.Participant.Name != n.Participant.Name {
			return fault.Field("certificate", "does_not_match")
		}
		n.Certificate = c.ID
		detail = c.ID
	case StepRevoke:
		if n.Certificate == "" {
			return ErrNoCert
		}
		if strings.TrimSpace(st.Reason) == "" {
			return fault.Field("reason", "required")
		}
		detail = n.Certificate
	case StepCancel:
		if strings.TrimSpace(st.Reason) == "" {
			return fault.Field("reason", "required")
		}
		o.Status = StatusCancelled
	case StepComplete:
		if day(st.At) < o.End {
			return fault.Field("end", "course_not_over")
		}
		o.Status = StatusCompleted
	case StepCommit:
		c := st.Commitment
		if c == nil {
			return fault.Field("commitment", "required")
		}
		if err := checkCommitment(c, side); err != nil {
			return err
		}
		c.By, c.At = st.By, st.At
		if o.Commitments == nil {
			o.Commitments = map[string]*Commitment{}
		}
		o.Commitments[side] = c
	case StepReport:
		r := st.Report
		if r == nil {
			return fault.Field("report.summary", "required")
		}
		if day(st.At) < o.Start {
			return fault.Field("report", "exercise_not_started")
		}
		if err := text("report.summary", r.Summary, MaxText, true); err != nil {
			return err
		}
		if len(r.Lessons) > 50 {
			return fault.Field("report.lessons", "too_many")
		}
		for i, l := range r.Lessons {
			if err := text(fmt.Sprintf("report.lessons[%d]", i), l, MaxText, true); err != nil {
				return err
			}
		}
		o.Reports = append(o.Reports, Report{Side: side, By: st.By, At: st.At, Summary: r.Summary, Lessons: r.Lessons})
	}
	o.History = append(o.History, Event{At: st.At, Side: side, By: st.By, What: st.Step, Nomination: nom, Value: value, Detail: detail})
	return nil
}

// addNomination adds st.Nomination, checked by the caller's side, as a
// waiting nomination, or on the waiting list when the seats are taken.
func (o *Offer) addNomination(st *Step) error {
	n := st.Nomination
	if n == nil {
		return fault.Field("participant.name", "required")
	}
	if len(o.Nominations) >= MaxNominations {
		return fault.Field("nominations", "too_many")
	}
	if o.Nomination(n.ID) != nil {
		return fault.Field("nomination_id", "already_nominated")
	}
	for _, m := range o.Nominations {
		if m.Active() && m.Participant.IDType == n.Participant.IDType && m.Participant.NationalID == n.Participant.NationalID {
			return fault.Field("participant.national_id", "already_nominated")
		}
	}
	n.Status, n.NominatedBy, n.NominatedAt, n.Vetting, n.Attendance, n.Result, n.Hours, n.Certificate, n.Reason = NomNominated, st.By, st.At, nil, nil, "", 0, "", ""
	n.Substitutes = st.NominationID
	if o.Count(NomNominated, NomConfirmed) >= o.Seats {
		if !o.Waitlist {
			return fault.Field("seats", "no_seats_left")
		}
		n.Status = NomWaitlisted
	}
	if o.Vetting {
		n.Vetting = &Vetting{Status: VetPending}
	}
	// Due within the commitment, and by the end of the course's first day
	// at the latest (a nomination on that day is due that day).
	start, _ := time.Parse(time.DateOnly, o.Start)
	n.VettingDue = st.At.AddDate(0, 0, o.VettingDays)
	if last := start.Add(24*time.Hour - time.Second); n.VettingDue.After(last) {
		n.VettingDue = last
	}
	o.Nominations = append(o.Nominations, n)
	return nil
}

func checkCommitment(c *Commitment, side string) error {
	if len(c.Units) == 0 {
		return fault.Field("commitment.units", "required")
	}
	if len(c.Units) > 100 {
		return fault.Field("commitment.units", "too_many")
	}
	for i, un := range c.Units {
		if err := text(fmt.Sprintf("commitment.units[%d].name", i), un.Name, MaxShort, true); err != nil {
			return err
		}
		if !slices.Contains(authAgencies(side), un.Agency) {
			return fault.Field(fmt.Sprintf("commitment.units[%d].agency", i), "unknown_agency")
		}
		if un.Personnel < 0 || un.Personnel > 100000 {
			return fault.Field(fmt.Sprintf("commitment.units[%d].personnel", i), "out_of_range")
		}
	}
	for k, v := range c.Resources {
		if !slices.Contains(ResourceKinds, k) {
			return fault.Field("commitment.resources", "unknown_value")
		}
		if v < 0 || v > 100000 {
			return fault.Field("commitment.resources", "out_of_range")
		}
	}
	return nil
}

func authAgencies(side string) []string { return auth.Agencies[side] }

// may reports whether u may take step on our side of o.
func may(u *auth.User, step string) bool {
	if u.Can(auth.ReadAll) {
		return false
	}
	switch step {
	case StepRevoke, StepCancel:
		return u.Can(auth.TrainRelease) && u.Can(auth.TrainWrite)
	}
	return u.Can(auth.TrainWrite)
}

// Act takes u's step on offer id and sends it to the partner. A passing
// result issues the participant's certificate in the same transaction.
func (s *Service) Act(ctx context.Context, u *auth.User, id string, in Step) (*Offer, error) {
	if !may(u, in.Step) {
		return nil, ErrForbidden
	}
	if err := text("reason", in.Reason, MaxText, false); err != nil {
		return nil, err
	}
	var out *Offer
	err := s.onOffer(ctx, u, id, func(ctx context.Context, tx *store.Tx, o *Offer) error {
		now := s.Now()
		st := &Step{Offer: id, Step: in.Step, At: now, By: u.Username, NominationID: in.NominationID, Vetting: in.Vetting, Day: in.Day, Result: in.Result,
			Hours: in.Hours, Reason: strings.TrimSpace(in.Reason), Commitment: in.Commitment, Report: in.Report}
		if in.Step == StepNominate || in.Step == StepSubstitute {
			if in.Nomination == nil {
				return fault.Field("participant.name", "required")
			}
			p := in.Nomination.Participant
			if err := normParticipant(&p, s.self, o); err != nil {
				return err
			}
			st.Nomination = &Nomination{ID: link.NewID(), Participant: p}
		}
		steps := []*Step{st}
		if in.Step == StepCertify {
			steps = nil
		}
		for _, st := range steps {
			if err := apply(o, s.self, st); err != nil {
				return err
			}
		}
		if (in.Step == StepResult && in.Result == ResultPassed) || in.Step == StepCertify {
			c, err := s.certify(ctx, tx, o, in.NominationID, now, u.Username)
			if err != nil {
				return err
			}
			steps = append(steps, c)
		}
		for _, st := range steps {
			if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindStep, Version: 1, Stream: stream(id), Caveats: s.cav(), Body: st}); err != nil {
				return fmt.Errorf("sending the training step: %w", err)
			}
			if err := s.log.Record(ctx, tx, KindLogStep, "training:"+id, strings.TrimSpace("step="+st.Step+" "+st.NominationID)); err != nil {
				return err
			}
			if st.Step == StepRevoke {
				if err := s.revoke(ctx, tx, o.Nomination(st.NominationID).Certificate, st); err != nil {
					return err
				}
			}
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.shown(u, out), nil
}

// applyStep applies the partner's step to an offer both sides hold. A
// step that crossed one of ours that ended the nomination or the offer
// (a confirmation of a nomination we withdrew meanwhile) is kept in the
// history and changes nothing, so both sides end in the same state.
func (s *Service) applyStep(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var st Step
	if err := link.DecodeBody(env, &st); err != nil {
		return err
	}
	if !link.ValidID(st.Offer) || env.Stream != stream(st.Offer) || st.At.IsZero() || text("by", st.By, MaxShort, true) != nil {
		return link.Reject("training step does not fit stream %s", env.Stream)
	}
	o, err := load(ctx, tx, st.Offer)
	if errors.Is(err, ErrNotFound) {
		return link.Reject("training step on offer %s, which we do not know", st.Offer)
	} else if err != nil {
		return err
	}
	st.At = st.At.UTC()
	if st.Nomination != nil {
		if !link.ValidID(st.Nomination.ID) {
			return link.Reject("training nomination id %q", st.Nomination.ID)
		}
		if err := normParticipant(&st.Nomination.Participant, s.partner, o); err != nil {
			return link.Reject("training nomination does not check: %v", err)
		}
	}
	if s.crossed(o, &st) {
		o.event(st.At, s.partner, st.By, st.Step, "crossed")
		return s.save(ctx, tx, o, false)
	}
	if err := apply(o, s.partner, &st); err != nil {
		return link.Reject("training step %s on offer %s: %v", st.Step, o.ID, err)
	}
	switch st.Step {
	case StepCertify:
		k, err := keysOf(s.cfg.Agreement, s.cfg.AgreementHash)
		if err != nil {
			return err
		}
		c, err := VerifyCertificate(st.Certificate, k)
		if err != nil || len(c.Problems) > 0 {
			return link.Reject("training certificate on offer %s does not verify: %v %v", o.ID, err, c.problems())
		}
		if err := s.storeCertificate(ctx, tx, o, c.Certificate, st.Certificate); err != nil {
			return err
		}
	case StepRevoke:
		if err := s.revoke(ctx, tx, o.Nomination(st.NominationID).Certificate, &st); err != nil {
			return err
		}
	}
	if err := s.save(ctx, tx, o, false); err != nil {
		return err
	}
	return s.log.Record(ctx, tx, KindLogStep, "training:"+o.ID, "step="+st.Step+" by="+s.partner)
}

// crossed reports whether the partner's step found the nomination or the
// offer already ended by one of our own steps it could not have seen.
func (s *Service) crossed(o *Offer, st *Step) bool {
	if o.Status == StatusCancelled && st.Step != StepReport {
		return o.Origin == s.self
	}
	if n := o.Nomination(st.NominationID); n != nil && o.Nominee == s.self && st.Step != StepRevoke {
		return n.Status == NomWithdrawn || n.Status == NomSubstituted
	}
	return false
}
