package link

import (
	"maps"
	"slices"

	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"puente/internal/agreement"
	"puente/internal/identity"
	"puente/internal/live"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// Handler applies one kind of envelope from the partner, inside the
// receiver's transaction. Returning a *RejectError refuses the envelope for
// good (it is quarantined and answered with a signed rejection); any other
// error aborts the batch, which the sender will retry.
type Handler interface {
	Apply(ctx context.Context, tx *store.Tx, env *Envelope) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, tx *store.Tx, env *Envelope) error

func (f HandlerFunc) Apply(ctx context.Context, tx *store.Tx, env *Envelope) error {
	return f(ctx, tx, env)
}

// RejectError is a handler's final refusal of an envelope's content.
type RejectError struct {
	Code   string
	Reason string
}

func (e *RejectError) Error() string { return e.Code + ": " + e.Reason }

// Reject returns a *RejectError for invalid content.
func Reject(format string, args ...any) error {
	return &RejectError{Code: CodeInvalidContent, Reason: fmt.Sprintf(format, args...)}
}

// Config is what a Link needs.
type Config struct {
	Self      string
	Identity  *identity.Identity
	Agreement *agreement.File
	DB        *store.DB
	Hub       *live.Hub
	Logger    *slog.Logger
	Registry  prometheus.Registerer
	// MaxBackoff caps the wait between delivery attempts while the partner
	// is down. Default 10 s.
	MaxBackoff time.Duration
	// Heartbeat is how often an idle link says hello. Default 5 s.
	Heartbeat time.Duration
	// BatchSize caps envelopes per delivery request. Default 256.
	BatchSize int
	// Log is the node's transparency log: every envelope sent, received
	// and rejected, and every receipt, is appended to it.
	Log *trustlog.Log
}

// Link is one node's side of the link.
type Link struct {
	cfg        Config
	self       agreement.Party
	partner    agreement.Party
	partnerKey ed25519.PublicKey
	partnerLog *trustlog.Keys
	maxBody    int
	log        *slog.Logger

	handlers  map[string]Handler
	fedRoutes map[string]http.Handler
	client    *http.Client

	cpMu   sync.Mutex
	cpSeen []*trustlog.Checkpoint // recently verified partner checkpoints

	opened  time.Time // when the link was made: down since then, until it connects
	mu      sync.Mutex
	state   linkState // as the delivery worker sees it (Run)
	metrics metrics
}

type linkState struct {
	connected   bool
	since       time.Time
	lastError   string
	mismatch    string
	lastReceipt time.Time
}

type metrics struct {
	deliveries *prometheus.CounterVec
	failures   prometheus.Counter
	latency    prometheus.Histogram
	received   *prometheus.CounterVec
}

// New returns a Link; register handlers with Handle, then call Run.
func New(cfg Config) (*Link, error) {
	self, ok := cfg.Agreement.Party(cfg.Self)
	if !ok {
		return nil, fmt.Errorf("this node's party %s is not in the agreement", cfg.Self)
	}
	if self.SigningKey != cfg.Identity.SigningKeyString() {
		return nil, fmt.Errorf("this node's signing key is not the one the agreement names for %s", cfg.Self)
	}
	if self.TLSFingerprint != cfg.Identity.TLSFingerprint() {
		return nil, fmt.Errorf("this node's TLS certificate is not the one the agreement names for %s", cfg.Self)
	}
	partner, _ := cfg.Agreement.Partner(cfg.Self)
	pk, err := identity.ParsePublicKey(partner.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("reading the partner's key: %w", err)
	}
	if cfg.Log == nil {
		return nil, errors.New("the link needs the node's transparency log")
	}
	plog, err := trustlog.PartyKeys(partner.Code, pk)
	if err != nil {
		return nil, err
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 5 * time.Second
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Hub == nil {
		cfg.Hub = live.NewHub()
	}
	l := &Link{
		cfg: cfg, self: self, partner: partner, partnerKey: pk, partnerLog: plog, fedRoutes: map[string]http.Handler{},
		maxBody:  cfg.Agreement.Body().Limits.MaxBodyBytes,
		log:      cfg.Logger.With("component", "link", "partner", partner.Code),
		handlers: map[string]Handler{}, opened: time.Now(),
	}
	l.client = &http.Client{Transport: &http.Transport{
		TLSClientConfig:     l.clientTLS(),
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}, Timeout: 2 * time.Minute}
	l.initMetrics()
	return l, nil
}

func (l *Link) initMetrics() {
	l.metrics = metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "puente_link_deliveries_total", Help: "Envelopes answered by the partner, by receipt status."}, []string{"status"}),
		failures:   prometheus.NewCounter(prometheus.CounterOpts{Name: "puente_link_delivery_failures_total", Help: "Delivery attempts that failed (partner unreachable, bad answer)."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "puente_link_delivery_latency_seconds", Help: "Time from an envelope's creation to its stored receipt.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600}}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "puente_link_received_total", Help: "Envelopes received from the partner, by outcome."}, []string{"status"}),
	}
	if r := l.cfg.Registry; r != nil {
		r.MustRegister(l.metrics.deliveries, l.metrics.failures, l.metrics.latency, l.metrics.received,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "puente_link_queue_depth", Help: "Envelopes waiting for the partner."}, func() float64 {
				n, _, _ := l.pending(context.Background())
				return float64(n)
			}),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "puente_link_connected", Help: "1 when the partner answered the last attempt."}, func() float64 {
				if st, err := l.readState(context.Background()); err == nil && st.connected {
					return 1
				}
				return 0
			}),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "puente_link_stream_numbers_retried_total",
				Help: "Envelope numbers this process remembered wrongly (a write outside it, as by a replica of an earlier release); each cost its group a retry."},
				func() float64 { return float64(l.streams().Stale()) }))
	}
}

