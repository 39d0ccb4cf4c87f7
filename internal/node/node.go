package node

import (
	"puente/internal/area"
	"puente/internal/extradition"

	"golang.org/x/sync/errgroup"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/finintel"
	"puente/internal/identity"
	"puente/internal/liaison"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/match"
	"puente/internal/operations"
	"puente/internal/replica"
	"puente/internal/screen"
	"puente/internal/seizures"
	"puente/internal/store"
	"puente/internal/traces"
	"puente/internal/training"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

// Areas are the work areas every node runs, in the order their figures,
// menus and demo data appear. Adding a work area is one line here (see
// docs/architecture.md, "How to add a work area").
var Areas = []area.Builder{
	liaison.Open,
	match.Open,
	finintel.Open,
	operations.Open,
	seizures.Open,
	traces.Open,
	extradition.Open,
	training.Open,
}

// Node is one running side of the agreement.
type Node struct {
	Dir       string
	Config    *Config
	Identity  *identity.Identity
	Agreement *agreement.File
	DB        *store.DB
	Hub       *live.Hub
	Link      *link.Link
	TrustLog  *trustlog.Log
	Trust     *trust.Service
	Lists     *screen.Lists
	Auth      *auth.Service
	Registry  *prometheus.Registry
	Log       *slog.Logger
	// Elector and Bus are set on PostgreSQL, where the node may run as
	// several replicas: the elector picks the one that does the node's
	// once-only work, the bus carries live events between them.
	Elector *replica.Elector
	Bus     *replica.Bus

	// WebHandler serves users (UI and API). The caller that assembles the
	// node sets it, so this package does not depend on the web layer.
	WebHandler http.Handler

	areas []area.Area

	mu       sync.Mutex
	httpAddr string
	fedAddr  string
}

// Open loads the node in dir under cfg (nil: dir's puente.json as it
// is): it refuses to start with exposed keys or an agreement that is not
// signed by both parties.
func Open(ctx context.Context, dir string, cfg *Config, log *slog.Logger) (*Node, error) {
	if cfg == nil {
		var err error
		if cfg, err = LoadConfig(dir); err != nil {
			return nil, err
		}
	}
	if log == nil {
		log = slog.Default()
	}
	log = log.With("node", cfg.Party)
	id, err := identity.Load(dir)
	if err != nil {
		return nil, err
	}
	ag, err := agreement.Load(resolve(dir, cfg.Agreement))
	if err != nil {
		return nil, err
	}
	// A node serves its SQLite file alone: a second process is refused.
	db, err := cfg.openStore(ctx, dir, true)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	hub := live.NewHub()
	tl, err := trustlog.New(db, cfg.Party, id.Signing)
	if err != nil {
		db.Close()
		return nil, err
	}
	l, err := link.New(link.Config{Self: cfg.Party, Identity: id, Agreement: ag, DB: db, Hub: hub, Logger: log, Registry: reg, Log: tl})
	if err != nil {
		db.Close()
		return nil, err
	}
	n := &Node{
		Dir: dir, Config: cfg, Identity: id, Agreement: ag, DB: db, Hub: hub, Link: l, TrustLog: tl,
		Auth: auth.NewService(db, cfg.Party, tl), Registry: reg, Log: log,
	}
	n.Trust = trust.New(trust.Config{DB: db, Link: l, Hub: hub, Logger: log, Registry: reg, Caveats: ag.Body().Caveats,
		Interval: cfg.CheckpointInterval.Duration, StallAfter: cfg.StallAfter.Duration})
	lists := ""
	if cfg.ListsDir != "" {
		lists = resolve(dir, cfg.ListsDir)
	}
	n.Lists = screen.NewLists(lists)
	deps := area.Deps{Self: cfg.Party, Partner: l.Partner(), DB: db, Link: l, Hub: hub, Log: tl, Trust: n.Trust, Agreement: ag.Body(), AgreementHash: ag.HashHex(), Identity: id,
		Lists: n.Lists, Logger: log, MatchQuota: cfg.MatchQuota, MatchBulkQuota: cfg.MatchBulkQuota}
	if n.areas, err = area.Open(deps, Areas); err != nil {
		db.Close()
		return nil, err
	}
	if err := recordAgreement(ctx, db, tl, ag); err != nil {
		db.Close()
		return nil, err
	}
	if db.Dialect() == store.Postgres {
		dsn := resolve(dir, cfg.Database)
		n.Elector = replica.NewElector(replica.Config{DSN: dsn, Name: cfg.ReplicaName, TTL: cfg.LeaseTTL.Duration, Logger: log, Registry: reg})
		n.Bus = replica.NewBus(dsn, hub, log)
	}
	return n, nil
}

// recordAgreement logs the agreement the node runs under whenever it
// differs from the last one logged: installing a new agreement is a
// change the partner can later verify.
func recordAgreement(ctx context.Context, db *store.DB, tl *trustlog.Log, ag *agreement.File) error {
	return db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		var last string
		err := tx.QueryRow(ctx, `SELECT object FROM log_entries WHERE kind = ? ORDER BY idx DESC LIMIT 1`, trustlog.KindAgreement).Scan(&last)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("reading the logged agreement: %w", err)
		}
		if last == "agreement:"+ag.HashHex() {
			return nil
		}
		_, err = tl.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: trustlog.KindAgreement, Actor: trustlog.ActorOf(ctx),
			Object: "agreement:" + ag.HashHex(), Digest: ag.HashHex()})
		return err
	})
}

