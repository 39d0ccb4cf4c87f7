package traces

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
	"puente/internal/input"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/seizures"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// Name is the area's name.
const Name = "traces"

// Link kinds (version 1), on the stream "traces:t:ID": the request (and
// its corrected resubmission) from the requesting side, each step of the
// tracing side back.
const (
	KindRequest = "traces.request"
	KindUpdate  = "traces.update"
)

// Log entry kinds.
const (
	KindLogPrepared = "traces.prepared"
	KindLogMerged   = "traces.merged"
	KindLogChanged  = "traces.changed"
	KindLogSent     = "traces.submitted"
	KindLogReceived = "traces.received"
	KindLogStep     = "traces.step"
)

// Steps of the tracing side.
const (
	StepAccept      = "accept"
	StepReturn      = "return"
	StepProgress    = "progress"
	StepComplete    = "complete"
	StepNotComplete = "not_complete"
)

// Steps lists them.
var Steps = []string{StepAccept, StepReturn, StepProgress, StepComplete, StepNotComplete}

// Errors with a contract.
var (
	ErrForbidden = fmt.Errorf("traces: %w", fault.ErrForbidden)
	ErrNotFound  = fmt.Errorf("trace: %w", fault.ErrNotFound)
	ErrState     = fault.New(fault.ErrConflict, "wrong_status", "not possible in the trace's current status")
	ErrNoTracer  = fault.New(fault.ErrConflict, "partner_does_not_trace", "the agreement does not have the partner trace firearms")
	ErrFourEyes  = fault.New(fault.ErrForbidden, "four_eyes", "a trace is submitted by a sponsor who did not prepare it")
)

// Config assembles a Service.
type Config struct {
	DB        *store.DB
	Link      *link.Link
	Hub       *live.Hub
	Agreement *agreement.Agreement
	Logger    *slog.Logger
	// Seizures, when set, is the node's seizures area: a trace may be
	// prepared from a seizure's firearms.
	Seizures *seizures.Service
}

// Service runs the traces of one node.
type Service struct {
	cfg     Config
	db      *store.DB
	link    *link.Link
	log     *trustlog.Log
	self    string
	partner string

	area.Clock
	// figures keeps the submitted traces decoded for the figures.
	figures *store.Memo[*Trace]
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, db: cfg.DB, link: cfg.Link, log: cfg.Link.TrustLog(), self: cfg.Link.Self(), partner: cfg.Link.Partner()}
	s.figures = store.DocMemo[Trace]("traces")
	return s
}

// Self and Partner are the party codes.
func (s *Service) Self() string    { return s.self }
func (s *Service) Partner() string { return s.partner }

// Traces reports whether side traces firearms for the other.
func (s *Service) Traces(side string) bool { return s.cfg.Agreement.Commitments[side].TracesFirearms }

// Deadline is when the tracing side must answer a trace submitted at t.
func (s *Service) Deadline(tracer string, t time.Time, priority string) time.Time {
	if priority == Urgent {
		return t.Add(24 * time.Hour)
	}
	days := s.cfg.Agreement.Commitments[tracer].ResponseDays[agreement.AreaTraces]
	if days <= 0 {
		days = 10
	}
	return t.Add(time.Duration(days) * 24 * time.Hour)
}

func stream(id string) string { return "traces:t:" + id }

func (s *Service) changed(tx *store.Tx, key string) {
	tx.AfterCommit(func() { s.cfg.Hub.Publish(live.Event{Topic: Name, Key: key}) })
}

// Visible reports whether u may see t on side self: a request of ours to
// the preparing agency and the sponsors; one of the partner's to the
// agencies that trace; everything to auditors.
func (t *Trace) Visible(u *auth.User, self string) bool {
	if u.Can(auth.ReadAll) {
		return true
	}
	if !u.Can(auth.TraceRead) {
		return false
	}
	if t.Origin == self {
		return u.Agency == t.Agency || slices.Contains(SponsorAgencies[self], u.Agency)
	}
	return slices.Contains(TraceAgencies[self], u.Agency)
}