// Handle registers h for envelopes of kind at version.
func (l *Link) Handle(kind string, version int, h Handler) {
	l.handlers[kind+"/"+strconv.Itoa(version)] = h
}

// Kinds lists the registered kinds as "kind/version", sorted.
func (l *Link) Kinds() []string {
	return slices.Sorted(maps.Keys(l.handlers))
}

// Self is this node's party code; Partner the other's.
func (l *Link) Self() string    { return l.self.Code }
func (l *Link) Partner() string { return l.partner.Code }

// Outgoing is what a domain service hands to Enqueue.
type Outgoing struct {
	Kind    string
	Version int
	// Stream orders envelopes: within one stream the partner applies them in
	// the order they were enqueued.
	Stream  string
	Caveats any
	Body    any
	// RawBody, when set, is sent as the body as is (attachments).
	RawBody []byte
}

// NewID returns a fresh random identifier (26 base32 characters, 130 bits).
func NewID() string { return rand.Text() }

// Enqueue signs an envelope and writes it to the outbox inside tx, so it
// leaves if and only if the change that caused it commits.
func (l *Link) Enqueue(ctx context.Context, tx *store.Tx, o Outgoing) (*Envelope, error) {
	caveats, err := json.Marshal(o.Caveats)
	if err != nil {
		return nil, fmt.Errorf("encoding caveats: %w", err)
	}
	body := o.RawBody
	if body == nil {
		if body, err = json.Marshal(o.Body); err != nil {
			return nil, fmt.Errorf("encoding %s body: %w", o.Kind, err)
		}
	}
	if len(body) > l.maxBody {
		return nil, fmt.Errorf("%s body is %d bytes: %w", o.Kind, len(body), ErrTooLarge)
	}
	seq, err := l.streams().Next(ctx, tx, o.Stream)
	if err != nil {
		return nil, fmt.Errorf("numbering stream %s: %w", o.Stream, err)
	}
	e := &Envelope{
		ID: NewID(), Kind: o.Kind, Version: o.Version, Stream: o.Stream, Seq: seq,
		From: l.self.Code, To: l.partner.Code, Created: timestamp(time.Now()),
		Agreement: l.cfg.Agreement.HashHex(), Caveats: caveats, Body: body,
	}
	if err := e.check(l.maxBody); err != nil {
		return nil, fmt.Errorf("building envelope: %w", err)
	}
	e.Sign(l.cfg.Identity.Signing)
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encoding envelope: %w", err)
	}
	hash := e.Hash()
	if _, err := l.cfg.Log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: trustlog.KindEnvelopeSent,
		Actor: "node:" + e.From, Object: "envelope:" + e.ID, Digest: hash, Detail: "kind=" + e.Kind}); err != nil {
		return nil, err
	}
	if err := tx.ExecDeferred(ctx, `INSERT INTO outbox (envelope_id, envelope_hash, stream, seq, kind, raw, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.ID, hash, e.Stream, e.Seq, e.Kind, raw, store.Now()); err != nil {
		return nil, fmt.Errorf("writing outbox: %w", err)
	}
	tx.AfterCommit(l.Wake)
	return e, nil
}

// streams numbers the envelopes of each stream (stream_seq).
func (l *Link) streams() *store.Counter { return l.cfg.DB.Counter("stream_seq", "stream", "last_seq") }

// WakeName is the delivery worker's name on the live hub (live.Hub.Wake).
const WakeName = "link.delivery"

// Wake tells the delivery worker there is something to send, on whichever
// replica of the node runs it.
func (l *Link) Wake() { l.cfg.Hub.Wake(WakeName) }

// Status is the link at a glance, for the home page and /readyz.
type Status struct {
	Self              string    `json:"self"`
	Partner           string    `json:"partner"`
	Connected         bool      `json:"connected"`
	Since             time.Time `json:"since"`
	LastError         string    `json:"last_error,omitempty"`
	AgreementMismatch string    `json:"agreement_mismatch,omitempty"`
	Pending           int       `json:"pending"`
	OldestPending     time.Time `json:"oldest_pending"`
	LastReceipt       time.Time `json:"last_receipt"`
	Rejected          int       `json:"rejected_by_partner"`
	Quarantined       int       `json:"quarantined"`
	AgreementHash     string    `json:"agreement_hash"`
}

// Status reports the link's state. The delivery worker, on whichever
// replica of the node runs it, keeps it in the store (link_state), so every
// replica reports the same.
func (l *Link) Status(ctx context.Context) (Status, error) {
	s, err := l.Connection(ctx)
	if err != nil {
		return s, err
	}
	s.Pending, s.OldestPending, err = l.pending(ctx)
	if err != nil {
		return s, err
	}
	q := l.cfg.DB.Read()
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE state = 'rejected'`).Scan(&s.Rejected); err != nil {
		return s, fmt.Errorf("counting rejected envelopes: %w", err)
	}
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM quarantine`).Scan(&s.Quarantined); err != nil {
		return s, fmt.Errorf("counting quarantine: %w", err)
	}
	return s, nil
}

// Connection is the part of Status the delivery worker stores (Connected,
// Since, LastError, AgreementMismatch, LastReceipt), read in one small
// query: cheap enough for a load balancer's health checks.
func (l *Link) Connection(ctx context.Context) (Status, error) {
	s := Status{Self: l.self.Code, Partner: l.partner.Code, AgreementHash: l.cfg.Agreement.HashHex()}
	st, err := l.readState(ctx)
	if err != nil {
		return s, err
	}
	s.Connected, s.Since, s.LastError, s.AgreementMismatch, s.LastReceipt = st.connected, st.since, st.lastError, st.mismatch, st.lastReceipt
	return s, nil
}

// StreamOf returns the stream of an envelope this node sent.
func (l *Link) StreamOf(ctx context.Context, envelopeID string) (string, bool) {
	var stream string
	err := l.cfg.DB.Read().QueryRow(ctx, `SELECT stream FROM outbox WHERE envelope_id = ?`, envelopeID).Scan(&stream)
	return stream, err == nil
}

func (l *Link) pending(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest sql.NullInt64
	err := l.cfg.DB.Read().QueryRow(ctx, `SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("reading the outbox: %w", err)
	}
	return n, store.Time(oldest.Int64), nil
}

