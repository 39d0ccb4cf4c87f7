// Command puente runs and administers a node of a bilateral security
// cooperation agreement. Run "puente help" for the subcommands.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/bench"
	"puente/internal/demo"
	"puente/internal/fault"
	"puente/internal/identity"
	"puente/internal/node"
	"puente/internal/store"
	"puente/internal/trustlog"
	"puente/internal/web"
)

const usage = `puente: software for a bilateral security-cooperation agreement.

Usage:
  puente demo [--mx-port 8081] [--us-port 8082] [--dir puente-demo] [--fresh] [--lists ../shared/data]
  puente init --dir DIR --party MX|US --name NAME --http ADDR --federation ADDR [--federation-url URL] [--db DSN]
  puente agreement draft --party A/party.json --party B/party.json --out FILE
  puente agreement sign --dir DIR FILE
  puente agreement verify FILE
  puente agreement show FILE
  puente agreement install --dir DIR FILE
  puente user add --dir DIR --username U --name NAME --role ROLE --agency AGENCY [--password-stdin]
  puente user token --dir DIR --username U --name TOKEN-NAME [--days 90]
  puente user list --dir DIR
  puente serve --dir DIR [--db DSN]
  puente audit export --dir DIR [--since 2026-11-01|72h] [--out FILE] [--wait 30s]
  puente verify BUNDLE --agreement FILE [--envelope ID]
  puente screen "NAME" [--dob YEAR] [--json] [--lists DIR | --url URL] | puente screen --file names.txt [--json]
  puente names compare "NAME A" "NAME B" [--json] | puente names compare --pairs FILE.csv
  puente subjects import --dir DIR FILE.csv
  puente match lookup --url URL SUBJECT.json                    a blind lookup in the partner's index
  puente match crossmatch --url URL (--index | --file subjects.csv) [--detach]   (token: $PUENTE_TOKEN)
  puente match cancel --url URL ID
  puente finintel list|show|draft|goaml|csv|submit|release|recall|pass-on|consent|decide|feedback|export|rfi|figures ...
                                    (--url URL, token: $PUENTE_TOKEN; "puente finintel" alone lists them)
  puente ops list|show|draft|release|accept|decline|counter|accept-counter|start|report|conclude|
             postpone|cancel|after-action|conflicts|resolve|cot|cot-send|figures ...
                                    mirror operations (--url URL, token: $PUENTE_TOKEN; "puente ops" alone lists them)
  puente seizures list|show|record|import|submit|return|release|figures|export ...
                                    seizures (--url URL, token: $PUENTE_TOKEN; "puente seizures" alone lists them)
  puente traces list|show|check|request|from-seizure|submit|accept|return|progress|complete|not-complete|figures ...
                                    firearm traces (--url URL, token: $PUENTE_TOKEN; "puente traces" alone lists them)
  puente targets list|show|nominate|edit|submit|return|release|status|ack|add|figures ...
                                    priority targets of the extradition area (--url URL, token: $PUENTE_TOKEN)
  puente extradition list|show|open|stage|figures ...
                                    extradition cases and their clocks (--url URL, token: $PUENTE_TOKEN)
  puente training list|show|offer|publish|nominate|vet|confirm|attend|result|certify|revoke|commit|report|figures|certificates|certificate ...
                                    joint training and exercises (--url URL, token: $PUENTE_TOKEN; "puente training" alone lists them)
  puente certificate verify FILE --agreement FILE [--revocations FILE] [--id-type T --id X]
                                    check a training certificate offline (no node, no token)
  puente bench link [--db postgres://...] [--n 20000] [--rate 500] [--clients 64]
                    [--replicas N [--kills 3] [--route spread|leader]]   (N serve processes for MX on --db)
  puente bench log [--entries 1000000]
  puente bench screen [--n 20000] [--lists DIR]
  puente bench match [--subjects 1000000] [--lookups 500]
  puente bench bulk [--n 100000]
  puente bench finintel [--tx 100000] [--release-tx 10000]
  puente bench ops [--rate 50] [--duration 60s] [--partner-ops 10000] [--cot-units 1000]
  puente bench seizures [--rows 100000] [--items 1000000] [--traces 50]
  puente bench extradition [--cases 100000] [--targets 100000] [--lookups 200]
  puente bench training [--facts 100000] [--runs 50] [--verifies 20000]
`

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "puente: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], stdio{in: stdin, out: stdout, err: stderr})
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "puente %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// stdio is a command's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// commands are the subcommands, each with its own flag set (the usage
// above lists them). A work area adds one entry.
var commands = map[string]func(ctx context.Context, args []string, io stdio) error{
	"demo":        func(ctx context.Context, a []string, s stdio) error { return cmdDemo(ctx, a, s.out) },
	"init":        func(_ context.Context, a []string, s stdio) error { return cmdInit(a, s.out) },
	"agreement":   func(_ context.Context, a []string, s stdio) error { return cmdAgreement(a, s.out) },
	"user":        func(ctx context.Context, a []string, s stdio) error { return cmdUser(ctx, a, s.in, s.out) },
	"serve":       func(ctx context.Context, a []string, _ stdio) error { return cmdServe(ctx, a) },
	"bench":       func(ctx context.Context, a []string, s stdio) error { return cmdBench(ctx, a, s.out, s.err) },
	"audit":       func(ctx context.Context, a []string, s stdio) error { return cmdAudit(ctx, a, s.out) },
	"verify":      func(_ context.Context, a []string, s stdio) error { return cmdVerify(a, s.out) },
	"screen":      func(ctx context.Context, a []string, s stdio) error { return cmdScreen(ctx, a, s.in, s.out) },
	"names":       func(_ context.Context, a []string, s stdio) error { return cmdNames(a, s.out) },
	"subjects":    func(ctx context.Context, a []string, s stdio) error { return cmdSubjects(ctx, a, s.out) },
	"match":       func(ctx context.Context, a []string, s stdio) error { return cmdMatch(ctx, a, s.out, s.err) },
	"finintel":    func(ctx context.Context, a []string, s stdio) error { return cmdFinIntel(ctx, a, s.out) },
	"ops":         func(ctx context.Context, a []string, s stdio) error { return cmdOps(ctx, a, s.out) },
	"seizures":    func(ctx context.Context, a []string, s stdio) error { return cmdSeizures(ctx, a, s.out) },
	"traces":      func(ctx context.Context, a []string, s stdio) error { return cmdTraces(ctx, a, s.out) },
	"targets":     func(ctx context.Context, a []string, s stdio) error { return cmdTargets(ctx, a, s.out) },
	"extradition": func(ctx context.Context, a []string, s stdio) error { return cmdExtradition(ctx, a, s.out) },
	"training":    func(ctx context.Context, a []string, s stdio) error { return cmdTraining(ctx, a, s.out) },
	"certificate": func(_ context.Context, a []string, s stdio) error { return cmdCertificate(a, s.out) },
}

