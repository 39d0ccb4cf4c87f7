package seizures

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"puente/internal/agreement"
	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/match"
	"puente/internal/operations"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// Name is the area's name.
const Name = "seizures"

// KindReleased is the link kind of a released seizure (version 1), on the
// stream "seizures:s:ID".
const KindReleased = "seizures.released"

// Log entry kinds of this work area.
const (
	KindLogRecorded  = "seizures.recorded"
	KindLogImported  = "seizures.imported"
	KindLogSubmitted = "seizures.submitted"
	KindLogReturned  = "seizures.returned"
	KindLogReleased  = "seizures.released"
	KindLogReceived  = "seizures.received"
)

// Statuses besides recorded and released.
const (
	StatusSubmitted = "submitted" // ours, waiting for a supervisor's release
)

// Statuses lists every status in lifecycle order.
var Statuses = []string{StatusRecorded, StatusSubmitted, StatusReleased}

// Errors with a contract.
var (
	ErrForbidden = fmt.Errorf("seizures: %w", fault.ErrForbidden)
	ErrNotFound  = fmt.Errorf("seizure: %w", fault.ErrNotFound)
	ErrFourEyes  = fault.New(fault.ErrForbidden, "four_eyes", "a seizure is released by a supervisor who did not record it")
	ErrState     = fault.New(fault.ErrConflict, "wrong_status", "not possible in the seizure's current status")
)

// Config assembles a Service.
type Config struct {
	DB        *store.DB
	Link      *link.Link
	Hub       *live.Hub
	Agreement *agreement.Agreement
	Logger    *slog.Logger
	// Operations, when set, is the node's operations area: a seizure's
	// operation must be one the recording user can see there.
	Operations *operations.Service
}

// Service runs the seizures of one node.
type Service struct {
	cfg     Config
	db      *store.DB
	link    *link.Link
	log     *trustlog.Log
	self    string
	partner string
	bounds  Bounds

	area.Clock
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, db: cfg.DB, link: cfg.Link, log: cfg.Link.TrustLog(), self: cfg.Link.Self(), partner: cfg.Link.Partner(),
		bounds: BoundsOf(cfg.Agreement)}
}

// Self and Partner are the party codes.
func (s *Service) Self() string    { return s.self }
func (s *Service) Partner() string { return s.partner }

// Bounds are the agreement's sanity bounds on one seizure.
func (s *Service) Bounds() Bounds { return s.bounds }

func stream(id string) string { return "seizures:s:" + id }

func (s *Service) changed(tx *store.Tx, key string) {
	tx.AfterCommit(func() { s.cfg.Hub.Publish(live.Event{Topic: Name, Key: key}) })
}

// DefaultCaveats are the caveats a release starts with.
func (s *Service) DefaultCaveats() caveats.Caveats {
	ag := s.cfg.Agreement
	days := ag.Retention[agreement.AreaSeizures]
	if days <= 0 {
		days = 1825
	}
	class := ag.Caveats.Classification
	if !slices.Contains(caveats.Classifications, class) {
		class = "RESTRICTED"
	}
	return caveats.Caveats{Classification: class, Purpose: caveats.PurposeIntelligence, RetentionDays: days, ThirdPartyRule: ag.Caveats.ThirdPartyRule}
}

// Visible reports whether u may see sz on side self: ours, to the seizing
// agency; the partner's, to the agencies it was released to or that its
// caveats name; everything, to auditors.
func (sz *Seizure) Visible(u *auth.User, self string) bool {
	if u.Can(auth.ReadAll) {
		return true
	}
	if !u.Can(auth.SeizRead) {
		return false
	}
	if sz.Origin == self {
		return u.Agency == sz.Agency
	}
	return slices.Contains(sz.To, u.Agency) || slices.Contains(sz.Caveats.ReleasableTo, u.Agency)
}

