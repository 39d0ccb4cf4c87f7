package operations

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/border"
	"puente/internal/fault"
	"puente/internal/link"
	"puente/internal/store"
)

// Steps of a mirror operation, as they cross the link.
const (
	StepProposed        = "proposed"
	StepAccepted        = "accepted"
	StepDeclined        = "declined"
	StepCountered       = "countered"
	StepCounterAccepted = "counter_accepted"
	StepStarted         = "started"
	StepConcluded       = "concluded"
	StepPostponed       = "postponed"
	StepCancelled       = "cancelled"
	StepAfterAction     = "after_action"
)

// Step is one change to an operation by one side: what a user asks for,
// and what the envelope operations.step carries to the partner.
type Step struct {
	ID     string     `json:"id"`
	Step   string     `json:"step"`
	At     time.Time  `json:"at"`
	By     string     `json:"by"`
	Op     *Operation `json:"operation,omitempty"` // proposed: the shared document
	Side   *Side      `json:"side,omitempty"`      // accepted, countered: the side's part; after_action: its report
	Start  time.Time  `json:"start,omitzero"`      // countered, postponed
	End    time.Time  `json:"end,omitzero"`
	Reason string     `json:"reason,omitempty"`
}

// Answer is what a user enters to accept or counter a proposal, to
// postpone, or to file an after-action report.
type Answer struct {
	Units       []Unit   `json:"units"`
	Areas       []Area   `json:"areas"`
	Contact     string   `json:"contact"`
	Start       string   `json:"start"`
	End         string   `json:"end"`
	Reason      string   `json:"reason"`
	AfterAction string   `json:"after_action"`
	Results     *Results `json:"results"`
}

// apply checks st, taken by side, against op and applies it. It is the
// one rule for a user's step here and the partner's step arriving.
func apply(op *Operation, side string, st *Step) error {
	other := op.Origin != side
	switch st.Step {
	case StepAccepted:
		if op.Status != StatusProposed || !other || st.Side == nil {
			return ErrState
		}
		op.Sides[side] = st.Side
		op.Status, op.AnsweredAt = StatusJoint, st.At
	case StepCountered:
		if op.Status != StatusProposed || !other || st.Side == nil {
			return ErrState
		}
		op.Counter = &Counter{Side: side, Start: st.Start, End: st.End, Areas: st.Side.Areas, Reason: st.Reason, By: st.By, At: st.At}
		op.Sides[side] = st.Side
		op.Status, op.AnsweredAt = StatusCountered, st.At
	case StepCounterAccepted:
		if op.Status != StatusCountered || op.Counter == nil || op.Counter.Side == side {
			return ErrState
		}
		op.Start, op.End = op.Counter.Start, op.Counter.End
		op.Counter = nil
		op.Status = StatusJoint
	case StepDeclined:
		switch {
		case op.Status == StatusProposed && other:
			op.AnsweredAt = st.At
		case op.Status == StatusCountered && op.Counter != nil && op.Counter.Side != side:
		default:
			return ErrState
		}
		op.Status, op.Reason = StatusDeclined, st.Reason
	case StepStarted:
		if op.Status != StatusJoint && op.Status != StatusPlanned {
			return ErrState
		}
		if st.At.Before(op.Start.Add(-time.Hour)) || st.At.After(op.End) {
			return fault.New(fault.ErrConflict, "outside_window", "an operation starts within its window (or up to an hour before)")
		}
		op.Status = StatusActive
	case StepConcluded:
		if op.Status != StatusActive {
			return ErrState
		}
		op.Status = StatusConcluded
	case StepPostponed:
		if !slices.Contains([]string{StatusProposed, StatusCountered, StatusJoint, StatusPlanned}, op.Status) {
			return ErrState
		}
		if !st.Start.After(op.Start) {
			return fault.Field("start", "postpone_is_later")
		}
		op.Start, op.End, op.Reason = st.Start, st.End, st.Reason
	case StepCancelled:
		if !slices.Contains([]string{StatusDraft, StatusProposed, StatusCountered, StatusJoint, StatusPlanned}, op.Status) {
			return ErrState
		}
		op.Status, op.Reason = StatusCancelled, st.Reason
	case StepAfterAction:
		if op.Status != StatusConcluded && op.Status != StatusReported {
			return ErrState
		}
		sd := op.Sides[side]
		if sd == nil || st.Side == nil {
			return ErrState
		}
		sd.AfterAction, sd.Results, sd.ReportedAt, sd.ReportedBy = st.Side.AfterAction, st.Side.Results, st.At, st.By
		done := true
		for _, p := range op.parties() {
			if op.Sides[p] == nil || op.Sides[p].ReportedAt.IsZero() {
				done = false
			}
		}
		if done {
			op.Status = StatusReported
		}
	default:
		return ErrState
	}
	op.event(st.At, side, st.By, st.Step, st.Reason)
	return nil
}

