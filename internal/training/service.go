package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"puente/internal/agreement"
	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/ident"
	"puente/internal/identity"
	"puente/internal/input"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/store"
	"puente/internal/traces"
	"puente/internal/trustlog"
)

// Name is the area's name.
const Name = "training"

// Link kinds (version 1), on the stream "training:o:ID" of each sender:
// the offer as published, and every later step of either side.
const (
	KindOffer = "training.offer"
	KindStep  = "training.step"
)

// Log entry kinds.
const (
	KindLogDrafted   = "training.drafted"
	KindLogPublished = "training.published"
	KindLogReceived  = "training.received"
	KindLogStep      = "training.step"
	KindLogIssued    = "training.certificate.issued"
	KindLogRevoked   = "training.certificate.revoked"
)

// Steps. The nominating side nominates, withdraws and substitutes; the
// offering side vets, confirms, waitlists, declines, records attendance
// and results, revokes certificates, cancels and completes; either side
// commits its units and resources to an exercise and reports after it.
const (
	StepNominate   = "nominate"
	StepWithdraw   = "withdraw"
	StepSubstitute = "substitute"
	StepVet        = "vet"
	StepConfirm    = "confirm"
	StepWaitlist   = "waitlist"
	StepDecline    = "decline"
	StepAttend     = "attend"
	StepResult     = "result"
	StepCertify    = "certify"
	StepRevoke     = "revoke"
	StepCancel     = "cancel"
	StepComplete   = "complete"
	StepCommit     = "commit"
	StepReport     = "report"
)

// Steps lists them.
var Steps = []string{StepNominate, StepWithdraw, StepSubstitute, StepVet, StepConfirm, StepWaitlist, StepDecline, StepAttend, StepResult,
	StepCertify, StepRevoke, StepCancel, StepComplete, StepCommit, StepReport}

var nomineeSteps = []string{StepNominate, StepWithdraw, StepSubstitute}
var eitherSteps = []string{StepCommit, StepReport}

// Errors with a contract.
var (
	ErrForbidden = fmt.Errorf("training: %w", fault.ErrForbidden)
	ErrNotFound  = fmt.Errorf("training offer: %w", fault.ErrNotFound)
	ErrNoCert    = fmt.Errorf("certificate: %w", fault.ErrNotFound)
	ErrState     = fault.New(fault.ErrConflict, "wrong_status", "not possible in the offer's or the nomination's current status")
	ErrFourEyes  = fault.New(fault.ErrForbidden, "four_eyes", "an offer is published by a coordinator who did not draft it")
	ErrExercise  = fault.New(fault.ErrConflict, "not_an_exercise", "units, resources and after-action reports belong to exercises")
	ErrIssued    = fault.New(fault.ErrConflict, "certificate_issued", "the participant holds a certificate: revoke it first")
	ErrNoVetting = fault.New(fault.ErrConflict, "vetting_not_required", "this offer does not require vetting")
	ErrNoList    = fault.New(fault.ErrConflict, "no_waitlist", "this offer has no waiting list")
)

// Config assembles a Service.
type Config struct {
	DB            *store.DB
	Link          *link.Link
	Hub           *live.Hub
	Agreement     *agreement.Agreement
	AgreementHash string
	Identity      *identity.Identity
	Logger        *slog.Logger
	// Traces, when set, is the node's traces area: the figures follow the
	// trace success of agencies whose staff took the tracing course.
	Traces *traces.Service
}

// Service runs the training area of one node.
type Service struct {
	cfg     Config
	db      *store.DB
	link    *link.Link
	log     *trustlog.Log
	self    string
	partner string

	area.Clock
	// figures keeps the published offers decoded for the figures.
	figures *store.Memo[*Offer]
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, db: cfg.DB, link: cfg.Link, log: cfg.Link.TrustLog(), self: cfg.Link.Self(), partner: cfg.Link.Partner()}
	s.figures = store.DocMemo[Offer]("training_offers")
	return s
}