func load(ctx context.Context, q store.Querier, id string) (*Seizure, error) {
	sz, err := store.ScanJSON[Seizure](q.QueryRow(ctx, `SELECT doc FROM seizures WHERE id = ?`, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading seizure %s: %w", id, err)
	}
	return sz, nil
}

func scan(sc store.Scanner) (*Seizure, error) { return store.ScanJSON[Seizure](sc) }

// insert stores a new seizure with its keys and adds it to the totals.
func (s *Service) insert(ctx context.Context, tx *store.Tx, sz *Seizure) error {
	if err := s.insertRow(ctx, tx, sz); err != nil {
		return err
	}
	t := tallies{}
	t.add(ScopeAll, sz)
	if sz.Status == StatusReleased {
		t.add(ScopeShared, sz)
	}
	return t.flush(ctx, tx)
}

// insertRow stores a new seizure with its keys, not its totals.
func (s *Service) insertRow(ctx context.Context, tx *store.Tx, sz *Seizure) error {
	doc, err := json.Marshal(sz)
	if err != nil {
		return fmt.Errorf("encoding seizure: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO seizures (id, origin, status, agency, pair, operation_id, at, lat, lon, created_by, updated_at, doc)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, sz.ID, sz.Origin, sz.Status, sz.Agency, sz.Pair, sz.OperationID, sz.At.UnixMilli(),
		sz.Lat, sz.Lon, sz.CreatedBy, store.Now(), string(doc)); err != nil {
		return fmt.Errorf("storing seizure: %w", err)
	}
	for _, k := range Keys(sz) {
		if _, err := tx.Exec(ctx, `INSERT INTO seizure_keys (key, seizure_id, side) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, k, sz.ID, sz.Origin); err != nil {
			return fmt.Errorf("storing seizure keys: %w", err)
		}
	}
	return nil
}

func (s *Service) update(ctx context.Context, tx *store.Tx, sz *Seizure) error {
	doc, err := json.Marshal(sz)
	if err != nil {
		return fmt.Errorf("encoding seizure: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE seizures SET status = ?, updated_at = ?, doc = ? WHERE id = ?`, sz.Status, store.Now(), string(doc), sz.ID); err != nil {
		return fmt.Errorf("storing seizure: %w", err)
	}
	return nil
}

// Keys are what makes sz the same event as a seizure of the other side:
// its operation, its firearms' serials (with make), its vehicle's plate
// and VIN.
func Keys(sz *Seizure) []string {
	var out []string
	if sz.OperationID != "" {
		out = append(out, "op:"+sz.OperationID)
	}
	if sz.Plate != "" {
		out = append(out, "plate:"+sz.Plate)
	}
	if sz.VIN != "" {
		out = append(out, "vin:"+sz.VIN)
	}
	for _, it := range sz.Items {
		if it.Kind == ItemFirearm && it.Serial != "" && !it.Obliterated {
			out = append(out, "serial:"+strings.ToUpper(strings.TrimSpace(it.Make))+"|"+it.Serial)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Record stores a seizure entered by u: checked, converted, in the
// seizing agency's name (the user's), its detained subjects indexed for
// blind matching.
func (s *Service) Record(ctx context.Context, u *auth.User, in Seizure) (*Seizure, error) {
	if !u.Can(auth.SeizWrite) {
		return nil, ErrForbidden
	}
	if !slices.Contains(SeizureAgencies[s.self], u.Agency) {
		return nil, ErrForbidden
	}
	sz := in
	sz.Agency = u.Agency
	if err := s.prepare(ctx, &sz, u); err != nil {
		return nil, err
	}
	if sz.OperationID != "" && s.cfg.Operations != nil {
		if _, err := s.cfg.Operations.Get(ctx, u, sz.OperationID); err != nil {
			return nil, fault.Field("operation_id", "unknown_operation")
		}
	}
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.store(ctx, tx, &sz); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, KindLogRecorded, "seizure:"+sz.ID, "agency="+sz.Agency)
	})
	if err != nil {
		return nil, err
	}
	return &sz, nil
}

// prepare checks a new seizure of ours and fills what the node decides.
func (s *Service) prepare(ctx context.Context, sz *Seizure, u *auth.User) error {
	now := s.Now()
	sz.At = sz.At.UTC().Truncate(time.Second)
	if err := check(sz, s.self, now, s.bounds); err != nil {
		return err
	}
	for i := range sz.Subjects {
		sz.Subjects[i].Source = "seizure"
		if _, err := sz.Subjects[i].Keys(); err != nil {
			var fe *fault.FieldError
			if errors.As(err, &fe) {
				return &fault.FieldError{Field: fmt.Sprintf("subjects[%d].%s", i, fe.Field), Code: fe.Code, Err: fe.Err}
			}
			return err
		}
	}
	sz.ID, sz.Origin, sz.Status = link.NewID(), s.self, StatusRecorded
	sz.CreatedBy, sz.CreatedAt = u.Username, now
	sz.ReleasedBy, sz.ReleasedAt, sz.To = "", time.Time{}, nil
	sz.Caveats = caveats.Caveats{}
	for i := range sz.Subjects {
		sz.Subjects[i].Ref = fmt.Sprintf("seizure:%s:%d", sz.ID, i+1)
	}
	return nil
}

// store inserts a prepared seizure of ours and indexes its subjects.
func (s *Service) store(ctx context.Context, tx *store.Tx, sz *Seizure) error {
	if err := s.insert(ctx, tx, sz); err != nil {
		return err
	}
	if len(sz.Subjects) > 0 {
		if err := match.ImportTx(ctx, tx, s.log, sz.Subjects); err != nil {
			return fmt.Errorf("indexing the detained: %w", err)
		}
	}
	s.changed(tx, sz.ID)
	return nil
}

// Get returns a seizure u may see.
func (s *Service) Get(ctx context.Context, u *auth.User, id string) (*Seizure, error) {
	sz, err := load(ctx, s.db.Read(), id)
	if err != nil {
		return nil, err
	}
	if !sz.Visible(u, s.self) {
		return nil, ErrNotFound
	}
	return sz, nil
}

// Filter narrows a list.
type Filter struct {
	Side   string // "", or a party code
	Status string
	Pair   string
	From   time.Time
	To     time.Time
	Limit  int
}

// List returns the newest seizures u may see, newest first.
func (s *Service) List(ctx context.Context, u *auth.User, f Filter) ([]*Seizure, error) {
	if !u.Can(auth.SeizRead) {
		return nil, ErrForbidden
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT doc FROM seizures WHERE 1 = 1`
	var args []any
	if f.Side != "" {
		q += ` AND origin = ?`
		args = append(args, f.Side)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Pair != "" {
		q += ` AND pair = ?`
		args = append(args, f.Pair)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ?`
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		q += ` AND at < ?`
		args = append(args, f.To.UnixMilli())
	}
	// Ours only of the user's agency, unless the user reads everything.
	if !u.Can(auth.ReadAll) {
		q += ` AND (origin <> ? OR agency = ?)`
		args = append(args, s.self, u.Agency)
	}
	q += ` ORDER BY at DESC, id LIMIT ` + strconv.Itoa(f.Limit*4)
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing seizures: %w", err)
	}
	all, err := store.Collect(rows, scan)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, sz := range all {
		if sz.Visible(u, s.self) && len(out) < f.Limit {
			out = append(out, sz)
		}
	}
	return out, nil
}

// onOwn runs f on our seizure id in status want, for a user of its agency.
func (s *Service) onOwn(ctx context.Context, u *auth.User, p auth.Permission, id string, want []string, f func(context.Context, *store.Tx, *Seizure) error) error {
	if !u.Can(p) {
		return ErrForbidden
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		sz, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if !sz.Visible(u, s.self) {
			return ErrNotFound
		}
		if sz.Origin != s.self || !slices.Contains(want, sz.Status) {
			return ErrState
		}
		if err := f(ctx, tx, sz); err != nil {
			return err
		}
		if err := s.update(ctx, tx, sz); err != nil {
			return err
		}
		s.changed(tx, sz.ID)
		return nil
	})
}

// Submit asks a supervisor to release our recorded seizure.
func (s *Service) Submit(ctx context.Context, u *auth.User, id string) (*Seizure, error) {
	var out *Seizure
	err := s.onOwn(ctx, u, auth.SeizWrite, id, []string{StatusRecorded}, func(ctx context.Context, tx *store.Tx, sz *Seizure) error {
		sz.Status, out = StatusSubmitted, sz
		return s.log.Record(ctx, tx, KindLogSubmitted, "seizure:"+id, "")
	})
	return out, err
}

// Return sends a submitted seizure back to its author, with a reason.
func (s *Service) Return(ctx context.Context, u *auth.User, id, reason string) (*Seizure, error) {
	if err := text("reason", reason, MaxText, true); err != nil {
		return nil, err
	}
	var out *Seizure
	err := s.onOwn(ctx, u, auth.SeizRelease, id, []string{StatusSubmitted}, func(ctx context.Context, tx *store.Tx, sz *Seizure) error {
		sz.Status, sz.Notes, out = StatusRecorded, strings.TrimSpace(sz.Notes+"\n"+u.Username+": "+strings.TrimSpace(reason)), sz
		return s.log.Record(ctx, tx, KindLogReturned, "seizure:"+id, "")
	})
	return out, err
}

// Release is the second pair of eyes: a supervisor who recorded none of
// them releases one or more of our seizures (recorded or submitted) to
// the partner's agencies to, under cav (nil: the defaults), in one
// transaction. Each crosses as its own envelope.
func (s *Service) Release(ctx context.Context, u *auth.User, ids []string, to []string, cav *caveats.Caveats) ([]*Seizure, error) {
	if !u.Can(auth.SeizRelease) {
		return nil, ErrForbidden
	}
	if len(ids) == 0 {
		return nil, fault.Field("ids", "required")
	}
	if len(ids) > 1000 {
		return nil, fault.Field("ids", "too_many")
	}
	if len(to) == 0 {
		to = SeizureAgencies[s.partner]
	}
	to = slices.Compact(slices.Sorted(slices.Values(to)))
	for _, a := range to {
		if !slices.Contains(SeizureAgencies[s.partner], a) {
			return nil, fault.Field("to", "unknown_agency")
		}
	}
	c := s.DefaultCaveats()
	if cav != nil {
		var err error
		if c, err = cav.Check(auth.Agencies[s.partner]); err != nil {
			return nil, err
		}
	}
	var out []*Seizure
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.Now()
		for _, id := range ids {
			sz, err := load(ctx, tx, id)
			if err != nil {
				return err
			}
			if !sz.Visible(u, s.self) {
				return ErrNotFound
			}
			if sz.Origin != s.self || sz.Status == StatusReleased {
				return ErrState
			}
			if sz.CreatedBy == u.Username {
				return ErrFourEyes
			}
			sz.Status, sz.ReleasedBy, sz.ReleasedAt, sz.To, sz.Caveats = StatusReleased, u.Username, now, to, c
			if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindReleased, Version: 1, Stream: stream(id), Caveats: c, Body: sz.Shared()}); err != nil {
				return fmt.Errorf("sending seizure %s: %w", id, err)
			}
			if err := s.update(ctx, tx, sz); err != nil {
				return err
			}
			if err := tally(ctx, tx, "shared", sz); err != nil {
				return err
			}
			if err := s.log.Record(ctx, tx, KindLogReleased, "seizure:"+id, "author="+sz.CreatedBy+" to="+strings.Join(to, ",")); err != nil {
				return err
			}
			s.changed(tx, id)
			out = append(out, sz)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyReleased stores a seizure the partner released to us, after
// checking it as we check our own.
func (s *Service) applyReleased(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var sz Seizure
	if err := link.DecodeBody(env, &sz); err != nil {
		return err
	}
	if !link.ValidID(sz.ID) || env.Stream != stream(sz.ID) || sz.Origin != s.partner || sz.Status != StatusReleased || len(sz.Subjects) > 0 {
		return link.Reject("seizure does not fit stream %s", env.Stream)
	}
	if err := text("created_by", sz.CreatedBy, MaxShort, true); err != nil {
		return link.Reject("seizure %s: %v", sz.ID, err)
	}
	if err := text("released_by", sz.ReleasedBy, MaxShort, true); err != nil {
		return link.Reject("seizure %s: %v", sz.ID, err)
	}
	// The partner's clock may run ahead of ours by a little.
	sent, err := json.Marshal(sz)
	if err != nil {
		return fmt.Errorf("encoding seizure: %w", err)
	}
	if err := check(&sz, s.partner, time.Now().Add(time.Hour), s.bounds); err != nil {
		return link.Reject("seizure %s does not check: %v", sz.ID, err)
	}
	for _, a := range sz.To {
		if !slices.Contains(SeizureAgencies[s.self], a) {
			return link.Reject("seizure %s is released to %s, not an agency of ours", sz.ID, a)
		}
	}
	// What we store is what was signed, and checking it changes nothing:
	// conversions, totals in cents and normalised identifiers are computed
	// by the same rules on both sides, so a partner that sent other
	// numbers is refused.
	if checked, err := json.Marshal(sz); err != nil || string(checked) != string(sent) {
		return link.Reject("seizure %s: its conversions or identifiers differ from the agreement's rules", sz.ID)
	}
	cav, err := caveats.Decode(string(env.Caveats))
	if err != nil {
		return link.Reject("seizure %s: %v", sz.ID, err)
	}
	sz.Caveats = cav
	if _, err := load(ctx, tx, sz.ID); err == nil {
		return link.Reject("seizure %s arrived twice", sz.ID)
	}
	if err := s.insert(ctx, tx, &sz); err != nil {
		return err
	}
	s.changed(tx, sz.ID)
	return s.log.Record(ctx, tx, KindLogReceived, "seizure:"+sz.ID, "from="+s.partner)
}

// Badge is a seizure of the other side that looks like the same event.
type Badge struct {
	ID     string    `json:"id"`
	Side   string    `json:"side"`
	Why    []string  `json:"why"` // keys ("serial:…"), or "place_window"
	At     time.Time `json:"at"`
	Place  string    `json:"place"`
	Agency string    `json:"agency"`
}

// PlaceWindow: two seizures within this distance (in degrees, about 5 km)
// and this time of each other are shown as maybe the same event.
const (
	PlaceDeg   = 0.05
	WindowTime = 48 * time.Hour
)

// Badges are the seizures of the other side, visible to u, that share an
// operation, a firearm, a plate or a VIN with sz, or its place and window.
func (s *Service) Badges(ctx context.Context, u *auth.User, sz *Seizure) ([]Badge, error) {
	q := s.db.Read()
	why := map[string][]string{}
	rows, err := q.Query(ctx, `SELECT k2.seizure_id, k1.key FROM seizure_keys k1 JOIN seizure_keys k2 ON k2.key = k1.key AND k2.side <> k1.side
		WHERE k1.seizure_id = ? ORDER BY k2.seizure_id, k1.key`, sz.ID)
	if err != nil {
		return nil, fmt.Errorf("reading badges: %w", err)
	}
	pairs, err := store.Collect(rows, func(sc store.Scanner) ([2]string, error) {
		var p [2]string
		return p, sc.Scan(&p[0], &p[1])
	})
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		why[p[0]] = append(why[p[0]], p[1])
	}
	rows, err = q.Query(ctx, `SELECT id FROM seizures WHERE origin <> ? AND at BETWEEN ? AND ? AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? LIMIT 50`,
		sz.Origin, sz.At.Add(-WindowTime).UnixMilli(), sz.At.Add(WindowTime).UnixMilli(), sz.Lat-PlaceDeg, sz.Lat+PlaceDeg, sz.Lon-PlaceDeg, sz.Lon+PlaceDeg)
	if err != nil {
		return nil, fmt.Errorf("reading badges: %w", err)
	}
	near, err := store.Collect(rows, func(sc store.Scanner) (string, error) {
		var id string
		return id, sc.Scan(&id)
	})
	if err != nil {
		return nil, err
	}
	for _, id := range near {
		why[id] = append(why[id], "place_window")
	}
	var out []Badge
	for id, w := range why {
		o, err := load(ctx, q, id)
		if err != nil {
			return nil, err
		}
		if !o.Visible(u, s.self) {
			continue
		}
		out = append(out, Badge{ID: id, Side: o.Origin, Why: w, At: o.At, Place: o.Place, Agency: o.Agency})
	}
	slices.SortFunc(out, func(a, b Badge) int { return a.At.Compare(b.At) })
	return out, nil
}