// already reports whether op is already where step would take it, so the
// partner's same step, taken at the same time as ours, changes nothing.
func already(op *Operation, step string) bool {
	switch step {
	case StepStarted:
		return op.Status == StatusActive || op.Status == StatusConcluded || op.Status == StatusReported
	case StepConcluded:
		return op.Status == StatusConcluded || op.Status == StatusReported
	case StepCancelled:
		return op.Status == StatusCancelled
	case StepDeclined:
		return op.Status == StatusDeclined
	}
	return false
}

// parties are the sides that take part: the origin, and for a mirror
// operation the partner too.
func (op *Operation) parties() []string {
	if op.Kind == Unilateral {
		return []string{op.Origin}
	}
	var out []string
	for p := range op.Sides {
		out = append(out, p)
	}
	slices.Sort(out)
	if len(out) < 2 {
		return []string{op.Origin, "?"}
	}
	return out
}

// Release is the second pair of eyes: a supervisor who did not draft it
// sends a mirror operation to the partner, with the deadline of the
// partner's commitment.
func (s *Service) Release(ctx context.Context, u *auth.User, id string) (*Operation, error) {
	var out *Operation
	err := s.onOwn(ctx, u, auth.OpsRelease, id, []string{StatusDraft}, func(ctx context.Context, tx *store.Tx, op *Operation) error {
		if op.Origin != s.self || op.Kind != Mirror {
			return ErrState
		}
		if op.CreatedBy == u.Username {
			return ErrFourEyes
		}
		now := s.Now()
		if now.After(op.End) {
			return fault.Field("end", "in_the_past")
		}
		op.Status, op.ReleasedBy, op.ReleasedAt = StatusProposed, u.Username, now
		op.AnswerDue = s.AnswerDeadline(s.partner, now, op.Urgent)
		op.event(now, s.self, u.Username, StepProposed, "")
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindStep, Version: 1, Stream: stream(id), Caveats: op.Caveats,
			Body: Step{ID: id, Step: StepProposed, At: now, By: u.Username, Op: op.Shared()}}); err != nil {
			return fmt.Errorf("sending operation: %w", err)
		}
		if err := s.save(ctx, tx, op, false); err != nil {
			return err
		}
		if err := s.index(ctx, tx, op); err != nil {
			return err
		}
		out = op
		return s.log.Record(ctx, tx, KindLogReleased, "operation:"+id, "author="+op.CreatedBy)
	})
	if err == nil {
		s.checkSoon(id)
	}
	return out, err
}

// Take is a user's step on operation id: accept, counter, decline,
// accept the counter, start, conclude, postpone, cancel, or file the
// after-action report. A mirror operation's step crosses to the partner
// in the same transaction.
func (s *Service) Take(ctx context.Context, u *auth.User, id, step string, a Answer) (*Operation, error) {
	if !slices.Contains([]string{StepAccepted, StepCountered, StepDeclined, StepCounterAccepted, StepStarted, StepConcluded, StepPostponed, StepCancelled, StepAfterAction}, step) {
		return nil, fault.Field("step", "unknown_step")
	}
	if !slices.Contains(OpsAgencies[s.self], u.Agency) && !u.Can(auth.ReadAll) {
		return nil, ErrForbidden
	}
	var out *Operation
	reindex := false
	err := s.onOwn(ctx, u, auth.OpsWrite, id, Statuses, func(ctx context.Context, tx *store.Tx, op *Operation) error {
		now := s.Now()
		st := &Step{ID: id, Step: step, At: now, By: u.Username}
		if err := s.fill(op, st, a, now); err != nil {
			return err
		}
		if err := apply(op, s.self, st); err != nil {
			return err
		}
		if step == StepAccepted || step == StepCountered {
			op.Sides[s.self].Agencies = []string{u.Agency}
			st.Side.Agencies = op.Sides[s.self].Agencies
			if err := s.unitsFree(ctx, tx, op); err != nil {
				return err
			}
		}
		if err := s.save(ctx, tx, op, false); err != nil {
			return err
		}
		if op.Kind == Mirror && (op.Origin != s.self || !op.ReleasedAt.IsZero()) {
			shared := *st
			if shared.Side != nil {
				sd := *shared.Side
				sd.Units = slices.DeleteFunc(slices.Clone(sd.Units), func(u Unit) bool { return !u.Shared })
				shared.Side = &sd
			}
			if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindStep, Version: 1, Stream: stream(id), Caveats: op.Caveats, Body: shared}); err != nil {
				return fmt.Errorf("sending the step: %w", err)
			}
		}
		// Our part of the operation is what the index holds for it.
		switch {
		case !op.Open():
			reindex = true
			if err := s.unindex(ctx, tx, op); err != nil {
				return err
			}
		case step == StepAccepted || step == StepCountered || step == StepPostponed || step == StepCounterAccepted:
			reindex = true
			if err := s.index(ctx, tx, op); err != nil {
				return err
			}
		}
		out = op
		kind := KindLogChanged
		switch step {
		case StepAccepted, StepCountered, StepDeclined, StepCounterAccepted:
			kind = KindLogAnswered
		case StepAfterAction:
			kind = KindLogReported
		}
		return s.log.Record(ctx, tx, kind, "operation:"+id, "step="+step)
	})
	if err == nil && reindex && out.Open() {
		s.checkSoon(id)
	}
	return out, err
}