func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("puente "+name, flag.ContinueOnError)
	return fs
}

// parse parses flags that may come before or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func cmdDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flags("demo")
	o := demo.Options{Out: stdout}
	fs.IntVar(&o.MXPort, "mx-port", 8081, "port of the Mexican node's web UI")
	fs.IntVar(&o.USPort, "us-port", 8082, "port of the United States node's web UI")
	fs.StringVar(&o.Dir, "dir", "puente-demo", "folder for both nodes' data")
	fs.BoolVar(&o.Fresh, "fresh", false, "delete the folder and start over")
	fs.StringVar(&o.Lists, "lists", "", "sanctions lists folder for screening (default $PUENTE_LISTS or ../shared/data when present)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if o.Lists == "" {
		if d := listsDir(""); dirExists(d) {
			o.Lists = d
		}
	}
	return demo.Run(ctx, o)
}

func cmdInit(args []string, stdout io.Writer) error {
	fs := flags("init")
	var o node.InitOptions
	fs.StringVar(&o.Dir, "dir", "", "node folder to create")
	fs.StringVar(&o.Party, "party", "", "party code: MX or US")
	fs.StringVar(&o.Name, "name", "", "the party's name, as in the agreement")
	fs.StringVar(&o.HTTPAddr, "http", "127.0.0.1:8080", "address of the web UI and API")
	fs.StringVar(&o.FederationAddr, "federation", "", "address the partner connects to (mutual TLS)")
	fs.StringVar(&o.FederationURL, "federation-url", "", "URL the partner uses, if not https://<federation address>")
	fs.StringVar(&o.Database, "db", "", "store: an SQLite file in the folder (default puente.db) or a postgres:// URL")
	fs.BoolVar(&o.Local, "local", false, "allow a loopback federation endpoint (both nodes on this machine)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if o.Dir == "" || o.Party == "" || o.Name == "" || o.FederationAddr == "" {
		return errors.New("--dir, --party, --name and --federation are required")
	}
	p, err := node.Init(o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created node %s in %s\n  signing key      %s\n  TLS fingerprint  %s\n  federation       %s\n", p.Code, o.Dir, p.SigningKey, p.TLSFingerprint, p.Endpoint)
	fmt.Fprintf(stdout, "next: send %s/%s to the partner, then draft and sign the agreement together\n", o.Dir, node.PartyFile)
	return nil
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func cmdAgreement(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("say draft, sign, verify, show or install")
	}
	fs := flags("agreement " + args[0])
	switch args[0] {
	case "draft":
		var parties multi
		var out string
		fs.Var(&parties, "party", "a party card (party.json); give two")
		fs.StringVar(&out, "out", "agreement.json", "file to write")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		if len(parties) != 2 {
			return errors.New("give exactly two --party cards")
		}
		a, err := node.ReadParty(parties[0])
		if err != nil {
			return err
		}
		b, err := node.ReadParty(parties[1])
		if err != nil {
			return err
		}
		raw, err := agreement.Draft(a, b).Encode()
		if err != nil {
			return err
		}
		if _, err := agreement.Parse(raw); err != nil {
			return err
		}
		if err := writeNew(out, raw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "drafted %s between %s and %s; review it, then each party runs: puente agreement sign --dir NODE %s\n", out, a.Code, b.Code, out)
		return nil
	case "sign":
		var dir string
		fs.StringVar(&dir, "dir", "", "the signing node's folder")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if dir == "" || len(pos) != 1 {
			return errors.New("usage: puente agreement sign --dir DIR FILE")
		}
		f, err := readAgreement(pos[0])
		if err != nil {
			return err
		}
		id, err := identity.Load(dir)
		if err != nil {
			return err
		}
		if err := f.Sign(id.Signing); err != nil {
			return err
		}
		raw, err := f.Marshal()
		if err != nil {
			return err
		}
		if err := os.WriteFile(pos[0], raw, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", pos[0], err)
		}
		fmt.Fprintf(stdout, "signed %s (hash %s)\n", pos[0], f.HashHex())
		return nil
	case "verify", "show":
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return fmt.Errorf("usage: puente agreement %s FILE", args[0])
		}
		f, err := readAgreement(pos[0])
		if err != nil {
			return err
		}
		if args[0] == "show" {
			show(stdout, f)
			return nil
		}
		if err := f.Verify(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "valid: signed by both parties\nhash %s\n", f.HashHex())
		return nil
	case "install":
		var dir string
		fs.StringVar(&dir, "dir", "", "the node folder")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if dir == "" || len(pos) != 1 {
			return errors.New("usage: puente agreement install --dir DIR FILE")
		}
		f, err := node.InstallAgreement(dir, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "installed agreement %s in %s\n", f.HashHex(), dir)
		return nil
	}
	return fmt.Errorf("unknown agreement command %q", args[0])
}

