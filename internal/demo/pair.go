package demo

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"puente/internal/auth"
	"puente/internal/web"

	"puente/internal/agreement"
	"puente/internal/identity"
	"puente/internal/node"
)

// NodeSpec says where one node of a pair listens and what store it uses.
type NodeSpec struct {
	HTTPAddr       string
	FederationAddr string
	// Database is an SQLite file name or a postgres:// URL; empty means
	// puente.db in the node folder.
	Database string
	// BulkEvaluations, if set, is the party's commitment of cross-match
	// evaluations per day in the drafted agreement (tests and benchmarks
	// that cross-match large indexes).
	BulkEvaluations int
}

// CreatePair creates dir/MX and dir/US with keys and configuration, drafts
// the agreement between them, has both sign it and installs it in both:
// the two-machine setup of the README, done on one machine.
func CreatePair(dir string, specs map[string]NodeSpec) error {
	var parties []agreement.Party
	for _, code := range []string{"MX", "US"} {
		s := specs[code]
		p, err := node.Init(node.InitOptions{
			Dir: filepath.Join(dir, code), Party: code, Name: names[code],
			HTTPAddr: s.HTTPAddr, FederationAddr: s.FederationAddr, Database: s.Database, Local: true,
		})
		if err != nil {
			return err
		}
		parties = append(parties, *p)
	}
	draft := agreement.Draft(parties[0], parties[1])
	for code, s := range specs {
		if c, ok := draft.Commitments[code]; ok && s.BulkEvaluations > 0 {
			c.MatchBulkEvaluationsPerDay = s.BulkEvaluations
			draft.Commitments[code] = c
		}
	}
	raw, err := draft.Encode()
	if err != nil {
		return err
	}
	f, err := agreement.Parse(raw)
	if err != nil {
		return err
	}
	for _, code := range []string{"MX", "US"} {
		id, err := identity.Load(filepath.Join(dir, code))
		if err != nil {
			return err
		}
		if err := f.Sign(id.Signing); err != nil {
			return err
		}
	}
	signed, err := f.Marshal()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "agreement.json")
	if err := os.WriteFile(path, signed, 0o644); err != nil {
		return fmt.Errorf("writing agreement: %w", err)
	}
	for _, code := range []string{"MX", "US"} {
		if _, err := node.InstallAgreement(filepath.Join(dir, code), path); err != nil {
			return err
		}
	}
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Pair is two running in-process nodes with an API token for one user on
// each, for benchmarks and tests.
type Pair struct {
	Dir    string
	Nodes  map[string]*node.Node
	Tokens map[string]string
	cancel context.CancelFunc
	done   chan struct{}
	// PostgreSQL schemas the pair created, dropped by Close.
	pg      string
	schemas []string
}

// StartPair creates and starts a pair in dir (or, if a federation port
// picked for it was taken meanwhile by another process, in a fresh folder
// under dir: Pair.Dir says which). With pg set, each node uses its own
// schema on that PostgreSQL server.
//
// Each configure function, if any, adjusts both nodes' configuration
// before they open (a test's short stall_after, a lower match quota).
func StartPair(ctx context.Context, dir, pg string, log *slog.Logger, configure ...func(party string, c *node.Config)) (*Pair, error) {
	return StartPairWith(ctx, dir, pg, log, PairOptions{Configure: configure})
}

// PairOptions shape a pair beyond its defaults.
type PairOptions struct {
	// Configure adjusts both nodes' configuration before they open.
	Configure []func(party string, c *node.Config)
	// BulkEvaluations is both parties' cross-match commitment (0: the
	// agreement's default).
	BulkEvaluations int
}

// StartPairWith is StartPair with options.
func StartPairWith(ctx context.Context, dir, pg string, log *slog.Logger, o PairOptions) (*Pair, error) {
	for attempt := 0; ; attempt++ {
		d := dir
		if attempt > 0 {
			d = filepath.Join(dir, fmt.Sprintf("attempt-%d", attempt))
		}
		p, err := startPair(ctx, d, pg, log, o)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || attempt == 4 {
			return p, err
		}
	}
}

func startPair(ctx context.Context, dir, pg string, log *slog.Logger, o PairOptions) (*Pair, error) {
	specs := map[string]NodeSpec{}
	var schemas []string
	for _, code := range []string{"MX", "US"} {
		fed, err := freePort()
		if err != nil {
			return nil, err
		}
		s := NodeSpec{HTTPAddr: "127.0.0.1:0", FederationAddr: fed, BulkEvaluations: o.BulkEvaluations}
		if pg != "" {
			name := "pair_" + strings.ToLower(code) + "_" + strings.ToLower(rand.Text()[:10])
			dsn, err := Schema(ctx, pg, name)
			if err != nil {
				return nil, err
			}
			s.Database = dsn
			schemas = append(schemas, name)
		}
		specs[code] = s
	}
	if err := CreatePair(dir, specs); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	p := &Pair{Dir: dir, Nodes: map[string]*node.Node{}, Tokens: map[string]string{}, cancel: cancel, done: make(chan struct{}, 2), pg: pg, schemas: schemas}
	users := map[string][2]string{"MX": {"UIF", "analista"}, "US": {"FinCEN", "analyst"}}
	for _, code := range []string{"MX", "US"} {
		cfg, err := node.LoadConfig(filepath.Join(dir, code))
		if err != nil {
			p.Close()
			return nil, err
		}
		for _, f := range o.Configure {
			f(code, cfg)
		}
		n, err := web.OpenNode(ctx, filepath.Join(dir, code), cfg, log)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.Nodes[code] = n
		u, err := n.Auth.Create(ctx, auth.NewUser{Username: users[code][1], DisplayName: "Bench " + code, Role: auth.Analyst, Agency: users[code][0], Password: "bench-password-123"})
		if err != nil {
			p.Close()
			return nil, err
		}
		_, tok, err := n.Auth.NewToken(ctx, u.ID, "bench")
		if err != nil {
			p.Close()
			return nil, err
		}
		p.Tokens[code] = tok
		ready := make(chan struct{})
		failed := make(chan error, 1)
		go func() {
			if err := n.Run(runCtx, ready); err != nil {
				failed <- err
			}
			p.done <- struct{}{}
		}()
		select {
		case <-ready:
		case err := <-failed:
			p.Close()
			return nil, fmt.Errorf("starting node %s: %w", code, err)
		}
	}
	return p, nil
}

// URL is a node's base URL.
func (p *Pair) URL(code string) string { return "http://" + p.Nodes[code].HTTPAddr() }

// Close stops both nodes.
func (p *Pair) Close() {
	p.cancel()
	for range p.Nodes {
		<-p.done
	}
	for _, n := range p.Nodes {
		n.Close()
	}
	if len(p.schemas) > 0 {
		if db, err := sql.Open("pgx", p.pg); err == nil {
			for _, s := range p.schemas {
				_, _ = db.Exec(`DROP SCHEMA IF EXISTS ` + s + ` CASCADE`)
			}
			db.Close()
		}
	}
}

// Schema creates a fresh schema on a PostgreSQL server and returns a URL
// whose connections use it.
func Schema(ctx context.Context, server, name string) (string, error) {
	db, err := sql.Open("pgx", server)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+name+` CASCADE; CREATE SCHEMA `+name); err != nil {
		return "", fmt.Errorf("creating schema %s: %w", name, err)
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