// fill turns a user's answer into the step's payload, checked.
func (s *Service) fill(op *Operation, st *Step, a Answer, now time.Time) error {
	pair, _ := border.PairByID(op.Pair)
	needReason := func() error {
		if err := text("reason", a.Reason, MaxText, true); err != nil {
			return err
		}
		st.Reason = strings.TrimSpace(a.Reason)
		return nil
	}
	window := func() error {
		start, err := ParseTime("start", a.Start, pair.Zone(s.self))
		if err != nil {
			return err
		}
		end, err := ParseTime("end", a.End, pair.Zone(s.self))
		if err != nil {
			return err
		}
		if err := checkWindow(start, end, now); err != nil {
			return err
		}
		st.Start, st.End = start, end
		return nil
	}
	switch st.Step {
	case StepAccepted, StepCountered:
		if op.Origin == s.self {
			return ErrState
		}
		if err := checkAreas("areas", a.Areas, s.self, true); err != nil {
			return err
		}
		if err := checkUnits("units", a.Units, s.self, true); err != nil {
			return err
		}
		if err := text("contact", a.Contact, MaxShort, true); err != nil {
			return err
		}
		st.Side = &Side{Units: a.Units, Areas: a.Areas, Contact: strings.TrimSpace(a.Contact)}
		if st.Step == StepCountered {
			if err := window(); err != nil {
				return err
			}
			return needReason()
		}
	case StepDeclined, StepCancelled:
		return needReason()
	case StepPostponed:
		if err := window(); err != nil {
			return err
		}
		return needReason()
	case StepAfterAction:
		if err := text("after_action", a.AfterAction, MaxText, true); err != nil {
			return err
		}
		r := a.Results
		if r == nil {
			r = &Results{}
		}
		if r.Arrests < 0 || r.Seizures < 0 || r.Weapons < 0 || r.CashUSD < 0 {
			return fault.Field("results", "negative")
		}
		if len(r.Refs) > 50 {
			return fault.Field("results.refs", "too_many")
		}
		for i, ref := range r.Refs {
			if err := text(fmt.Sprintf("results.refs[%d]", i), ref, MaxShort, true); err != nil {
				return err
			}
		}
		st.Side = &Side{AfterAction: strings.TrimSpace(a.AfterAction), Results: r}
	}
	return nil
}

// applyStep applies the partner's step to our copy.
func (s *Service) applyStep(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var st Step
	if err := link.DecodeBody(env, &st); err != nil {
		return err
	}
	if !link.ValidID(st.ID) || env.Stream != stream(st.ID) || st.At.IsZero() || text("by", st.By, MaxShort, true) != nil {
		return link.Reject("operation step does not fit stream %s", env.Stream)
	}
	st.At = st.At.UTC()
	if st.Step == StepProposed {
		return s.applyProposal(ctx, tx, &st)
	}
	op, err := load(ctx, tx, st.ID)
	if errors.Is(err, ErrNotFound) {
		return link.Reject("step %s on operation %s, which we do not know", st.Step, st.ID)
	} else if err != nil {
		return err
	}
	if op.Kind != Mirror {
		return link.Reject("step on a unilateral operation")
	}
	if err := s.checkPartnerStep(op, &st); err != nil {
		return link.Reject("step %s does not check: %v", st.Step, err)
	}
	if already(op, st.Step) {
		// Both sides took the same step at once (both started it, say):
		// ours came first here, theirs is in the history, nothing else
		// changes.
		op.event(st.At, s.partner, st.By, st.Step, st.Reason)
		return s.save(ctx, tx, op, false)
	}
	if err := apply(op, s.partner, &st); err != nil {
		return link.Reject("step %s on operation %s in status %s: %v", st.Step, st.ID, op.Status, err)
	}
	if err := s.save(ctx, tx, op, false); err != nil {
		return err
	}
	switch {
	case !op.Open():
		return s.unindex(ctx, tx, op)
	case op.Sides[s.self] != nil && (st.Step == StepPostponed || st.Step == StepCounterAccepted):
		// The window moved: our part of it is indexed and checked anew.
		if err := s.index(ctx, tx, op); err != nil {
			return err
		}
		id := op.ID
		tx.AfterCommit(func() { s.checkSoon(id) })
	}
	return nil
}