func readAgreement(path string) (*agreement.File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading agreement: %w", err)
	}
	return agreement.Parse(raw)
}

func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func show(w io.Writer, f *agreement.File) {
	a := f.Body()
	fmt.Fprintf(w, "%s\n%s, effective %s\nhash %s\n\n", a.Title, a.Reference, a.Effective, f.HashHex())
	for _, p := range a.Parties {
		signed := "NOT SIGNED"
		if f.SignedBy(p.Code) {
			signed = "signed"
		}
		fmt.Fprintf(w, "party %s  %s  (%s)\n  federation  %s\n  signing key %s\n  TLS         %s\n", p.Code, p.Name, signed, p.Endpoint, p.SigningKey, p.TLSFingerprint)
		c := a.Commitments[p.Code]
		fmt.Fprintf(w, "  commitments: answer within")
		for _, area := range agreement.Areas {
			if d, ok := c.ResponseDays[area]; ok {
				fmt.Fprintf(w, " %s %dd", area, d)
			}
		}
		fmt.Fprintf(w, "; traces firearms %v; formal extradition request %dd after provisional arrest\n", c.TracesFirearms, c.FormalRequestDays)
	}
	fmt.Fprintf(w, "\nwork areas:")
	for _, area := range agreement.Areas {
		if a.WorkAreas[area] {
			fmt.Fprintf(w, " %s", area)
		}
	}
	fmt.Fprintf(w, "\ndefault caveats: %s, %s, third-party rule %v\nretention (days):", a.Caveats.Classification, a.Caveats.Purpose, a.Caveats.ThirdPartyRule)
	for _, area := range agreement.Areas {
		if d, ok := a.Retention[area]; ok {
			fmt.Fprintf(w, " %s %d", area, d)
		}
	}
	fmt.Fprintf(w, "\nlargest envelope body: %d bytes\n", a.Limits.MaxBodyBytes)
}