func load(ctx context.Context, q store.Querier, id string) (*Trace, error) {
	t, err := store.ScanJSON[Trace](q.QueryRow(ctx, `SELECT doc FROM traces WHERE id = ?`, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading trace %s: %w", id, err)
	}
	return t, nil
}

func scan(sc store.Scanner) (*Trace, error) { return store.ScanJSON[Trace](sc) }

func (s *Service) save(ctx context.Context, tx *store.Tx, t *Trace, insert bool) error {
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding trace: %w", err)
	}
	var sub int64
	if !t.SubmittedAt.IsZero() {
		sub = t.SubmittedAt.UnixMilli()
	}
	if insert {
		_, err = tx.Exec(ctx, `INSERT INTO traces (id, origin, status, agency, gun, submitted_at, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Origin, t.Status, t.Agency, t.Firearm.Key(), sub, store.Now(), string(doc))
	} else {
		now := store.Now()
		_, err = tx.Exec(ctx, `UPDATE traces SET status = ?, gun = ?, submitted_at = ?, updated_at = `+store.NextVersion("updated_at")+`, doc = ? WHERE id = ?`,
			t.Status, t.Firearm.Key(), sub, now, now, string(doc), t.ID)
	}
	if err != nil {
		return fmt.Errorf("storing trace: %w", err)
	}
	s.changed(tx, t.ID)
	return nil
}

func text(field, v string, max int, required bool) error {
	r := input.Rule(0)
	if required {
		r = input.Required
	}
	return input.Text(field, v, max, r)
}

// checkRequest checks the fields a requester enters; the completeness
// check (Check) is separate: it warns, this refuses.
func checkRequest(t *Trace, now time.Time) error {
	if t.Priority != Routine && t.Priority != Urgent {
		return fault.Field("priority", "unknown_value")
	}
	if !slices.Contains(CrimeCodes, t.CrimeCode) {
		return fault.Field("crime_code", "unknown_value")
	}
	if t.Firearm.Type != "" && !slices.Contains(FirearmTypes, t.Firearm.Type) {
		return fault.Field("firearm.type", "unknown_value")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"justification", t.Justification, MaxText}, {"officer", t.Officer, MaxShort}, {"case_number", t.Case, 60},
		{"firearm.manufacturer", t.Firearm.Manufacturer, MaxShort}, {"firearm.model", t.Firearm.Model, MaxShort}, {"firearm.calibre", t.Firearm.Calibre, 30},
		{"firearm.importer", t.Firearm.Importer, MaxShort}, {"firearm.markings", t.Firearm.Markings, MaxText}, {"possessor.name", t.Possessor.Name, MaxShort},
		{"possessor.address", t.Possessor.Address, MaxShort}, {"recovery.place", t.Recovery.Place, MaxShort}, {"recovery.case_number", t.Recovery.Case, 60}} {
		if err := text(f.name, f.v, f.max, false); err != nil {
			return err
		}
	}
	t.Firearm.Serial = NormSerial(t.Firearm.Serial)
	if t.Firearm.Serial != "" && !serialRE.MatchString(t.Firearm.Serial) {
		return fault.Field("firearm.serial", "invalid_serial")
	}
	if t.Firearm.Serial == "" && !t.Firearm.Obliterated {
		return fault.Field("firearm.serial", "serial_or_obliterated")
	}
	t.Firearm.Country = strings.ToUpper(strings.TrimSpace(t.Firearm.Country))
	if t.Firearm.Country != "" && (len(t.Firearm.Country) != 2 || strings.Trim(t.Firearm.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		return fault.Field("firearm.country", "invalid_country")
	}
	if t.Recovery.Date != "" {
		d, err := time.Parse("2006-01-02", t.Recovery.Date)
		if err != nil {
			return fault.Field("recovery.date", "invalid_date")
		}
		if d.After(now) {
			return fault.Field("recovery.date", "in_the_future")
		}
	}
	if t.Possessor.DOB != "" {
		if _, err := time.Parse("2006-01-02", t.Possessor.DOB); err != nil {
			return fault.Field("possessor.dob", "invalid_date")
		}
	}
	if len(t.Possessor.Aliases) > 10 {
		return fault.Field("possessor.aliases", "too_many")
	}
	for i, a := range t.Possessor.Aliases {
		if err := text(fmt.Sprintf("possessor.aliases[%d]", i), a, MaxShort, true); err != nil {
			return err
		}
	}
	return nil
}

// Check is the completeness check of a request as it is being typed.
func (s *Service) Check(in Trace) Quality {
	in.Firearm.Serial = NormSerial(in.Firearm.Serial)
	return Check(&in)
}

// Prepare stores a trace request of u's agency as a draft for a sponsor.
// A request for a gun (make and serial) this side already asked about is
// merged into that trace as another recovery; merged reports it.
func (s *Service) Prepare(ctx context.Context, u *auth.User, in Trace) (out *Trace, merged bool, err error) {
	if !u.Can(auth.TraceRequest) || !slices.Contains(RequestAgencies[s.self], u.Agency) {
		return nil, false, ErrForbidden
	}
	if !s.Traces(s.partner) {
		return nil, false, ErrNoTracer
	}
	now := s.Now()
	t := in
	if err := checkRequest(&t, now); err != nil {
		return nil, false, err
	}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if key := t.Firearm.Key(); key != "" && !t.Firearm.Obliterated {
			var id string
			err := tx.QueryRow(ctx, `SELECT id FROM traces WHERE origin = ? AND gun = ? ORDER BY submitted_at LIMIT 1`, s.self, key).Scan(&id)
			if err == nil {
				old, err := load(ctx, tx, id)
				if err != nil {
					return err
				}
				old.Recoveries = append(old.Recoveries, t.Recovery)
				old.event(now, s.self, u.Username, "merged", t.Case)
				out, merged = old, true
				if err := s.save(ctx, tx, old, false); err != nil {
					return err
				}
				return s.log.Record(ctx, tx, KindLogMerged, "trace:"+id, "agency="+u.Agency)
			} else if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("looking for the same gun: %w", err)
			}
		}
		t.ID, t.Origin, t.Tracer, t.Status, t.Agency, t.PreparedBy, t.CreatedAt = link.NewID(), s.self, s.partner, StatusDraft, u.Agency, u.Username, now
		t.SponsoredBy, t.Sponsor, t.SubmittedAt, t.Due, t.AnsweredAt, t.Stage, t.Reason, t.Result, t.History, t.Recoveries = "", "", time.Time{}, time.Time{}, time.Time{}, "", "", nil, nil, nil
		t.Quality = Check(&t)
		t.event(now, s.self, u.Username, "prepared", "")
		out = &t
		if err := s.save(ctx, tx, &t, true); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, KindLogPrepared, "trace:"+t.ID, "agency="+u.Agency)
	})
	return out, merged, err
}

// FromSeizure prepares one trace per firearm of a seizure of ours: the
// batch request of a seizure's guns.
func (s *Service) FromSeizure(ctx context.Context, u *auth.User, seizureID string, base Trace) ([]*Trace, error) {
	if s.cfg.Seizures == nil {
		return nil, ErrNotFound
	}
	sz, err := s.cfg.Seizures.Get(ctx, u, seizureID)
	if err != nil {
		return nil, err
	}
	if sz.Origin != s.self {
		return nil, ErrForbidden
	}
	var out []*Trace
	for _, it := range sz.Items {
		if it.Kind != seizures.ItemFirearm {
			continue
		}
		t := base
		t.Firearm = Firearm{Serial: it.Serial, Obliterated: it.Obliterated, Manufacturer: it.Make, Type: firearmType(it.Type), Calibre: it.Calibre, Model: it.Model,
			Country: it.Country, Importer: it.Importer}
		t.Recovery = Recovery{Date: sz.At.Format("2006-01-02"), Place: sz.Place, Lat: sz.Lat, Lon: sz.Lon, SeizureID: sz.ID, Case: sz.Ref}
		if t.Case == "" {
			t.Case = sz.Ref
		}
		got, _, err := s.Prepare(ctx, u, t)
		if err != nil {
			return out, fmt.Errorf("firearm %s: %w", it.Serial, err)
		}
		out = append(out, got)
	}
	if len(out) == 0 {
		return nil, fault.Field("seizure", "no_firearms")
	}
	return out, nil
}

func firearmType(t string) string {
	if slices.Contains(FirearmTypes, t) {
		return t
	}
	return "other"
}

// Edit replaces the request fields of our draft or returned trace.
func (s *Service) Edit(ctx context.Context, u *auth.User, id string, in Trace) (*Trace, error) {
	now := s.Now()
	if err := checkRequest(&in, now); err != nil {
		return nil, err
	}
	var out *Trace
	err := s.onOwn(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Trace) error {
		if (t.Status != StatusDraft && t.Status != StatusReturned) || (u.Agency != t.Agency && !slices.Contains(SponsorAgencies[s.self], u.Agency)) {
			return ErrState
		}
		t.Priority, t.Justification, t.CrimeCode, t.Officer, t.Case, t.Firearm, t.Possessor, t.Recovery =
			in.Priority, in.Justification, in.CrimeCode, in.Officer, in.Case, in.Firearm, in.Possessor, in.Recovery
		t.Quality = Check(t)
		t.event(now, s.self, u.Username, "edited", "")
		out = t
		return s.log.Record(ctx, tx, KindLogChanged, "trace:"+id, "edited")
	})
	return out, err
}

func (s *Service) onOwn(ctx context.Context, u *auth.User, id string, f func(context.Context, *store.Tx, *Trace) error) error {
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		t, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if !t.Visible(u, s.self) {
			return ErrNotFound
		}
		if u.Can(auth.ReadAll) {
			return ErrForbidden
		}
		if err := f(ctx, tx, t); err != nil {
			return err
		}
		return s.save(ctx, tx, t, false)
	})
}

// Submit is the sponsor's review: a user of a sponsoring agency who did
// not prepare it sends our draft (or corrected returned) trace to the
// tracing side, unless the completeness check blocks it.
func (s *Service) Submit(ctx context.Context, u *auth.User, id string) (*Trace, error) {
	if !u.Can(auth.TraceSponsor) || !slices.Contains(SponsorAgencies[s.self], u.Agency) {
		return nil, ErrForbidden
	}
	var out *Trace
	err := s.onOwn(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Trace) error {
		if t.Origin != s.self || (t.Status != StatusDraft && t.Status != StatusReturned) {
			return ErrState
		}
		if t.PreparedBy == u.Username {
			return ErrFourEyes
		}
		t.Quality = Check(t)
		if len(t.Quality.Blocking) > 0 {
			return fault.Field("quality", t.Quality.Blocking[0])
		}
		now := s.Now()
		again := t.Status == StatusReturned
		t.Status, t.SponsoredBy, t.Sponsor, t.SubmittedAt, t.Reason = StatusSubmitted, u.Username, u.Agency, now, ""
		t.Due = s.Deadline(t.Tracer, now, t.Priority)
		t.event(now, s.self, u.Username, "submitted", "")
		cav := caveats.Caveats{Classification: "RESTRICTED", Purpose: caveats.PurposeIntelligence, RetentionDays: 3650, ThirdPartyRule: true,
			ReleasableTo: TraceAgencies[t.Tracer]}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindRequest, Version: 1, Stream: stream(id), Caveats: cav, Body: t}); err != nil {
			return fmt.Errorf("sending trace: %w", err)
		}
		out = t
		return s.log.Record(ctx, tx, KindLogSent, "trace:"+id, fmt.Sprintf("sponsor=%s resubmitted=%t", u.Agency, again))
	})
	return out, err
}

// Update is a step of the tracing side, as it crosses the link.
type Update struct {
	ID     string    `json:"id"`
	Step   string    `json:"step"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Stage  string    `json:"stage,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Result *Result   `json:"result,omitempty"`
}

// apply checks a step of the tracing side against t and applies it: the
// one rule for our user's step and the partner's arriving.
func apply(t *Trace, side string, up *Update) error {
	if side != t.Tracer {
		return ErrState
	}
	switch up.Step {
	case StepAccept:
		if t.Status != StatusSubmitted {
			return ErrState
		}
		t.Status = StatusAccepted
	case StepReturn:
		if t.Status != StatusSubmitted && t.Status != StatusAccepted {
			return ErrState
		}
		if strings.TrimSpace(up.Reason) == "" {
			return fault.Field("reason", "required")
		}
		t.Status, t.Reason = StatusReturned, up.Reason
	case StepProgress:
		if t.Status != StatusAccepted && t.Status != StatusInProgress {
			return ErrState
		}
		if !slices.Contains(Stages, up.Stage) {
			return fault.Field("stage", "unknown_value")
		}
		t.Status, t.Stage = StatusInProgress, up.Stage
	case StepComplete:
		if t.Status != StatusInProgress {
			return fault.New(fault.ErrConflict, "not_in_progress", "a result is recorded only for a trace in progress")
		}
		if up.Result == nil {
			return fault.Field("result", "required")
		}
		if err := checkResult(up.Result, t); err != nil {
			return err
		}
		t.Status, t.Result, t.AnsweredAt = StatusCompleted, up.Result, up.At
	case StepNotComplete:
		if t.Status != StatusInProgress {
			return fault.New(fault.ErrConflict, "not_in_progress", "a result is recorded only for a trace in progress")
		}
		if !slices.Contains(NotCompletedReasons, up.Reason) {
			return fault.Field("reason", "unknown_value")
		}
		t.Status, t.Reason, t.AnsweredAt = StatusNotCompleted, up.Reason, up.At
	default:
		return fault.Field("step", "unknown_step")
	}
	t.event(up.At, side, up.By, up.Step, up.Stage+up.Reason)
	return nil
}

// checkResult checks a result and computes the time-to-crime.
func checkResult(r *Result, t *Trace) error {
	if err := text("result.source", r.Source, MaxShort, true); err != nil {
		return err
	}
	if r.Dealer == nil {
		return fault.Field("result.dealer", "required")
	}
	for _, f := range []struct{ name, v string }{{"result.dealer.licence", r.Dealer.Licence}, {"result.dealer.name", r.Dealer.Name},
		{"result.dealer.city", r.Dealer.City}, {"result.dealer.state", r.Dealer.State}} {
		if err := text(f.name, f.v, MaxShort, true); err != nil {
			return err
		}
	}
	if len(r.Dealer.State) != 2 {
		return fault.Field("result.dealer.state", "invalid_state")
	}
	r.Dealer.State = strings.ToUpper(r.Dealer.State)
	if err := text("result.purchaser.name", r.Purchaser.Name, MaxShort, true); err != nil {
		return err
	}
	if err := text("result.purchaser.address", r.Purchaser.Address, MaxShort, false); err != nil {
		return err
	}
	p, err := time.Parse("2006-01-02", r.Purchase)
	if err != nil {
		return fault.Field("result.purchase_date", "invalid_date")
	}
	rec, err := time.Parse("2006-01-02", t.Recovery.Date)
	if err != nil {
		return fault.Field("recovery.date", "invalid_date")
	}
	if p.After(rec) {
		return fault.Field("result.purchase_date", "after_recovery")
	}
	r.TimeToCrimeDays = int(rec.Sub(p).Hours() / 24)
	r.Short = rec.Sub(p) < ShortTimeToCrime
	return nil
}

// Step is the tracing side's step on the partner's trace id.
func (s *Service) Step(ctx context.Context, u *auth.User, id string, up Update) (*Trace, error) {
	if !u.Can(auth.TraceWork) || !slices.Contains(TraceAgencies[s.self], u.Agency) {
		return nil, ErrForbidden
	}
	if err := text("reason", up.Reason, MaxText, false); err != nil {
		return nil, err
	}
	var out *Trace
	err := s.onOwn(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Trace) error {
		if t.Origin == s.self {
			return ErrState
		}
		st := &Update{ID: id, Step: up.Step, At: s.Now(), By: u.Username, Stage: up.Stage, Reason: strings.TrimSpace(up.Reason), Result: up.Result}
		if err := apply(t, s.self, st); err != nil {
			return err
		}
		// The purchaser's personal data is for the requesting agency and
		// its sponsor (Trace.ResultReleasable).
		to := []string{t.Agency}
		if t.Sponsor != "" && t.Sponsor != t.Agency {
			to = append(to, t.Sponsor)
		}
		cav := caveats.Caveats{Classification: "RESTRICTED", Purpose: caveats.PurposeIntelligence, RetentionDays: 3650, ThirdPartyRule: true,
			ReleasableTo: to}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindUpdate, Version: 1, Stream: stream(id), Caveats: cav, Body: st}); err != nil {
			return fmt.Errorf("sending the trace step: %w", err)
		}
		out = t
		return s.log.Record(ctx, tx, KindLogStep, "trace:"+id, "step="+st.Step)
	})
	return out, err
}

// applyRequest stores (or replaces, after a return) the partner's request.
func (s *Service) applyRequest(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var t Trace
	if err := link.DecodeBody(env, &t); err != nil {
		return err
	}
	if !link.ValidID(t.ID) || env.Stream != stream(t.ID) || t.Origin != s.partner || t.Tracer != s.self || t.Status != StatusSubmitted || t.Result != nil {
		return link.Reject("trace request does not fit stream %s", env.Stream)
	}
	if !s.Traces(s.self) {
		return link.Reject("trace %s: the agreement does not have us trace firearms", t.ID)
	}
	if err := checkRequest(&t, time.Now().Add(24*time.Hour)); err != nil {
		return link.Reject("trace %s does not check: %v", t.ID, err)
	}
	if !slices.Contains(RequestAgencies[s.partner], t.Agency) || !slices.Contains(SponsorAgencies[s.partner], t.Sponsor) {
		return link.Reject("trace %s: agency %s or sponsor %s may not request traces", t.ID, t.Agency, t.Sponsor)
	}
	if q := Check(&t); len(q.Blocking) > 0 {
		return link.Reject("trace %s is incomplete: %s", t.ID, strings.Join(q.Blocking, ", "))
	}
	old, err := load(ctx, tx, t.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		if err := s.save(ctx, tx, &t, true); err != nil {
			return err
		}
	case err != nil:
		return err
	case old.Status == StatusReturned:
		if err := s.save(ctx, tx, &t, false); err != nil {
			return err
		}
	default:
		return link.Reject("trace %s resubmitted in status %s", t.ID, old.Status)
	}
	return s.log.Record(ctx, tx, KindLogReceived, "trace:"+t.ID, "from="+s.partner)
}

// applyUpdate applies the tracing side's step to our request.
func (s *Service) applyUpdate(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var up Update
	if err := link.DecodeBody(env, &up); err != nil {
		return err
	}
	if !link.ValidID(up.ID) || env.Stream != stream(up.ID) || up.At.IsZero() || text("by", up.By, MaxShort, true) != nil {
		return link.Reject("trace step does not fit stream %s", env.Stream)
	}
	t, err := load(ctx, tx, up.ID)
	if errors.Is(err, ErrNotFound) {
		return link.Reject("step on trace %s, which we do not know", up.ID)
	} else if err != nil {
		return err
	}
	if t.Origin != s.self {
		return link.Reject("step on trace %s, which is not ours", up.ID)
	}
	up.At = up.At.UTC()
	if err := apply(t, s.partner, &up); err != nil {
		return link.Reject("trace step %s in status %s: %v", up.Step, t.Status, err)
	}
	if err := s.save(ctx, tx, t, false); err != nil {
		return err
	}
	return s.log.Record(ctx, tx, KindLogStep, "trace:"+t.ID, "step="+up.Step+" by="+s.partner)
}

// ResultReleasable reports whether the result's personal data (the first
// retail purchaser) may be shown to u on side self: the tracing side
// holds its own finding; on the requesting side the result's caveats name
// the requesting agency and its sponsor only.
func (t *Trace) ResultReleasable(u *auth.User, self string) bool {
	if t.Origin != self {
		return t.Visible(u, self)
	}
	return u.Agency == t.Agency || (t.Sponsor != "" && u.Agency == t.Sponsor)
}

// shown is t as u may see it: the purchaser withheld where the caveats
// do not reach u.
func (s *Service) shown(u *auth.User, t *Trace) *Trace {
	if t.Result == nil || t.ResultReleasable(u, s.self) {
		return t
	}
	c := *t
	r := *t.Result
	r.Purchaser, r.Withheld = Possessor{}, true
	c.Result = &r
	return &c
}

// Get returns a trace u may see.
func (s *Service) Get(ctx context.Context, u *auth.User, id string) (*Trace, error) {
	t, err := load(ctx, s.db.Read(), id)
	if err != nil {
		return nil, err
	}
	if !t.Visible(u, s.self) {
		return nil, ErrNotFound
	}
	return s.shown(u, t), nil
}

// List returns the traces u may see, newest first.
func (s *Service) List(ctx context.Context, u *auth.User, status string) ([]*Trace, error) {
	if !u.Can(auth.TraceRead) {
		return nil, ErrForbidden
	}
	q, args := `SELECT doc FROM traces`, []any{}
	if status != "" {
		q += ` WHERE status = ?`
		args = append(args, status)
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY updated_at DESC, id LIMIT 2000`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing traces: %w", err)
	}
	all, err := store.Collect(rows, scan)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, t := range all {
		if t.Visible(u, s.self) && len(out) < 200 {
			out = append(out, s.shown(u, t))
		}
	}
	return out, nil
}
