package finintel

import (
	"puente/internal/caveats"
	"sync/atomic"

	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/screen"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

// Log entry kinds of this work area (besides the link's and trust's).
const (
	KindLogReleased = "finintel.released"
	KindLogSealed   = "finintel.sealed"
	KindLogConsent  = "finintel.consent_decided"
	KindLogReminder = "finintel.rfi_reminder"
)

// Config assembles a Service.
type Config struct {
	DB        *store.DB
	Link      *link.Link
	Hub       *live.Hub
	Trust     *trust.Service
	Agreement *agreement.Agreement
	Lists     *screen.Lists // for screening incoming subjects; may be nil
	Logger    *slog.Logger
	// Interval is how often the worker checks retention, reminders and
	// screening (default 30 s).
	Interval time.Duration
}

// Service runs financial intelligence on one node.
type Service struct {
	cfg     Config
	db      *store.DB
	link    *link.Link
	log     *trustlog.Log
	self    string
	partner string
	wake    chan struct{}
	// ownScreened is the version of the node's own screening lists the
	// received disclosures were last screened against.
	ownScreened atomic.Int64

	mu  sync.Mutex
	now func() time.Time
}

// New returns the service; the node registers its Kinds.
func New(cfg Config) *Service {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, db: cfg.DB, link: cfg.Link, log: cfg.Link.TrustLog(), self: cfg.Link.Self(), partner: cfg.Link.Partner(),
		wake: make(chan struct{}, 1), now: time.Now}
	return s
}

// SetClock replaces the service's clock: a test hook, so a test can
// answer a request after its deadline or let a retention period run out.
func (s *Service) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetLists replaces the sanctions lists that incoming subjects are
// screened against (tests use small fixtures).
func (s *Service) SetLists(l *screen.Lists) {
	s.mu.Lock()
	s.cfg.Lists = l
	s.mu.Unlock()
	s.kick()
}

func (s *Service) lists() *screen.Lists {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Lists
}

// Now is the service's clock, to the millisecond (what the store keeps).
func (s *Service) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now().UTC().Truncate(time.Millisecond)
}

func discStream(id string) string { return "finintel:d:" + id }
func rfiStream(id string) string  { return "finintel:r:" + id }

// DefaultCaveats are the caveats a new draft starts with, from the
// agreement.
func (s *Service) DefaultCaveats() caveats.Caveats {
	ag := s.cfg.Agreement
	days := ag.Retention[agreement.AreaFinIntel]
	if days <= 0 {
		days = 1825
	}
	purpose := caveats.PurposeIntelligence
	if ag.Caveats.Purpose == caveats.PurposeEvidential {
		purpose = caveats.PurposeEvidential
	}
	class := ag.Caveats.Classification
	if !slices.Contains(caveats.Classifications, class) {
		class = "RESTRICTED"
	}
	return caveats.Caveats{Classification: class, Purpose: purpose, RetentionDays: days, ThirdPartyRule: ag.Caveats.ThirdPartyRule}
}

// ResponseDays is side's commitment for answering a request in this work
// area.
func (s *Service) ResponseDays(side string) int {
	return s.cfg.Agreement.Commitments[side].ResponseDays[agreement.AreaFinIntel]
}

// Self and Partner are the party codes.
func (s *Service) Self() string    { return s.self }
func (s *Service) Partner() string { return s.partner }

// isFIU reports whether u works for this node's FIU: only the FIU sends
// and receives disclosures and requests.
func (s *Service) isFIU(u *auth.User) bool { return u.Agency == auth.FIU[s.self] }

func (s *Service) changed(tx *store.Tx, key string) {
	tx.AfterCommit(func() { s.cfg.Hub.Publish(live.Event{Topic: "finintel", Key: key}) })
}

func (s *Service) entry(ctx context.Context, tx *store.Tx, kind, object, digest, detail string) error {
	_, err := s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: kind, Actor: trustlog.ActorOf(ctx), Object: object, Digest: digest, Detail: detail})
	return err
}

func who(u *auth.User) string { return u.Username }

func agencies(list ...string) string {
	return " " + strings.Join(slices.Compact(slices.Sorted(slices.Values(list))), " ") + " "
}

// visible is the SQL condition under which u sees a row of alias t.
func visible(u *auth.User, t string) (string, []any) {
	if u.Can(auth.ReadAll) {
		return "1 = 1", nil
	}
	if !u.Can(auth.FinIntelRead) {
		return "1 = 0", nil
	}
	return store.HasWord(t + ".local_agencies"), []any{u.Agency}
}
