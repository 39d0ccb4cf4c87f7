package operations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/border"
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/match"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// Log entry kinds of this work area.
const (
	KindLogDrafted    = "operations.drafted"
	KindLogReleased   = "operations.released"
	KindLogAnswered   = "operations.answered"
	KindLogChanged    = "operations.changed"
	KindLogRegistered = "operations.registered"
	KindLogReported   = "operations.after_action"
	KindLogConflict   = "operations.conflict"
	KindLogResolved   = "operations.conflict_resolved"
	KindLogEscalated  = "operations.conflict_escalated"
	KindLogReport     = "operations.report"
)

// Errors with a contract.
var (
	ErrForbidden = fmt.Errorf("operations: %w", fault.ErrForbidden)
	ErrNotFound  = fmt.Errorf("operation: %w", fault.ErrNotFound)
	ErrFourEyes  = fault.New(fault.ErrForbidden, "four_eyes", "the operation must be released by a supervisor who did not draft it")
	ErrState     = fault.New(fault.ErrConflict, "wrong_status", "not possible in the operation's current status")
	ErrNotActive = fault.New(fault.ErrConflict, "not_active", "units report only on an active operation")
	ErrNoUnit    = fault.Field("unit", "unit_not_in_operation")
)

// Config assembles a Service.
type Config struct {
	DB        *store.DB
	Link      *link.Link
	Hub       *live.Hub
	Agreement *agreement.Agreement
	Logger    *slog.Logger
	// Match is the node's blind-matching service, through which
	// operations are deconflicted.
	Match *match.Service
	// Interval is how often the worker escalates conflicts and re-checks
	// operations against the partner's newest filter (default 5 s).
	Interval time.Duration
	// EscalateBefore: an open conflict this close to the operation's start
	// is escalated (default 24 h).
	EscalateBefore time.Duration
}

// Service runs operations on one node.
type Service struct {
	cfg     Config
	db      *store.DB
	link    *link.Link
	log     *trustlog.Log
	self    string
	partner string
	wake    chan struct{}

	mu  sync.Mutex
	now func() time.Time
	// figures keeps the mirror operations decoded for the figures.
	figures *store.Memo[*Operation]
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.EscalateBefore <= 0 {
		cfg.EscalateBefore = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, db: cfg.DB, link: cfg.Link, log: cfg.Link.TrustLog(), self: cfg.Link.Self(), partner: cfg.Link.Partner(),
		wake: make(chan struct{}, 1), now: time.Now, figures: store.DocMemo[Operation]("operations")}
}

// SetClock replaces the service's clock (tests).
func (s *Service) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Now is the service's clock, to the second.
func (s *Service) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now().UTC().Truncate(time.Second)
}

// nowMs is the clock to the millisecond, for unit reports: a unit may
// report twice in a second, and the board shows the newest.
func (s *Service) nowMs() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now().UTC().Truncate(time.Millisecond)
}

// Self and Partner are the party codes.
func (s *Service) Self() string    { return s.self }
func (s *Service) Partner() string { return s.partner }

// Deconfliction are the agreement's deconfliction parameters.
func (s *Service) Deconfliction() agreement.Deconfliction {
	return s.cfg.Agreement.Deconfliction.WithDefaults()
}

// AnswerDeadline is when side must answer a proposal released at t.
func (s *Service) AnswerDeadline(side string, t time.Time, urgent bool) time.Time {
	c := s.cfg.Agreement.Commitments[side]
	if urgent {
		h := c.UrgentOperationHours
		if h <= 0 {
			h = agreement.DefaultUrgentOperationHours
		}
		return t.Add(time.Duration(h) * time.Hour)
	}
	days := c.ResponseDays[agreement.AreaOperations]
	if days <= 0 {
		days = 2
	}
	return t.Add(time.Duration(days) * 24 * time.Hour)
}

func stream(id string) string { return "operations:o:" + id }

func (s *Service) changed(tx *store.Tx, key string) {
	tx.AfterCommit(func() { s.cfg.Hub.Publish(live.Event{Topic: Name, Key: key}) })
}

func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// DefaultCaveats are the caveats a new operation starts with.
func (s *Service) DefaultCaveats() caveats.Caveats {
	ag := s.cfg.Agreement
	days := ag.Retention[agreement.AreaOperations]
	if days <= 0 {
		days = 1825
	}
	class := ag.Caveats.Classification
	if !slices.Contains(caveats.Classifications, class) {
		class = "RESTRICTED"
	}
	return caveats.Caveats{Classification: class, Purpose: caveats.PurposeIntelligence, RetentionDays: days, ThirdPartyRule: ag.Caveats.ThirdPartyRule}
}

