package demo

import (
	"fmt"
	"os"
	"path/filepath"

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
			HTTPAddr: s.HTTPAddr, FederationAddr: s.FederationAddr, Database: s.Database,
		})
		if err != nil {
			return err
		}
		parties = append(parties, *p)
	}
	raw, err := agreement.Draft(parties[0], parties[1]).Encode()
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