// readState reads the link's state as the delivery worker last stored it.
// A node that never ran its worker is down since it was opened.
func (l *Link) readState(ctx context.Context) (linkState, error) {
	var st linkState
	rows, err := l.cfg.DB.Read().Query(ctx, `SELECT name, value FROM link_state`)
	if err != nil {
		return st, fmt.Errorf("reading link state: %w", err)
	}
	v := map[string]string{}
	for rows.Next() {
		var k, val string
		if err := rows.Scan(&k, &val); err != nil {
			rows.Close()
			return st, fmt.Errorf("reading link state: %w", err)
		}
		v[k] = val
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("reading link state: %w", err)
	}
	at := func(name string) time.Time {
		n, _ := strconv.ParseInt(v[name], 10, 64)
		return store.Time(n)
	}
	st.connected, st.lastError, st.mismatch, st.lastReceipt = v["connected"] == "1", v["last_error"], v["mismatch"], at("last_receipt")
	st.since = at("down_since")
	if st.connected {
		st.since = at("up_since")
	}
	if st.since.IsZero() {
		st.since = l.opened
	}
	return st, nil
}

// saveState stores the link's state for every replica to report.
func (l *Link) saveState(ctx context.Context, values map[string]string) {
	err := l.cfg.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		for name, value := range values {
			if _, err := tx.Exec(ctx, `INSERT INTO link_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrNotLeader) {
		l.log.Error("saving link state", "err", err)
	}
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func (l *Link) markUp(ctx context.Context) {
	l.mu.Lock()
	changed := !l.state.connected || l.state.lastError != ""
	if !l.state.connected {
		l.state.connected, l.state.since = true, time.Now()
	}
	since := l.state.since
	l.state.lastError, l.state.mismatch = "", ""
	l.mu.Unlock()
	if changed {
		l.log.Info("partner connected")
		l.saveState(ctx, map[string]string{"connected": "1", "up_since": ms(since), "last_error": "", "mismatch": ""})
		l.cfg.Hub.Publish(live.Event{Topic: "link"})
	}
}

func (l *Link) markDown(ctx context.Context, err error) {
	l.metrics.failures.Inc()
	var mm *MismatchError
	l.mu.Lock()
	wasUp := l.state.connected
	if l.state.connected || l.state.since.IsZero() {
		l.state.connected, l.state.since = false, time.Now()
	}
	changed := wasUp || l.state.lastError != err.Error()
	since := l.state.since
	l.state.lastError = err.Error()
	if errors.As(err, &mm) {
		l.state.mismatch = mm.Error()
	}
	mismatch := l.state.mismatch
	l.mu.Unlock()
	if changed {
		if wasUp || mismatch != "" {
			l.log.Warn("partner unreachable", "err", err)
		}
		l.saveState(ctx, map[string]string{"connected": "0", "down_since": ms(since), "last_error": err.Error(), "mismatch": mismatch})
		l.cfg.Hub.Publish(live.Event{Topic: "link"})
	}
}

// MismatchError says the two nodes run different agreements.
type MismatchError struct{ Ours, Theirs string }

func (e *MismatchError) Error() string {
	return fmt.Sprintf("the partner runs agreement %s but this node runs %s: the link is refused until both run the same signed agreement", short(e.Theirs), short(e.Ours))
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// PartnerLogKeys are the partner's log keys, derived from its signing key
// in the agreement.
func (l *Link) PartnerLogKeys() *trustlog.Keys { return l.partnerLog }

// TrustLog is this node's transparency log.
func (l *Link) TrustLog() *trustlog.Log { return l.cfg.Log }