// load reads an operation inside tx.
func load(ctx context.Context, q store.Querier, id string) (*Operation, error) {
	var doc string
	err := q.QueryRow(ctx, `SELECT doc FROM operations WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading operation %s: %w", id, err)
	}
	var op Operation
	if err := json.Unmarshal([]byte(doc), &op); err != nil {
		return nil, fmt.Errorf("reading operation %s: %w", id, err)
	}
	return &op, nil
}

// save writes an operation (new or changed) inside tx.
func (s *Service) save(ctx context.Context, tx *store.Tx, op *Operation, insert bool) error {
	doc, err := json.Marshal(op)
	if err != nil {
		return fmt.Errorf("encoding operation: %w", err)
	}
	agencies := " " + strings.Join(op.localAgencies(s.self), " ") + " "
	now := s.Now().UnixMilli()
	if insert {
		_, err = tx.Exec(ctx, `INSERT INTO operations (id, origin, kind, status, pair, starts_at, ends_at, local_agencies, updated_at, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, op.ID, op.Origin, op.Kind, op.Status, op.Pair, op.Start.UnixMilli(), op.End.UnixMilli(), agencies, now, string(doc))
	} else {
		_, err = tx.Exec(ctx, `UPDATE operations SET status = ?, starts_at = ?, ends_at = ?, local_agencies = ?, updated_at = `+store.NextVersion("updated_at")+`, doc = ? WHERE id = ?`,
			op.Status, op.Start.UnixMilli(), op.End.UnixMilli(), agencies, now, now, string(doc), op.ID)
	}
	if errors.Is(err, store.ErrConflict) {
		return err
	}
	if err != nil {
		return fmt.Errorf("storing operation %s: %w", op.ID, err)
	}
	s.changed(tx, op.ID)
	return nil
}

func (op *Operation) event(at time.Time, side, actor, what, detail string) {
	op.History = append(op.History, Event{At: at, Side: side, Actor: actor, What: what, Detail: detail})
}

// Get returns an operation u may see.
func (s *Service) Get(ctx context.Context, u *auth.User, id string) (*Operation, error) {
	if !u.Can(auth.OpsRead) {
		return nil, ErrForbidden
	}
	op, err := load(ctx, s.db.Read(), id)
	if err != nil {
		return nil, err
	}
	if !op.Visible(u, s.self) {
		return nil, ErrNotFound
	}
	return op, nil
}

// ListFilter narrows List.
type ListFilter struct {
	Status string
	Kind   string
	// Day, when set, keeps operations whose window touches that UTC day.
	Day time.Time
	// From and To, when set, keep operations whose window touches them.
	From, To time.Time
}

// BoardWindow is what the live board shows around now: the operations
// running, those ended in the last 12 hours and those starting within
// the next 24, whatever the UTC date (at 23:40 UTC it is mid-afternoon
// on the border).
func BoardWindow(now time.Time) ListFilter {
	return ListFilter{From: now.Add(-12 * time.Hour), To: now.Add(24 * time.Hour)}
}

// List returns the operations u may see, soonest first.
func (s *Service) List(ctx context.Context, u *auth.User, f ListFilter) ([]*Operation, error) {
	if !u.Can(auth.OpsRead) {
		return nil, ErrForbidden
	}
	q := `SELECT doc FROM operations WHERE 1 = 1`
	var args []any
	if !u.Can(auth.ReadAll) {
		q += ` AND ` + store.HasWord("local_agencies")
		args = append(args, u.Agency)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if !f.Day.IsZero() {
		d := f.Day.UTC().Truncate(24 * time.Hour)
		q += ` AND starts_at < ? AND ends_at > ?`
		args = append(args, d.Add(24*time.Hour).UnixMilli(), d.UnixMilli())
	}
	if !f.From.IsZero() && !f.To.IsZero() {
		q += ` AND starts_at < ? AND ends_at > ?`
		args = append(args, f.To.UnixMilli(), f.From.UnixMilli())
	}
	q += ` ORDER BY starts_at, id LIMIT 500`
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing operations: %w", err)
	}
	return collectOps(rows)
}

// collectOps reads every operation document of rows.
func collectOps(rows *sql.Rows) ([]*Operation, error) {
	return store.Collect(rows, func(r store.Scanner) (*Operation, error) {
		var doc string
		if err := r.Scan(&doc); err != nil {
			return nil, err
		}
		var op Operation
		return &op, json.Unmarshal([]byte(doc), &op)
	})
}

// Create drafts a mirror operation or registers a unilateral one.
func (s *Service) Create(ctx context.Context, u *auth.User, d Draft) (*Operation, error) {
	if !u.Can(auth.OpsWrite) || !slices.Contains(OpsAgencies[s.self], u.Agency) {
		return nil, ErrForbidden
	}
	now := s.Now()
	op, err := s.checkDraft(&d, now)
	if err != nil {
		return nil, err
	}
	op.ID, op.Origin, op.CreatedBy, op.CreatedAt = link.NewID(), s.self, u.Username, now
	op.Sides[s.self].Agencies = []string{u.Agency}
	op.Status = StatusDraft
	what := "drafted"
	if op.Kind == Unilateral {
		op.Status, what = StatusPlanned, "registered"
	}
	op.event(now, s.self, u.Username, what, "")
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.unitsFree(ctx, tx, op); err != nil {
			return err
		}
		if err := s.save(ctx, tx, op, true); err != nil {
			return err
		}
		if op.Kind == Unilateral {
			if err := s.index(ctx, tx, op); err != nil {
				return err
			}
			return s.log.Record(ctx, tx, KindLogRegistered, "operation:"+op.ID, "pair="+op.Pair)
		}
		return s.log.Record(ctx, tx, KindLogDrafted, "operation:"+op.ID, "pair="+op.Pair)
	})
	if err != nil {
		return nil, err
	}
	if op.Kind == Unilateral {
		s.checkSoon(op.ID)
	}
	return op, nil
}