// checkPartnerStep checks what the partner sends with a step.
func (s *Service) checkPartnerStep(op *Operation, st *Step) error {
	switch st.Step {
	case StepAccepted, StepCountered:
		if st.Side == nil {
			return errors.New("no side")
		}
		if err := checkSide(st.Side, s.partner); err != nil {
			return err
		}
		if st.Step == StepCountered && (!st.End.After(st.Start) || st.End.Sub(st.Start) > MaxWindow) {
			return errors.New("the counter's window does not check")
		}
	case StepPostponed:
		if !st.End.After(st.Start) || st.End.Sub(st.Start) > MaxWindow {
			return errors.New("the new window does not check")
		}
	case StepAfterAction:
		if st.Side == nil || text("after_action", st.Side.AfterAction, MaxText, true) != nil || st.Side.Results == nil {
			return errors.New("the report does not check")
		}
	}
	if text("reason", st.Reason, MaxText, false) != nil {
		return errors.New("the reason does not check")
	}
	if (st.Step == StepDeclined || st.Step == StepCancelled || st.Step == StepPostponed || st.Step == StepCountered) && strings.TrimSpace(st.Reason) == "" {
		return errors.New("no reason")
	}
	return nil
}

// checkSide checks the partner's part of an operation: its units of its
// agencies, its areas on its side.
func checkSide(sd *Side, party string) error {
	if err := checkUnits("units", sd.Units, party, false); err != nil {
		return err
	}
	if err := checkAreas("areas", sd.Areas, party, true); err != nil {
		return err
	}
	if err := text("contact", sd.Contact, MaxShort, true); err != nil {
		return err
	}
	for _, a := range sd.Agencies {
		if !slices.Contains(OpsAgencies[party], a) {
			return fault.Field("agencies", "unknown_agency")
		}
	}
	return nil
}

// applyProposal stores the partner's released mirror operation.
func (s *Service) applyProposal(ctx context.Context, tx *store.Tx, st *Step) error {
	op := st.Op
	switch {
	case op == nil || op.ID != st.ID:
		return link.Reject("proposal without its operation")
	case op.Origin != s.partner || op.Kind != Mirror || op.Status != StatusProposed:
		return link.Reject("a proposal is the partner's mirror operation, proposed")
	case op.ReleasedBy == "" || op.ReleasedBy == op.CreatedBy:
		return link.Reject("the proposal was not released by a second pair of eyes")
	case len(op.Sides) != 1 || op.Sides[s.partner] == nil:
		return link.Reject("a proposal carries the partner's side only")
	case len(op.Targets) > 0:
		return link.Reject("targets never cross the link")
	case !op.End.After(op.Start) || op.End.Sub(op.Start) > MaxWindow:
		return link.Reject("the window does not check")
	case !op.AnswerDue.Equal(s.AnswerDeadline(s.self, op.ReleasedAt, op.Urgent)):
		return link.Reject("answer due %s is not our commitment", op.AnswerDue.Format(time.RFC3339))
	}
	if _, ok := border.PairByID(op.Pair); !ok {
		return link.Reject("unknown sector pair %q", op.Pair)
	}
	if text("title", op.Title, MaxShort, true) != nil || !slices.Contains(Objectives, op.Objective) || text("created_by", op.CreatedBy, MaxShort, true) != nil {
		return link.Reject("the proposal's title, objective or author does not check")
	}
	if err := checkSide(op.Sides[s.partner], s.partner); err != nil {
		return link.Reject("the partner's side does not check: %v", err)
	}
	if len(op.Counterpart) == 0 {
		return link.Reject("the proposal asks no counterpart")
	}
	for _, a := range op.Counterpart {
		if !slices.Contains(OpsAgencies[s.self], a) {
			return link.Reject("counterpart %q is not one of our agencies", a)
		}
	}
	op.Counter, op.Reason = nil, ""
	if err := s.save(ctx, tx, op, true); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return link.Reject("operation %s already exists", op.ID)
		}
		return err
	}
	return nil
}
