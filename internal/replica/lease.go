// Package replica lets several `puente serve` processes, the replicas of
// one node, share one PostgreSQL store: any of them can be lost.
//
// All replicas serve users, the API and the partner's federation traffic.
// The work that must run once per node (the delivery worker, the trust
// loop that signs and sends checkpoints, the areas' scheduled workers)
// runs on the one replica that holds the node's lease, a row in the store
// (Elector). The lease lasts a few seconds and its holder renews it
// twice a second; another replica takes it over when it runs out, or at
// once when the holder's database session is gone (the process died).
// Every write the leader's work makes checks the lease in its own
// transaction (store.Fence), so a replica that lost the lease (paused, cut
// off) can never write as the leader again.
//
// Live events and workers' wakes cross between replicas through
// PostgreSQL's LISTEN/NOTIFY (Bus), behind the node's live hub.
package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"puente/internal/store"
)

// Defaults of a lease's timing.
const (
	DefaultTTL   = 3 * time.Second
	DefaultRenew = 500 * time.Millisecond
)

// nowMS is the database's clock in Unix milliseconds, the store's unit.
// Lease times are the database's, never a replica's: the replicas' clocks
// may disagree, the one database's cannot.
const nowMS = `(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT`

// Config configures an Elector.
type Config struct {
	// DSN is the node's PostgreSQL store; the elector keeps its own
	// connection to it, whose session marks the holder as alive.
	DSN string
	// Name names this replica (default: host name and process id).
	Name string
	// TTL is how long a lease lasts unless renewed (default 3 s); Renew
	// how often the holder renews it and the others look (default 0.5 s).
	TTL, Renew time.Duration
	Logger     *slog.Logger
	Registry   prometheus.Registerer
}

// DefaultName is a replica's name when none is configured: its host and
// process id.
func DefaultName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// Elector takes and keeps the node's lease, and runs the leader's work
// while it holds it.
type Elector struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	status Status // all but Leading, which cur tells
	// cur is the term this replica holds, if any: Status reads its lease
	// on this replica's own clock, so a replica that was paused past its
	// lease does not say it leads before its loop has noticed.
	cur atomic.Pointer[term]

	leader    prometheus.Gauge
	handovers prometheus.Counter
	fenced    prometheus.Counter
}

// Status is who leads the node, as this replica last saw it.
type Status struct {
	// Replica is this replica's name; Leading whether it holds the lease.
	Replica string `json:"replica"`
	Leading bool   `json:"leading"`
	// Leader holds the lease (empty: nobody yet, or unknown), since
	// Since, in term Epoch.
	Leader string    `json:"leader"`
	Epoch  int64     `json:"epoch"`
	Since  time.Time `json:"since"`
	// Error is why this replica cannot reach the lease, if it cannot.
	Error string `json:"error,omitempty"`
}

// NewElector returns an elector; Run takes part in the election.
func NewElector(cfg Config) *Elector {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Renew <= 0 {
		cfg.Renew = DefaultRenew
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Elector{cfg: cfg, log: cfg.Logger.With("component", "replica", "replica", cfg.Name), status: Status{Replica: cfg.Name}}
	e.leader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "puente_replica_leader", Help: "1 while this replica leads the node (holds its lease)."})
	e.handovers = prometheus.NewCounter(prometheus.CounterOpts{Name: "puente_replica_terms_total", Help: "Terms this replica began as the node's leader."})
	e.fenced = prometheus.NewCounter(prometheus.CounterOpts{Name: "puente_replica_fenced_writes_total", Help: "Leader-only writes refused because this replica no longer held the lease."})
	if r := cfg.Registry; r != nil {
		r.MustRegister(e.leader, e.handovers, e.fenced,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "puente_replica_since_handover_seconds", Help: "Seconds since the node's current leader took over."}, func() float64 {
				st := e.Status()
				if st.Since.IsZero() {
					return 0
				}
				return time.Since(st.Since).Seconds()
			}),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "puente_replica_epoch", Help: "The node's current leadership term, as this replica last saw it."}, func() float64 {
				return float64(e.Status().Epoch)
			}))
	}
	return e
}

// Name is this replica's name.
func (e *Elector) Name() string { return e.cfg.Name }

// Status is who leads, as this replica last saw it; it says this replica
// leads only while its lease is held on its own clock.
func (e *Elector) Status() Status {
	e.mu.Lock()
	st := e.status
	e.mu.Unlock()
	t := e.cur.Load()
	st.Leading = t != nil && t.Held()
	return st
}

