package node

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/identity"
)

// PartyFile is the name of the party card that init writes: the public
// facts about this node that go into the agreement.
const PartyFile = "party.json"

// InitOptions describe a new node.
type InitOptions struct {
	Dir            string
	Party          string
	Name           string
	HTTPAddr       string
	FederationAddr string
	// FederationURL is how the partner reaches this node; by default
	// https://<federation address>.
	FederationURL string
	Database      string
	// Local allows a loopback endpoint: both nodes on one machine (the
	// demo, tests). A real partner can never reach one.
	Local bool
}

// Init creates a node folder: keys, a self-signed certificate, the
// configuration and the party card.
func Init(o InitOptions) (*agreement.Party, error) {
	if _, ok := auth.Agencies[o.Party]; !ok {
		return nil, fmt.Errorf("party %q is not one puente knows (MX or US)", o.Party)
	}
	if _, err := os.Stat(filepath.Join(o.Dir, ConfigFile)); err == nil {
		return nil, fmt.Errorf("%s already holds a node", o.Dir)
	}
	if o.FederationURL == "" {
		o.FederationURL = "https://" + o.FederationAddr
	}
	if err := checkEndpoint(o); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(o.FederationAddr)
	if err != nil {
		return nil, fmt.Errorf("federation address %q: %w", o.FederationAddr, err)
	}
	hosts := []string{host}
	if h, _, err := net.SplitHostPort(trimScheme(o.FederationURL)); err == nil {
		hosts = append(hosts, h)
	}
	id, err := identity.Generate(o.Dir, o.Party, hosts)
	if err != nil {
		return nil, err
	}
	cfg := &Config{Party: o.Party, Name: o.Name, HTTPAddr: o.HTTPAddr, FederationAddr: o.FederationAddr,
		FederationURL: o.FederationURL, Database: o.Database, Agreement: "agreement.json", LogLevel: "info", PlainHTTPCookies: o.Local}
	if cfg.Database == "" {
		cfg.Database = "puente.db"
	}
	if err := cfg.Save(o.Dir); err != nil {
		return nil, err
	}
	p := &agreement.Party{Code: o.Party, Name: o.Name, Endpoint: o.FederationURL, SigningKey: id.SigningKeyString(),
		TLSFingerprint: id.TLSFingerprint(), Agencies: auth.Agencies[o.Party]}
	raw, _ := json.MarshalIndent(p, "", "  ")
	if err := os.WriteFile(filepath.Join(o.Dir, PartyFile), append(raw, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("writing party card: %w", err)
	}
	return p, nil
}

func trimScheme(u string) string {
	for _, p := range []string{"https://", "http://"} {
		if len(u) > len(p) && u[:len(p)] == p {
			u = u[len(p):]
		}
	}
	for i := 0; i < len(u); i++ {
		if u[i] == '/' {
			return u[:i]
		}
	}
	return u
}

// ReadParty reads a party card.
func ReadParty(path string) (agreement.Party, error) {
	var p agreement.Party
	raw, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("reading party card: %w", err)
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("reading party card %s: %w", path, err)
	}
	return p, nil
}

// InstallAgreement checks a signed agreement against this node's keys and
// copies it into the node folder.
func InstallAgreement(dir, path string) (*agreement.File, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	f, err := agreement.Load(path)
	if err != nil {
		return nil, err
	}
	id, err := identity.Load(dir)
	if err != nil {
		return nil, err
	}
	me, ok := f.Party(cfg.Party)
	if !ok {
		return nil, fmt.Errorf("the agreement has no party %s", cfg.Party)
	}
	if me.SigningKey != id.SigningKeyString() || me.TLSFingerprint != id.TLSFingerprint() {
		return nil, fmt.Errorf("the agreement names other keys for %s than this node's", cfg.Party)
	}
	raw, err := f.Marshal()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(resolve(dir, cfg.Agreement), raw, 0o644); err != nil {
		return nil, fmt.Errorf("installing agreement: %w", err)
	}
	return f, nil
}

// checkEndpoint refuses a public endpoint the partner could never reach:
// one on every interface (0.0.0.0, ::), or on loopback unless o.Local. It
// is written into the agreement both parties sign, so a mistake here
// would be signed too.
func checkEndpoint(o InitOptions) error {
	host, _, err := net.SplitHostPort(trimScheme(o.FederationURL))
	if err != nil {
		return fmt.Errorf("federation URL %q: %w", o.FederationURL, err)
	}
	ip := net.ParseIP(host)
	switch {
	case host == "" || ip != nil && ip.IsUnspecified():
		return fmt.Errorf("the partner cannot reach %s, which only says to listen on every interface: give the address the partner connects to with --federation-url https://HOST:PORT", o.FederationURL)
	case !o.Local && (host == "localhost" || ip != nil && ip.IsLoopback()):
		return fmt.Errorf("the partner cannot reach %s, a loopback address: give the address the partner connects to with --federation-url https://HOST:PORT, or --local for two nodes on this machine", o.FederationURL)
	}
	return nil
}