func cmdServe(ctx context.Context, args []string) error {
	fs := flags("serve")
	var dir, db string
	fs.StringVar(&dir, "dir", ".", "node folder")
	fs.StringVar(&db, "db", "", "store: a postgres:// URL or an SQLite path (overrides the configuration)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(dir)
	if err != nil {
		return err
	}
	if db != "" {
		cfg.Database = db
	}
	n, err := web.OpenNode(ctx, dir, cfg, node.NewLogger(cfg.LogLevel))
	if err != nil {
		return err
	}
	defer n.Close()
	return n.Run(ctx, nil)
}

// loadConfig is a node's configuration as the command line sees it: the
// file, then the environment (the flags go on top, per command).
func loadConfig(dir string) (*node.Config, error) {
	cfg, err := node.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	if err := cfg.ApplyEnv(os.Getenv); err != nil {
		return nil, fmt.Errorf("the environment: %w", err)
	}
	return cfg, nil
}

// openStore opens just the store of a node, for user administration.
func openStore(ctx context.Context, dir string) (*store.DB, *node.Config, error) {
	cfg, err := loadConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	db, err := cfg.OpenStore(ctx, dir)
	return db, cfg, err
}

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("say add, token or list")
	}
	fs := flags("user " + args[0])
	var dir, username, name, role, agency string
	var pwStdin bool
	fs.StringVar(&dir, "dir", ".", "node folder")
	fs.StringVar(&username, "username", "", "username")
	fs.StringVar(&name, "name", "", "full name (add) or token name (token)")
	fs.StringVar(&role, "role", "", "role: "+fmt.Sprint(auth.Roles))
	fs.StringVar(&agency, "agency", "", "agency of this node's side")
	fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input")
	days := fs.Int("days", auth.TokenDays, "days the token is valid (token; at most 365)")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, cfg, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer db.Close()
	id, err := identity.Load(dir)
	if err != nil {
		return err
	}
	tl, err := trustlog.New(db, cfg.Party, id.Signing)
	if err != nil {
		return err
	}
	svc := auth.NewService(db, cfg.Party, tl)
	ctx = trustlog.WithActor(ctx, "cli:puente user "+args[0])
	switch args[0] {
	case "add":
		if !pwStdin {
			return errors.New("give the password on standard input with --password-stdin")
		}
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("reading the password: %w", err)
		}
		u, err := svc.Create(ctx, auth.NewUser{Username: username, DisplayName: name, Role: auth.Role(role), Agency: agency, Password: strings.TrimRight(line, "\r\n")})
		var fe *fault.FieldError
		if errors.As(err, &fe) && fe.Field == "agency" {
			return fmt.Errorf("%w: the agencies of %s are %s", err, cfg.Party, strings.Join(auth.Agencies[cfg.Party], ", "))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s (%s, %s)\n", u.Username, u.Role, u.Agency)
	case "token":
		us, err := svc.List(ctx)
		if err != nil {
			return err
		}
		for _, u := range us {
			if u.Username == username {
				_, secret, err := svc.NewTokenFor(ctx, u.ID, name, *days)
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, secret)
				return nil
			}
		}
		return fmt.Errorf("no user %q", username)
	case "list":
		us, err := svc.List(ctx)
		if err != nil {
			return err
		}
		for _, u := range us {
			state := ""
			if u.Disabled {
				state = " (disabled)"
			}
			fmt.Fprintf(stdout, "%-16s %-12s %-8s %s%s\n", u.Username, u.Role, u.Agency, u.DisplayName, state)
		}
	default:
		return fmt.Errorf("unknown user command %q", args[0])
	}
	return nil
}