// Self and Partner are the party codes.
func (s *Service) Self() string    { return s.self }
func (s *Service) Partner() string { return s.partner }

// VettingDays is side's commitment, in days, to decide on a nomination to
// one of its offers (the agreement's response days for training).
func (s *Service) VettingDays(side string) int {
	d := s.cfg.Agreement.Commitments[side].ResponseDays[agreement.AreaTraining]
	if d <= 0 {
		d = 30
	}
	return d
}

func stream(id string) string { return "training:o:" + id }

func (s *Service) changed(tx *store.Tx, key string) {
	tx.AfterCommit(func() { s.cfg.Hub.Publish(live.Event{Topic: Name, Key: key}) })
}

// Visible reports whether u may see o on side self: a draft to its side's
// training staff; a published offer to everyone who reads training.
func (o *Offer) Visible(u *auth.User, self string) bool {
	if !u.Can(auth.TrainRead) {
		return false
	}
	if o.Status == StatusDraft {
		return o.Origin == self && (u.Can(auth.TrainWrite) || u.Can(auth.ReadAll))
	}
	return true
}

// SeesIdentifiers reports whether u may see the participants' dates of
// birth and identifiers: training staff and auditors.
func SeesIdentifiers(u *auth.User) bool { return u.Can(auth.TrainWrite) || u.Can(auth.ReadAll) }

func (s *Service) shown(u *auth.User, o *Offer) *Offer {
	if SeesIdentifiers(u) {
		return o
	}
	c := *o
	c.Nominations = make([]*Nomination, len(o.Nominations))
	for i, n := range o.Nominations {
		m := *n
		m.Participant.DOB, m.Participant.NationalID, m.Participant.Withheld = "", "", true
		c.Nominations[i] = &m
	}
	return &c
}

