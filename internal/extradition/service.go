package extradition

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"puente/internal/agreement"
	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/identity"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/screen"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

// Name is the area's name.
const Name = "extradition"

// Link kinds (version 1). A nomination and its later updates cross on the
// stream "extradition:t:ID", each with the next Version; the receiving
// side's acknowledgement and either side's additions on the same stream.
const (
	KindTarget   = "extradition.target"
	KindAck      = "extradition.target.ack"
	KindAddition = "extradition.target.addition"
	// KindTargetPhoto carries a photo's bytes ahead of the version that
	// names it.
	KindTargetPhoto = "extradition.target.attachment"
)

// Log entry kinds.
const (
	KindLogNominated = "extradition.target.nominated"
	KindLogChanged   = "extradition.target.changed"
	KindLogSubmitted = "extradition.target.submitted"
	KindLogReturned  = "extradition.target.returned"
	KindLogReleased  = "extradition.target.released"
	KindLogUpdated   = "extradition.target.updated"
	KindLogReceived  = "extradition.target.received"
	KindLogAcked     = "extradition.target.acknowledged"
	KindLogAdded     = "extradition.target.added"
)

// Errors with a contract.
var (
	ErrForbidden = fmt.Errorf("extradition: %w", fault.ErrForbidden)
	ErrNotFound  = fmt.Errorf("target: %w", fault.ErrNotFound)
	ErrState     = fault.New(fault.ErrConflict, "wrong_stage", "not possible at the nomination's current stage")
	ErrFourEyes  = fault.New(fault.ErrForbidden, "four_eyes", "a nomination is released by someone other than its author")
	ErrFinal     = fault.New(fault.ErrConflict, "final_status", "the target is withdrawn: nothing changes any more")
)

// Config assembles a Service.
type Config struct {
	DB        *store.DB
	Link      *link.Link
	Hub       *live.Hub
	Agreement *agreement.Agreement
	Lists     *screen.Lists // the node's screening lists, which the targets join
	// Trust, when set, reports our users' reads of the partner's cases to
	// it.
	Trust  *trust.Service
	Logger *slog.Logger
	// SweepInterval is how often the clocks are swept (0: a minute).
	SweepInterval time.Duration
	// Identity signs case records; AgreementHash names the agreement
	// they are issued under.
	Identity      *identity.Identity
	AgreementHash string
}

// Service runs the extradition area of one node: the priority targets.
type Service struct {
	cfg     Config
	db      *store.DB
	link    *link.Link
	log     *trustlog.Log
	self    string
	partner string
	cals    *Calendars
	// screened is the digest of the targets last put in the screening
	// list, under mu.
	screened string
	mu       sync.Mutex

	area.Clock
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, db: cfg.DB, link: cfg.Link, log: cfg.Link.TrustLog(), self: cfg.Link.Self(), partner: cfg.Link.Partner(),
		cals: NewCalendars(cfg.Agreement)}
}

// Self and Partner are the party codes.
func (s *Service) Self() string    { return s.self }
func (s *Service) Partner() string { return s.partner }

// DefaultCaveats are those of a nomination released without others: the
// partner's extradition agencies, for the agreement's retention.
func (s *Service) DefaultCaveats() caveats.Caveats {
	ag := s.cfg.Agreement
	days := ag.Retention[agreement.AreaExtradition]
	if days <= 0 {
		days = 3650
	}
	class := ag.Caveats.Classification
	if !slices.Contains(caveats.Classifications, class) {
		class = "RESTRICTED"
	}
	return caveats.Caveats{Classification: class, Purpose: caveats.PurposeIntelligence, RetentionDays: days, ThirdPartyRule: ag.Caveats.ThirdPartyRule,
		ReleasableTo: slices.Clone(Agencies[s.partner])}
}

func targetStream(id string) string { return "extradition:t:" + id }

// changed publishes a change after the commit, which also has every
// replica's screening list rebuilt (RunLocal).
func (s *Service) changed(tx *store.Tx, key string) {
	tx.AfterCommit(func() { s.cfg.Hub.Publish(live.Event{Topic: Name, Key: key}) })
}

// Visible reports whether u may see t on side self: a nomination of ours
// to our extradition agencies once released, before that to its agency
// and the reviewers; the partner's to the agencies its caveats name;
// everything to auditors.
func (t *Target) Visible(u *auth.User, self string) bool {
	if u.Can(auth.ReadAll) {
		return true
	}
	if !u.Can(auth.ExtRead) {
		return false
	}
	if t.Origin != self {
		return slices.Contains(t.Caveats.ReleasableTo, u.Agency)
	}
	if !slices.Contains(Agencies[self], u.Agency) {
		return false
	}
	return t.Stage == StageReleased || u.Agency == t.Agency || (t.Stage == StageSubmitted && u.Can(auth.ExtRelease))
}

func loadTarget(ctx context.Context, q store.Querier, id string) (*Target, error) {
	t, err := store.ScanJSON[Target](q.QueryRow(ctx, `SELECT doc FROM targets WHERE id = ?`, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading target %s: %w", id, err)
	}
	return t, nil
}

func scanTarget(sc store.Scanner) (*Target, error) { return store.ScanJSON[Target](sc) }

func (s *Service) saveTarget(ctx context.Context, tx *store.Tx, t *Target, insert bool) error {
	t.UpdatedAt = s.Now()
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding target: %w", err)
	}
	if insert {
		_, err = tx.Exec(ctx, `INSERT INTO targets (id, origin, stage, status, agency, name, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Origin, t.Stage, t.Status, t.Agency, t.Name, t.UpdatedAt.UnixMilli(), string(doc))
	} else {
		_, err = tx.Exec(ctx, `UPDATE targets SET stage = ?, status = ?, name = ?, updated_at = ?, doc = ? WHERE id = ?`,
			t.Stage, t.Status, t.Name, t.UpdatedAt.UnixMilli(), string(doc), t.ID)
	}
	if err != nil {
		return fmt.Errorf("storing target: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM target_photos WHERE target_id = ?`, t.ID); err != nil {
		return fmt.Errorf("storing target photos: %w", err)
	}
	for _, p := range t.Photos {
		if _, err := tx.Exec(ctx, `INSERT INTO target_photos (target_id, sha256) VALUES (?, ?) ON CONFLICT DO NOTHING`, t.ID, p.SHA256); err != nil {
			return fmt.Errorf("storing target photos: %w", err)
		}
	}
	s.changed(tx, "t:"+t.ID)
	return nil
}