func (e *Elector) setStatus(f func(*Status)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(&e.status)
}

// Run takes part in the election until ctx ends. Each time this replica
// takes the lease it calls lead with a context that carries the lease's
// fence (store.WithFence) and ends when the lease is lost; the lease is
// taken again only after lead has returned.
func (e *Elector) Run(ctx context.Context, lead func(context.Context) error) error {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	tick := time.NewTicker(e.cfg.Renew)
	defer tick.Stop()
	for ctx.Err() == nil {
		if conn == nil || conn.IsClosed() {
			c, err := e.connect(ctx)
			if err != nil && ctx.Err() == nil {
				e.fail(err)
			}
			conn = c
		}
		if conn != nil {
			term, err := e.acquire(ctx, conn)
			switch {
			case err != nil && ctx.Err() != nil:
			case err != nil:
				e.fail(err)
				conn.Close(context.Background())
				conn = nil
			case term != nil:
				if err := e.hold(ctx, conn, term, lead); err != nil {
					return err
				}
				if conn.IsClosed() {
					conn = nil
				}
				continue // look again at once: the lease may be free
			}
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	return nil
}

func (e *Elector) connect(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, e.cfg.TTL)
	defer cancel()
	c, err := pgx.Connect(cctx, e.cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("connecting for the node's lease: %w", err)
	}
	return c, nil
}

// fail notes that the lease cannot be reached; it is logged when the
// reason changes, not twice a second for as long as it lasts.
func (e *Elector) fail(err error) {
	var again bool
	e.setStatus(func(s *Status) { again = s.Error == err.Error(); s.Error = err.Error() })
	if !again {
		e.log.Warn("cannot reach the node's lease", "err", err)
	}
}

// acquire takes the lease if it is free (never taken, run out, or its
// holder's session gone) and returns the new term; otherwise it notes who
// holds it and returns nil.
func (e *Elector) acquire(ctx context.Context, conn *pgx.Conn) (*term, error) {
	qctx, cancel := context.WithTimeout(ctx, e.cfg.TTL)
	defer cancel()
	t := &term{e: e}
	start := time.Now()
	tx, err := conn.Begin(qctx)
	if err != nil {
		return nil, fmt.Errorf("taking the node's lease: %w", err)
	}
	defer tx.Rollback(context.Background())
	var since int64
	err = tx.QueryRow(qctx, `INSERT INTO replica_lease (name, holder, epoch, backend_pid, acquired_at, expires_at)
		VALUES ('node', $1, 1, pg_backend_pid(), `+nowMS+`, `+nowMS+` + $2)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = replica_lease.epoch + 1,
			backend_pid = excluded.backend_pid, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
		WHERE replica_lease.expires_at < `+nowMS+`
			OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = replica_lease.backend_pid)
		RETURNING epoch, acquired_at`, e.cfg.Name, e.cfg.TTL.Milliseconds()).Scan(&t.epoch, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		var st Status
		var ms int64
		if err := tx.QueryRow(qctx, `SELECT holder, epoch, acquired_at FROM replica_lease WHERE name = 'node'`).Scan(&st.Leader, &st.Epoch, &ms); err != nil {
			return nil, fmt.Errorf("reading the node's lease: %w", err)
		}
		e.setStatus(func(s *Status) {
			s.Leader, s.Epoch, s.Since, s.Error = st.Leader, st.Epoch, store.Time(ms), ""
		})
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("taking the node's lease: %w", err)
	}
	if _, err := tx.Exec(qctx, `INSERT INTO replica_terms (epoch, holder, acquired_at) VALUES ($1, $2, $3) ON CONFLICT (epoch) DO NOTHING`, t.epoch, e.cfg.Name, since); err != nil {
		return nil, fmt.Errorf("recording the term: %w", err)
	}
	if err := tx.Commit(qctx); err != nil {
		return nil, fmt.Errorf("taking the node's lease: %w", err)
	}
	t.until.Store(mono(start.Add(e.cfg.TTL - e.cfg.Renew/2)))
	e.setStatus(func(s *Status) {
		s.Leader, s.Epoch, s.Since, s.Error = e.cfg.Name, t.epoch, store.Time(since), ""
	})
	e.cur.Store(t)
	e.leader.Set(1)
	e.handovers.Inc()
	e.log.Info("this replica now leads the node", "epoch", t.epoch)
	return t, nil
}

// hold runs lead while renewing the lease, and returns once the lease is
// lost (or ctx ends) and lead has returned. Only lead's own failure is
// returned: it stops the node.
func (e *Elector) hold(ctx context.Context, conn *pgx.Conn, t *term, lead func(context.Context) error) error {
	lctx, stop := context.WithCancel(store.WithFence(ctx, t))
	defer stop()
	done := make(chan error, 1)
	go func() { done <- lead(lctx) }()
	tick := time.NewTicker(e.cfg.Renew)
	defer tick.Stop()
	var why error
	for why == nil {
		select {
		case err := <-done:
			// The leader's work stopped by itself: a failure stops the
			// node (another replica takes over); nil means ctx ended.
			e.stepDown(ctx, conn, t)
			return err
		case <-ctx.Done():
			why = ctx.Err()
		case <-tick.C:
			if !t.Held() {
				why = errors.New("the lease ran out before it could be renewed")
			} else {
				why = e.renew(ctx, conn, t)
			}
		}
	}
	stop()
	err := <-done
	e.stepDown(ctx, conn, t)
	if ctx.Err() == nil {
		e.log.Warn("this replica no longer leads the node", "epoch", t.epoch, "why", why)
	}
	return err
}

// renew extends the lease; an error means it is lost.
func (e *Elector) renew(ctx context.Context, conn *pgx.Conn, t *term) error {
	qctx, cancel := context.WithTimeout(ctx, e.cfg.TTL/2)
	defer cancel()
	start := time.Now()
	tag, err := conn.Exec(qctx, `UPDATE replica_lease SET expires_at = `+nowMS+` + $3 WHERE name = 'node' AND holder = $1 AND epoch = $2`,
		e.cfg.Name, t.epoch, e.cfg.TTL.Milliseconds())
	if err != nil {
		conn.Close(context.Background())
		return fmt.Errorf("renewing the lease: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return errors.New("another replica took the lease")
	}
	t.until.Store(mono(start.Add(e.cfg.TTL - e.cfg.Renew/2)))
	return nil
}

// stepDown ends the term: the lease is given up at once when the database
// can still be told, so another replica need not wait for it to run out.
func (e *Elector) stepDown(ctx context.Context, conn *pgx.Conn, t *term) {
	t.until.Store(0)
	e.cur.CompareAndSwap(t, nil)
	e.leader.Set(0)
	if conn.IsClosed() {
		return
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.TTL/2)
	defer cancel()
	_, _ = conn.Exec(qctx, `UPDATE replica_lease SET expires_at = 0 WHERE name = 'node' AND holder = $1 AND epoch = $2`, e.cfg.Name, t.epoch)
}

// term is one holding of the lease: the store.Fence its work writes under.
type term struct {
	e     *Elector
	epoch int64
	// until is when, on this replica's monotonic clock, the lease may have
	// run out: the start of the last renewal that succeeded plus the TTL,
	// less a margin. The database's own expiry is later, as the renewal
	// reached it after it started.
	until atomic.Int64
}

// clockBase anchors mono: durations since it are read on the monotonic
// clock, which a change of the wall clock does not move.
var clockBase = time.Now()

// mono is now on the monotonic clock, in nanoseconds since clockBase.
func mono(t time.Time) int64 { return int64(t.Sub(clockBase)) }

// Held reports whether the lease may still be held, on this replica's
// own clock.
func (t *term) Held() bool { return mono(time.Now()) < t.until.Load() }

// Epoch is the term's number.
func (t *term) Epoch() int64 { return t.epoch }

// Check fails unless the lease is still this term's: inside tx, it reads
// the lease row FOR SHARE, so no other replica can take the lease until tx
// has ended.
func (t *term) Check(ctx context.Context, tx *store.Tx) error {
	if !t.Held() {
		t.e.fenced.Inc()
		return store.ErrNotLeader
	}
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM replica_lease WHERE name = 'node' AND holder = ? AND epoch = ? AND expires_at > `+nowMS+` FOR SHARE`,
		t.e.cfg.Name, t.epoch).Scan(&one)
	if errors.Is(err, store.ErrNotFound) {
		t.e.fenced.Inc()
		return store.ErrNotLeader
	}
	if err != nil {
		return fmt.Errorf("checking the node's lease: %w", err)
	}
	return nil
}