// benchOpts are what every bench subcommand shares: where progress goes,
// and a CPU profile of the run.
type benchOpts struct {
	log        io.Writer
	cpuprofile string
}

// benchCmd is one bench subcommand: it adds its own flags to fs and
// returns the run. A bench that profiles only its timed part itself says
// so (ownProfile), and gets the --cpuprofile path in its options.
type benchCmd struct {
	flags      func(fs *flag.FlagSet) func(ctx context.Context, o benchOpts) (interface{ Print(io.Writer) error }, error)
	ownProfile bool
}

var benches = map[string]benchCmd{
	"link": {flags: func(fs *flag.FlagSet) func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
		var o bench.Options
		fs.StringVar(&o.Postgres, "db", "", "run both nodes on this PostgreSQL server (each in its own schema) instead of SQLite")
		fs.IntVar(&o.N, "n", 20000, "envelopes for the throughput run")
		fs.IntVar(&o.Rate, "rate", 500, "envelopes per second for the latency run")
		fs.IntVar(&o.LatencyN, "latency-n", 5000, "envelopes for the latency run")
		fs.IntVar(&o.Clients, "clients", 64, "concurrent API clients in the throughput run")
		replicas := fs.Int("replicas", 0, "run the MX node as this many `puente serve` processes on the --db server (0: both nodes in this process)")
		kills := fs.Int("kills", 3, "with --replicas 2 or more: kill the leading replica this many times to time the failover")
		route := fs.String("route", bench.RouteSpread, "with --replicas: send the API clients to every replica in turn (spread) or to the one whose /readyz/leader answers 200 (leader)")
		return func(ctx context.Context, b benchOpts) (interface{ Print(io.Writer) error }, error) {
			o.Log = b.log
			if *replicas > 0 {
				return bench.Replicas(ctx, bench.ReplicaOptions{Postgres: o.Postgres, Replicas: *replicas, N: o.N, Clients: o.Clients, Kills: *kills, Route: *route, Log: b.log})
			}
			return bench.Link(ctx, o)
		}
	}},
	"log": {flags: func(fs *flag.FlagSet) func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
		var o bench.LogOptions
		fs.IntVar(&o.Entries, "entries", 1_000_000, "log size for the append and inclusion-proof figures")
		fs.IntVar(&o.Batch, "batch", 1000, "entries appended per transaction")
		fs.IntVar(&o.Proofs, "proofs", 2000, "inclusion proofs to time")
		fs.IntVar(&o.RoundTrips, "roundtrips", 100, "checkpoint round trips to time")
		return func(ctx context.Context, b benchOpts) (interface{ Print(io.Writer) error }, error) {
			o.Log = b.log
			return bench.TrustLog(ctx, o)
		}
	}},
	"screen": {flags: func(fs *flag.FlagSet) func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
		lists := fs.String("lists", "", "sanctions lists folder (default $PUENTE_LISTS or ../shared/data)")
		n := fs.Int("n", 20000, "queries")
		return func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
			return bench.Screen(listsDir(*lists), *n)
		}
	}},
	"match": {ownProfile: true, flags: func(fs *flag.FlagSet) func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
		n := fs.Int("subjects", 1_000_000, "subjects in the partner's index")
		k := fs.Int("lookups", 500, "lookups to time (the CPU profile covers only these)")
		return func(ctx context.Context, b benchOpts) (interface{ Print(io.Writer) error }, error) {
			return bench.Match(ctx, *n, *k, b.log, b.cpuprofile)
		}
	}},
	"finintel": {flags: func(fs *flag.FlagSet) func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
		n := fs.Int("tx", 100_000, "transactions in the generated goAML file")
		r := fs.Int("release-tx", 10_000, "transactions in the released disclosure")
		runs := fs.Int("runs", 5, "releases to time")
		return func(ctx context.Context, b benchOpts) (interface{ Print(io.Writer) error }, error) {
			return bench.FinIntel(ctx, *n, *r, *runs, b.log)
		}
	}},
	"ops": {flags: func(fs *flag.FlagSet) func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
		var o bench.OpsOptions
		fs.IntVar(&o.Rate, "rate", 50, "unit reports per second in the board run")
		fs.DurationVar(&o.Duration, "duration", 60*time.Second, "length of the board run")
		fs.IntVar(&o.PartnerOps, "partner-ops", 10_000, "operations registered on the partner for the deconfliction run")
		fs.IntVar(&o.CotUnits, "cot-units", 1000, "active units in the CoT document")
		return func(ctx context.Context, b benchOpts) (interface{ Print(io.Writer) error }, error) {
			o.Log = b.log
			return bench.Ops(ctx, o)
		}
	}},
	"seizures": {flags: func(fs *flag.FlagSet) func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
		var o bench.SeizuresOptions
		fs.IntVar(&o.Rows, "rows", 100_000, "rows of the timed CSV import (one seizure item each)")
		fs.IntVar(&o.Items, "items", 1_000_000, "seizure items on the node when the dashboard is timed")
		fs.IntVar(&o.Traces, "traces", 50, "trace round trips to time")
		return func(ctx context.Context, b benchOpts) (interface{ Print(io.Writer) error }, error) {
			o.Log = b.log
			return bench.Seizures(ctx, o)
		}
	}},
	"extradition": {flags: func(fs *flag.FlagSet) func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
		var o bench.ExtraditionOptions
		fs.IntVar(&o.Cases, "cases", 100_000, "open cases whose clocks are swept")
		fs.IntVar(&o.Targets, "targets", 100_000, "priority targets in the partner's index")
		fs.IntVar(&o.Lookups, "lookups", 200, "blind lookups timed")
		return func(ctx context.Context, b benchOpts) (interface{ Print(io.Writer) error }, error) {
			o.Log = b.log
			return bench.Extradition(ctx, o)
		}
	}},
	"training": {flags: func(fs *flag.FlagSet) func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
		var o bench.TrainingOptions
		fs.IntVar(&o.Facts, "facts", 100_000, "facts over a year across the areas (seizures, disclosures, traces, training, operations, targets)")
		fs.IntVar(&o.Runs, "runs", 50, "scorecards timed")
		fs.IntVar(&o.Verifies, "verifies", 20_000, "certificates verified offline")
		return func(ctx context.Context, b benchOpts) (interface{ Print(io.Writer) error }, error) {
			o.Log = b.log
			return bench.Training(ctx, o)
		}
	}},
	"bulk": {flags: func(fs *flag.FlagSet) func(context.Context, benchOpts) (interface{ Print(io.Writer) error }, error) {
		n := fs.Int("n", 100_000, "subjects on each side")
		return func(ctx context.Context, b benchOpts) (interface{ Print(io.Writer) error }, error) {
			return bench.Bulk(ctx, *n, b.log)
		}
	}},
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || benches[args[0]].flags == nil {
		return errors.New("usage: puente bench link|log|screen|match|finintel|bulk|ops|seizures [flags] [--cpuprofile FILE] (puente bench NAME -h lists its flags)")
	}
	b := benches[args[0]]
	fs := flags("bench " + args[0])
	o := benchOpts{log: stderr}
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the run to this file")
	run := b.flags(fs)
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	if !b.ownProfile {
		stop, err := bench.StartProfile(o.cpuprofile)
		if err != nil {
			return err
		}
		defer stop()
	}
	res, err := run(ctx, o)
	if err != nil {
		return err
	}
	return res.Print(stdout)
}