// Areas are the node's work areas, in the order of node.Areas.
func (n *Node) Areas() []area.Area { return n.areas }

// Close releases the store.
func (n *Node) Close() error { return n.DB.Close() }

// HTTPAddr and FederationAddr are the bound addresses once Run has started.
func (n *Node) HTTPAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.httpAddr
}

// FederationAddr is the bound federation address once Run has started.
func (n *Node) FederationAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fedAddr
}

// Run serves users and the partner and runs the delivery worker until ctx
// ends, then shuts down gracefully. ready, if not nil, is closed once both
// listeners are bound.
func (n *Node) Run(ctx context.Context, ready chan<- struct{}) error {
	if n.WebHandler == nil {
		return errors.New("node has no web handler")
	}
	hl, err := net.Listen("tcp", n.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listening for users on %s: %w", n.Config.HTTPAddr, err)
	}
	fl, err := net.Listen("tcp", n.Config.FederationAddr)
	if err != nil {
		hl.Close()
		return fmt.Errorf("listening for the partner on %s: %w", n.Config.FederationAddr, err)
	}
	n.mu.Lock()
	n.httpAddr, n.fedAddr = hl.Addr().String(), fl.Addr().String()
	n.mu.Unlock()

	errLog := slog.NewLogLogger(n.Log.Handler(), slog.LevelWarn)
	headerTimeout, readTimeout := n.Config.HeaderTimeout.Duration, n.Config.ReadTimeout.Duration
	if headerTimeout <= 0 {
		headerTimeout = 10 * time.Second
	}
	if readTimeout <= 0 {
		readTimeout = 10 * time.Minute
	}
	web := &http.Server{Handler: n.WebHandler, ReadHeaderTimeout: headerTimeout, ReadTimeout: readTimeout, IdleTimeout: 2 * time.Minute, ErrorLog: errLog,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	fed := &http.Server{Handler: n.Link.FederationHandler(), TLSConfig: n.Link.ServerTLS(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: errLog}

	// The servers and workers run in one group: the first to fail stops
	// the node, and its error is logged and returned, never dropped.
	g, gctx := errgroup.WithContext(ctx)
	workerCtx, stopWorkers := context.WithCancel(context.Background())
	defer stopWorkers()
	g.Go(func() error {
		if err := web.Serve(hl); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("user server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := fed.ServeTLS(fl, "", ""); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("federation server: %w", err)
		}
		return nil
	})
	worker := func(g *errgroup.Group, ctx context.Context, name string, run func(context.Context) error) {
		g.Go(func() error {
			if err := run(ctx); err != nil && ctx.Err() == nil {
				return fmt.Errorf("%s worker: %w", name, err)
			}
			return nil
		})
	}
	// What every replica does for itself.
	for _, a := range n.areas {
		if w, ok := a.(area.LocalWorker); ok {
			worker(g, workerCtx, a.Name()+" (local)", w.RunLocal)
		}
	}
	// What runs once per node: on the leading replica when there may be
	// several, else here.
	lead := func(ctx context.Context) error {
		lg, ctx := errgroup.WithContext(ctx)
		worker(lg, ctx, "delivery", n.Link.Run)
		worker(lg, ctx, "trust", n.Trust.Run)
		for _, a := range n.areas {
			if w, ok := a.(area.Worker); ok {
				worker(lg, ctx, a.Name(), w.Run)
			}
		}
		return lg.Wait()
	}
	if n.Elector != nil {
		worker(g, workerCtx, "replica bus", n.Bus.Run)
		// The lead workers' errors are already named.
		g.Go(func() error { return n.Elector.Run(workerCtx, lead) })
	} else {
		g.Go(func() error { return lead(workerCtx) })
	}
	// Shut everything down once ctx ends or any member fails.
	g.Go(func() error {
		<-gctx.Done()
		n.Log.Info("node stopping")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := web.Shutdown(sctx); err != nil {
			n.Log.Warn("stopping the user server", "err", err)
		}
		if err := fed.Shutdown(sctx); err != nil {
			n.Log.Warn("stopping the federation server", "err", err)
		}
		stopWorkers()
		return nil
	})
	started := []any{"http", "http://" + n.HTTPAddr(), "federation", n.FederationAddr(), "store", n.DB.Dialect(), "agreement", n.Agreement.HashHex(),
		"areas", len(n.areas)}
	if n.Elector != nil {
		started = append(started, "replica", n.Elector.Name())
	}
	n.Log.Info("node started", started...)
	if ready != nil {
		close(ready)
	}
	err = g.Wait()
	if err != nil {
		n.Log.Error("node stopped on a failure", "err", err)
	} else {
		n.Log.Info("node stopped")
	}
	return err
}

// NewLogger returns the JSON logger for level ("debug", "info", "warn",
// "error").
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
