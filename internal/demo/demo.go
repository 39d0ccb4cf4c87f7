// Package demo runs the two-node demonstration: Mexico and the United
// States on loopback, each with its own SQLite file, keys and users, one
// agreement both have signed, and synthetic liaison traffic that really
// crossed the link.
package demo

import (
	"puente/internal/area"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"puente/internal/auth"
	"puente/internal/node"
	"puente/internal/web"
)

// Password is every demo user's password. Demo only.
const Password = "puente-demo-2025"

// Options configure the demo.
type Options struct {
	Dir            string
	MXPort, USPort int
	Fresh          bool
	Out            io.Writer
	// Ready, if set, is closed once both nodes serve.
	Ready chan<- struct{}
	// Lists is the sanctions lists folder both nodes screen against; ""
	// leaves screening off.
	Lists string
}

// User is one demo login.
type User struct {
	Username, Name string
	Role           auth.Role
	Agency         string
}

// Users lists the demo logins per side: one for every role.
var Users = map[string][]User{
	"MX": {
		{"analista", "Ana Martínez (demo)", auth.Analyst, "UIF"},
		{"supervisora", "Sofía Herrera (demo)", auth.Supervisor, "UIF"},
		{"coordinador", "Carlos Ramírez (demo)", auth.Coordinator, "SSPC"},
		{"juridico", "Lucía Torres (demo)", auth.Legal, "FGR"},
		{"guardia", "Gabriela Ortiz (demo)", auth.Coordinator, "GN"},
		{"mando", "Raúl Espinoza (demo)", auth.Supervisor, "GN"},
		{"unidad", "Unidad GN-SON-7 (demo)", auth.Field, "GN"},
		{"policia", "Marco Villa, policía estatal de Sonora (demo)", auth.Coordinator, "SSP-SON"},
		{"capacitacion", "Jorge Medina (demo)", auth.Training, "SEDENA"},
		{"academia", "Patricia Luna, academia GN (demo)", auth.Training, "GN"},
		{"auditor", "Elena Vargas (demo)", auth.Auditor, "SRE"},
		{"admin", "Admin MX (demo)", auth.Admin, "SRE"},
	},
	"US": {
		{"analyst", "Alex Morgan (demo)", auth.Analyst, "FinCEN"},
		{"supervisor", "Sam Carter (demo)", auth.Supervisor, "FinCEN"},
		{"coordinator", "Chris Diaz (demo)", auth.Coordinator, "CBP"},
		{"legal", "Laura Chen (demo)", auth.Legal, "DOJ-OIA"},
		{"hsi", "Hannah Ruiz (demo)", auth.Coordinator, "HSI"},
		{"watch", "Dana Brooks (demo)", auth.Supervisor, "CBP"},
		{"unit", "BORTAC-1 (demo)", auth.Field, "CBP"},
		{"atf", "Jordan Lee, ATF NTC (demo)", auth.Coordinator, "ATF"},
		{"training", "Pat Kim (demo)", auth.Training, "STATE"},
		{"inl", "Morgan Reyes, INL (demo)", auth.Training, "STATE"},
		{"auditor", "Robin Hayes (demo)", auth.Auditor, "STATE"},
		{"admin", "Admin US (demo)", auth.Admin, "STATE"},
	},
}

var names = map[string]string{"MX": "Estados Unidos Mexicanos", "US": "United States of America"}

func fedPort(httpPort int) int { return httpPort + 100 }