// checkDraft validates a draft into a new operation of this side.
func (s *Service) checkDraft(d *Draft, now time.Time) (*Operation, error) {
	if d.Kind != Mirror && d.Kind != Unilateral {
		return nil, fault.Field("kind", "unknown_kind")
	}
	if err := text("title", d.Title, MaxShort, true); err != nil {
		return nil, err
	}
	if !slices.Contains(Objectives, d.Objective) {
		return nil, fault.Field("objective", "unknown_objective")
	}
	pair, ok := border.PairByID(d.Pair)
	if !ok {
		return nil, fault.Field("pair", "unknown_pair")
	}
	loc := pair.Zone(s.self)
	start, err := ParseTime("start", d.Start, loc)
	if err != nil {
		return nil, err
	}
	end, err := ParseTime("end", d.End, loc)
	if err != nil {
		return nil, err
	}
	if err := checkWindow(start, end, now); err != nil {
		return nil, err
	}
	if err := checkAreas("areas", d.Areas, s.self, true); err != nil {
		return nil, err
	}
	if err := checkUnits("units", d.Units, s.self, true); err != nil {
		return nil, err
	}
	if err := text("contact", d.Contact, MaxShort, true); err != nil {
		return nil, err
	}
	if err := checkTargets(d.Targets); err != nil {
		return nil, err
	}
	if d.Kind == Mirror {
		if len(d.Counterpart) == 0 {
			return nil, fault.Field("counterpart", "required")
		}
		for _, a := range d.Counterpart {
			if !slices.Contains(OpsAgencies[s.partner], a) {
				return nil, fault.Field("counterpart", "unknown_agency")
			}
		}
	} else if len(d.Counterpart) > 0 {
		return nil, fault.Field("counterpart", "unilateral_has_no_counterpart")
	}
	cav := s.DefaultCaveats()
	if d.Caveats != nil {
		cav = d.Caveats.Normalized()
		if !slices.Contains(caveats.Classifications, cav.Classification) {
			return nil, fault.Field("caveats.classification", "unknown_classification")
		}
	}
	units := slices.Clone(d.Units)
	if d.Kind == Unilateral {
		for i := range units {
			units[i].Shared = false
		}
	}
	cp := slices.Clone(d.Counterpart)
	slices.Sort(cp)
	return &Operation{Kind: d.Kind, Title: strings.TrimSpace(d.Title), Objective: d.Objective, Urgent: d.Urgent, Pair: d.Pair, Start: start, End: end,
		Counterpart: slices.Compact(cp), Caveats: cav, Targets: d.Targets,
		Sides: map[string]*Side{s.self: {Units: units, Areas: d.Areas, Contact: strings.TrimSpace(d.Contact)}}}, nil
}

// unitsFree refuses an operation one of whose units (ours) is booked in
// another open operation whose window overlaps.
func (s *Service) unitsFree(ctx context.Context, tx *store.Tx, op *Operation) error {
	sd := op.Sides[s.self]
	if sd == nil || len(sd.Units) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT doc FROM operations WHERE id <> ? AND starts_at < ? AND ends_at > ? AND status IN (?, ?, ?, ?, ?, ?)`,
		op.ID, op.End.UnixMilli(), op.Start.UnixMilli(), StatusDraft, StatusProposed, StatusCountered, StatusJoint, StatusPlanned, StatusActive)
	if err != nil {
		return fmt.Errorf("checking units: %w", err)
	}
	others, err := collectOps(rows)
	if err != nil {
		return err
	}
	for _, o := range others {
		for i, u := range sd.Units {
			if _, busy := o.Unit(s.self, u.Callsign); busy {
				return &fault.FieldError{Field: fmt.Sprintf("units[%d].callsign", i), Code: "unit_booked",
					Err: fmt.Errorf("unit %s is booked in operation %q in an overlapping window", u.Callsign, o.Title)}
			}
		}
	}
	return nil
}

// onOwn runs f on operation id inside a transaction, once u may act on
// it with permission p and it is in one of statuses.
func (s *Service) onOwn(ctx context.Context, u *auth.User, p auth.Permission, id string, statuses []string, f func(ctx context.Context, tx *store.Tx, op *Operation) error) error {
	if !u.Can(p) {
		return ErrForbidden
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		op, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if !op.Visible(u, s.self) || u.Can(auth.ReadAll) && !slices.Contains(op.localAgencies(s.self), u.Agency) {
			return ErrNotFound
		}
		if !slices.Contains(statuses, op.Status) {
			return ErrState
		}
		return f(ctx, tx, op)
	})
}