func load(ctx context.Context, q store.Querier, id string) (*Offer, error) {
	o, err := store.ScanJSON[Offer](q.QueryRow(ctx, `SELECT doc FROM training_offers WHERE id = ?`, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading training offer %s: %w", id, err)
	}
	return o, nil
}

func scan(sc store.Scanner) (*Offer, error) { return store.ScanJSON[Offer](sc) }

func (s *Service) save(ctx context.Context, tx *store.Tx, o *Offer, insert bool) error {
	doc, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("encoding training offer: %w", err)
	}
	var pub int64
	if !o.PublishedAt.IsZero() {
		pub = o.PublishedAt.UnixMilli()
	}
	if insert {
		_, err = tx.Exec(ctx, `INSERT INTO training_offers (id, origin, status, start_day, published_at, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			o.ID, o.Origin, o.Status, o.Start, pub, store.Now(), string(doc))
	} else {
		now := store.Now()
		_, err = tx.Exec(ctx, `UPDATE training_offers SET status = ?, start_day = ?, published_at = ?, updated_at = `+store.NextVersion("updated_at")+`, doc = ? WHERE id = ?`,
			o.Status, o.Start, pub, now, now, string(doc), o.ID)
	}
	if err != nil {
		return fmt.Errorf("storing training offer: %w", err)
	}
	s.changed(tx, o.ID)
	return nil
}

func text(field, v string, max int, required bool) error {
	r := input.Rule(0)
	if required {
		r = input.Required
	}
	return input.Text(field, v, max, r)
}

func date(field, v string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, fault.Field(field, "invalid_date")
	}
	return d, nil
}

// checkOffer checks what a coordinator enters for an offer of side (its
// partner nominating).
func checkOffer(o *Offer, partner string) error {
	if err := text("title", o.Title, MaxShort, true); err != nil {
		return err
	}
	if !slices.Contains(Types, o.Type) {
		return fault.Field("type", "unknown_value")
	}
	if !slices.Contains(Subjects, o.Subject) {
		return fault.Field("subject", "unknown_value")
	}
	if !slices.Contains(Languages, o.Language) {
		return fault.Field("language", "unknown_value")
	}
	for _, f := range []struct {
		name, v string
		max     int
		req     bool
	}{{"place", o.Place, MaxShort, true}, {"prerequisites", o.Prerequisites, MaxText, false}, {"scenario", o.Scenario, MaxText, false}} {
		if err := text(f.name, f.v, f.max, f.req); err != nil {
			return err
		}
	}
	start, err := date("start", o.Start)
	if err != nil {
		return err
	}
	end, err := date("end", o.End)
	if err != nil {
		return err
	}
	if end.Before(start) {
		return fault.Field("end", "ends_before_start")
	}
	if end.Sub(start) > 365*24*time.Hour {
		return fault.Field("end", "too_long")
	}
	o.Start, o.End = start.Format(time.DateOnly), end.Format(time.DateOnly)
	if o.NominateBy != "" {
		nb, err := date("nominate_by", o.NominateBy)
		if err != nil {
			return err
		}
		if nb.After(start) {
			return fault.Field("nominate_by", "after_start")
		}
		o.NominateBy = nb.Format(time.DateOnly)
	}
	if o.Seats < 1 || o.Seats > MaxSeats {
		return fault.Field("seats", "out_of_range")
	}
	if o.Hours < 1 || o.Hours > MaxHours {
		return fault.Field("hours", "out_of_range")
	}
	if days := len(o.Days()); o.Hours > days*24 {
		return fault.Field("hours", "more_than_the_days")
	}
	if len(o.Instructors) == 0 && o.Type != TypeExercise {
		return fault.Field("instructors", "required")
	}
	if len(o.Instructors) > MaxInstructors {
		return fault.Field("instructors", "too_many")
	}
	for i, in := range o.Instructors {
		if err := text(fmt.Sprintf("instructors[%d].name", i), in.Name, MaxShort, true); err != nil {
			return err
		}
		if err := text(fmt.Sprintf("instructors[%d].agency", i), in.Agency, MaxShort, true); err != nil {
			return err
		}
	}
	if o.Cost.Amount < 0 || o.Cost.Amount > 1e12 {
		return fault.Field("cost.amount", "out_of_range")
	}
	if o.Cost.Currency == "" {
		o.Cost.Currency = "USD"
	}
	if o.Cost.Currency != "USD" && o.Cost.Currency != "MXN" {
		return fault.Field("cost.currency", "unknown_value")
	}
	if !slices.Contains(Payers, o.Cost.PaidBy) {
		return fault.Field("cost.paid_by", "unknown_value")
	}
	for _, a := range o.Audience {
		if !slices.Contains(auth.Agencies[partner], a) {
			return fault.Field("audience", "unknown_agency")
		}
	}
	return nil
}

// Draft stores an offer of u's agency as a draft for a second coordinator
// to publish.
func (s *Service) Draft(ctx context.Context, u *auth.User, in Offer) (*Offer, error) {
	if !u.Can(auth.TrainWrite) || u.Can(auth.ReadAll) {
		return nil, ErrForbidden
	}
	o := in
	if err := checkOffer(&o, s.partner); err != nil {
		return nil, err
	}
	now := s.Now()
	o.ID, o.Origin, o.Nominee, o.Status, o.Agency, o.DraftedBy, o.CreatedAt = link.NewID(), s.self, s.partner, StatusDraft, u.Agency, u.Username, now
	o.PublishedBy, o.PublishedAt, o.Nominations, o.Commitments, o.Reports, o.History, o.VettingDays = "", time.Time{}, []*Nomination{}, nil, nil, nil, 0
	o.event(now, s.self, u.Username, "drafted", "")
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.save(ctx, tx, &o, true); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, KindLogDrafted, "training:"+o.ID, "type="+o.Type+" subject="+o.Subject)
	})
	return &o, err
}

// Edit replaces the fields of our draft.
func (s *Service) Edit(ctx context.Context, u *auth.User, id string, in Offer) (*Offer, error) {
	if !u.Can(auth.TrainWrite) || u.Can(auth.ReadAll) {
		return nil, ErrForbidden
	}
	if err := checkOffer(&in, s.partner); err != nil {
		return nil, err
	}
	var out *Offer
	err := s.onOffer(ctx, u, id, func(ctx context.Context, tx *store.Tx, o *Offer) error {
		if o.Origin != s.self || o.Status != StatusDraft {
			return ErrState
		}
		o.Title, o.Type, o.Subject, o.Language, o.Place, o.Start, o.End, o.Seats, o.Hours = in.Title, in.Type, in.Subject, in.Language, in.Place, in.Start, in.End, in.Seats, in.Hours
		o.Instructors, o.Prerequisites, o.Cost, o.Vetting, o.Waitlist, o.Audience, o.Scenario, o.NominateBy = in.Instructors, in.Prerequisites, in.Cost, in.Vetting, in.Waitlist, in.Audience, in.Scenario, in.NominateBy
		o.event(s.Now(), s.self, u.Username, "edited", "")
		out = o
		return s.log.Record(ctx, tx, KindLogStep, "training:"+id, "step=edit")
	})
	return out, err
}

func (s *Service) onOffer(ctx context.Context, u *auth.User, id string, f func(context.Context, *store.Tx, *Offer) error) error {
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		o, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if !o.Visible(u, s.self) {
			return ErrNotFound
		}
		if u.Can(auth.ReadAll) {
			return ErrForbidden
		}
		if err := f(ctx, tx, o); err != nil {
			return err
		}
		return s.save(ctx, tx, o, false)
	})
}

func (s *Service) cav() caveats.Caveats {
	return caveats.Caveats{Classification: "RESTRICTED", Purpose: caveats.PurposeIntelligence, RetentionDays: s.cfg.Agreement.Retention[agreement.AreaTraining], ThirdPartyRule: true}
}

// Publish is the second pair of eyes: a coordinator who did not draft it
// sends our offer to the partner, with the deadline for nominations.
func (s *Service) Publish(ctx context.Context, u *auth.User, id string) (*Offer, error) {
	if !u.Can(auth.TrainRelease) {
		return nil, ErrForbidden
	}
	var out *Offer
	err := s.onOffer(ctx, u, id, func(ctx context.Context, tx *store.Tx, o *Offer) error {
		if o.Origin != s.self || o.Status != StatusDraft {
			return ErrState
		}
		if o.DraftedBy == u.Username {
			return ErrFourEyes
		}
		now := s.Now()
		o.VettingDays = s.VettingDays(s.self)
		if o.NominateBy == "" {
			o.NominateBy = defaultNominateBy(o, now)
		}
		o.Status, o.PublishedBy, o.PublishedAt = StatusPublished, u.Username, now
		o.event(now, s.self, u.Username, "published", "")
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindOffer, Version: 1, Stream: stream(id), Caveats: s.cav(), Body: o}); err != nil {
			return fmt.Errorf("sending the offer: %w", err)
		}
		out = o
		return s.log.Record(ctx, tx, KindLogPublished, "training:"+id, "type="+o.Type+" seats="+fmt.Sprint(o.Seats))
	})
	return out, err
}

// defaultNominateBy leaves the offering side its vetting commitment
// before the start (a week when no vetting is needed), never before
// today.
func defaultNominateBy(o *Offer, now time.Time) string {
	start, _ := time.Parse(time.DateOnly, o.Start)
	days := 7
	if o.Vetting {
		days = o.VettingDays
	}
	nb := start.AddDate(0, 0, -days)
	if today := now.UTC().Truncate(24 * time.Hour); nb.Before(today) {
		nb = today
		if nb.After(start) {
			nb = start
		}
	}
	return nb.Format(time.DateOnly)
}

// applyOffer stores the partner's published offer.
func (s *Service) applyOffer(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var o Offer
	if err := link.DecodeBody(env, &o); err != nil {
		return err
	}
	if !link.ValidID(o.ID) || env.Stream != stream(o.ID) || o.Origin != s.partner || o.Nominee != s.self || o.Status != StatusPublished ||
		len(o.Nominations) > 0 || len(o.Commitments) > 0 || len(o.Reports) > 0 || o.VettingDays < 1 {
		return link.Reject("training offer does not fit stream %s", env.Stream)
	}
	if err := checkOffer(&o, s.self); err != nil {
		return link.Reject("training offer %s does not check: %v", o.ID, err)
	}
	if _, err := date("nominate_by", o.NominateBy); err != nil {
		return link.Reject("training offer %s has no deadline for nominations", o.ID)
	}
	if _, err := load(ctx, tx, o.ID); err == nil {
		return link.Reject("training offer %s published twice", o.ID)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	o.Nominations = []*Nomination{}
	if err := s.save(ctx, tx, &o, true); err != nil {
		return err
	}
	return s.log.Record(ctx, tx, KindLogReceived, "training:"+o.ID, "from="+s.partner)
}

// Get returns an offer u may see.
func (s *Service) Get(ctx context.Context, u *auth.User, id string) (*Offer, error) {
	o, err := load(ctx, s.db.Read(), id)
	if err != nil {
		return nil, err
	}
	if !o.Visible(u, s.self) {
		return nil, ErrNotFound
	}
	return s.shown(u, o), nil
}

// Filter narrows a list of offers.
type Filter struct {
	Status string
	Origin string
}

// List returns the offers u may see, the soonest first.
func (s *Service) List(ctx context.Context, u *auth.User, f Filter) ([]*Offer, error) {
	if !u.Can(auth.TrainRead) {
		return nil, ErrForbidden
	}
	q, args := `SELECT doc FROM training_offers WHERE 1 = 1`, []any{}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Origin != "" {
		q += ` AND origin = ?`
		args = append(args, f.Origin)
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY start_day DESC, id LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing training offers: %w", err)
	}
	all, err := store.Collect(rows, scan)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, o := range all {
		if o.Visible(u, s.self) && len(out) < 300 {
			out = append(out, s.shown(u, o))
		}
	}
	return out, nil
}

// normParticipant checks a participant of side nominee and normalises
// the identifier.
func normParticipant(p *Participant, nominee string, o *Offer) error {
	for _, f := range []struct {
		name, v string
		req     bool
	}{{"participant.name", p.Name, true}, {"participant.rank", p.Rank, false}, {"participant.unit", p.Unit, true}} {
		if err := text(f.name, f.v, MaxShort, f.req); err != nil {
			return err
		}
	}
	dob, err := ident.Normalize(ident.DOB, p.DOB, ident.Context{})
	if err != nil || len(dob) != len(time.DateOnly) {
		return fault.Field("participant.dob", "invalid_date")
	}
	p.DOB = dob
	if !slices.Contains(IDTypes, p.IDType) {
		return fault.Field("participant.id_type", "unknown_value")
	}
	country := map[string]string{"MX": "MEX", "US": "USA"}[nominee]
	raw := p.NationalID
	if p.IDType == "passport" {
		// A normalised passport ("MEX:G1234567") checks again as it is.
		raw = strings.TrimPrefix(raw, country+":")
	}
	id, err := ident.Normalize(ident.Kind(p.IDType), raw, ident.Context{Country: country})
	if err != nil {
		return fault.Field("participant.national_id", "invalid_identifier")
	}
	p.NationalID = id
	if !slices.Contains(auth.Agencies[nominee], p.Agency) {
		return fault.Field("participant.agency", "unknown_agency")
	}
	if len(o.Audience) > 0 && !slices.Contains(o.Audience, p.Agency) {
		return fault.Field("participant.agency", "not_invited")
	}
	p.Withheld = false
	return nil
}