// Run sets the demo up if needed and runs both nodes until ctx ends.
func Run(ctx context.Context, o Options) error {
	start := time.Now()
	if o.Fresh {
		if err := os.RemoveAll(o.Dir); err != nil {
			return fmt.Errorf("starting over: %w", err)
		}
	}
	ports := map[string]int{"MX": o.MXPort, "US": o.USPort}
	fresh := false
	if _, err := os.Stat(filepath.Join(o.Dir, "MX", node.ConfigFile)); errors.Is(err, os.ErrNotExist) {
		if err := setup(o.Dir, ports); err != nil {
			return fmt.Errorf("setting up the demo in %s: %w", o.Dir, err)
		}
		fresh = true
	}
	var nodes []*node.Node
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	errs := make(chan error, 2)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{}, 2)
	for _, party := range []string{"MX", "US"} {
		dir := filepath.Join(o.Dir, party)
		// The UI port may change between runs; the federation endpoints are
		// fixed by the agreement.
		if err := setHTTPAddr(dir, "127.0.0.1:"+strconv.Itoa(ports[party])); err != nil {
			return err
		}
		if err := setLists(dir, o.Lists); err != nil {
			return err
		}
		logf, err := os.OpenFile(filepath.Join(o.Dir, party+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("opening log: %w", err)
		}
		defer logf.Close()
		// A demo folder from before the store had to be private: its files
		// are the demo's own, so make them so.
		for _, f := range []string{"puente.db", "puente.db-wal", "puente.db-shm"} {
			if err := os.Chmod(filepath.Join(dir, f), 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("making the demo store private: %w", err)
			}
		}
		// The environment applies to this run only; puente.json keeps what
		// the demo wrote.
		cfg, err := node.LoadConfig(dir)
		if err != nil {
			return err
		}
		if err := cfg.ApplyEnv(os.Getenv); err != nil {
			return fmt.Errorf("the environment: %w", err)
		}
		n, err := web.OpenNode(ctx, dir, cfg, slog.New(slog.NewJSONHandler(logf, nil)))
		if err != nil {
			return fmt.Errorf("opening the %s node: %w", party, err)
		}
		nodes = append(nodes, n)
		if fresh {
			if err := SeedUsers(ctx, n); err != nil {
				return err
			}
		}
		ready := make(chan struct{})
		go func() {
			errs <- n.Run(runCtx, ready)
			done <- struct{}{}
		}()
		select {
		case <-ready:
		case err := <-errs:
			return fmt.Errorf("starting the %s node: %w", party, err)
		}
	}
	if fresh {
		if err := SeedAreas(ctx, nodes[0], nodes[1]); err != nil {
			return err
		}
	}
	printBanner(o, nodes, time.Since(start))
	if o.Ready != nil {
		close(o.Ready)
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	cancel()
	for range nodes {
		<-done
	}
	fmt.Fprintln(o.Out, "both nodes stopped")
	return err
}

func setup(dir string, ports map[string]int) error {
	specs := map[string]NodeSpec{}
	for _, code := range []string{"MX", "US"} {
		specs[code] = NodeSpec{
			HTTPAddr:       "127.0.0.1:" + strconv.Itoa(ports[code]),
			FederationAddr: "127.0.0.1:" + strconv.Itoa(fedPort(ports[code])),
		}
	}
	return CreatePair(dir, specs)
}

func setHTTPAddr(dir, addr string) error {
	cfg, err := node.LoadConfig(dir)
	if err != nil {
		return err
	}
	if cfg.HTTPAddr == addr && cfg.PlainHTTPCookies {
		return nil
	}
	// The demo serves plain HTTP on loopback (folders made before the
	// setting existed get it here).
	cfg.HTTPAddr, cfg.PlainHTTPCookies = addr, true
	return cfg.Save(dir)
}

// setLists points a node at the sanctions lists folder.
func setLists(dir, lists string) error {
	if lists != "" {
		abs, err := filepath.Abs(lists)
		if err != nil {
			return err
		}
		lists = abs
	}
	cfg, err := node.LoadConfig(dir)
	if err != nil {
		return err
	}
	if cfg.ListsDir == lists {
		return nil
	}
	cfg.ListsDir = lists
	return cfg.Save(dir)
}

// SeedUsers creates the demo users of n's party (Users), all with Password.
func SeedUsers(ctx context.Context, n *node.Node) error {
	for _, u := range Users[n.Config.Party] {
		if _, err := n.Auth.Create(ctx, auth.NewUser{Username: u.Username, DisplayName: u.Name, Role: u.Role, Agency: u.Agency, Password: Password}); err != nil {
			return fmt.Errorf("creating demo user %s: %w", u.Username, err)
		}
	}
	return nil
}

func demoUser(ctx context.Context, n *node.Node, username string) (*auth.User, error) {
	us, err := n.Auth.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		if u.Username == username {
			return u, nil
		}
	}
	return nil, fmt.Errorf("no demo user %s", username)
}

// SeedAreas has every work area that seeds demo data (area.Seeder) do so,
// in the order of node.Areas, on the Mexican node mx with the same area of
// the United States node us as its partner.
func SeedAreas(ctx context.Context, mx, us *node.Node) error {
	for i, a := range mx.Areas() {
		sd, ok := a.(area.Seeder)
		if !ok {
			continue
		}
		err := sd.SeedDemo(ctx, area.Seed{Partner: us.Areas()[i],
			User:        func(ctx context.Context, name string) (*auth.User, error) { return demoUser(ctx, mx, name) },
			PartnerUser: func(ctx context.Context, name string) (*auth.User, error) { return demoUser(ctx, us, name) }})
		if err != nil {
			return fmt.Errorf("seeding the %s area: %w", a.Name(), err)
		}
	}
	return nil
}

func printBanner(o Options, nodes []*node.Node, took time.Duration) {
	w := o.Out
	fmt.Fprintf(w, "puente demo: two nodes ready in %s (data in %s)\n\n", took.Round(time.Millisecond), o.Dir)
	for _, n := range nodes {
		party := n.Config.Party
		fmt.Fprintf(w, "  %s  %-26s http://%s   (partner link %s)\n", party, names[party], n.HTTPAddr(), n.FederationAddr())
	}
	fmt.Fprintf(w, "\n  agreement %s, signed by MX and US\n\n", nodes[0].Agreement.HashHex())
	fmt.Fprintf(w, "  logins (password for all: %s)\n", Password)
	for _, party := range []string{"MX", "US"} {
		for _, u := range Users[party] {
			fmt.Fprintf(w, "    %s  %-13s %-12s %s\n", party, u.Username, u.Role, u.Agency)
		}
	}
	fmt.Fprintf(w, "\n  logs: %s/MX.log, %s/US.log. Press Ctrl-C to stop both nodes.\n", o.Dir, o.Dir)
}
