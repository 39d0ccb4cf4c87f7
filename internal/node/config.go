// Package node assembles one puente node from its folder: configuration,
// keys, the signed agreement, the store, the link and the domain services,
// and runs its servers and workers until it is told to stop.
package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"puente/internal/store"
)

// ConfigFile is the name of the configuration file in a node folder.
const ConfigFile = "puente.json"

// Config is a node's configuration, as in its folder's puente.json. The
// command line applies the environment (ApplyEnv) and its flags on top;
// the node itself reads only what it is given.
type Config struct {
	Party             string `json:"party"`
	Name              string `json:"name"`
	HTTPAddr          string `json:"http_addr"`
	FederationAddr    string `json:"federation_addr"`
	FederationURL     string `json:"federation_url"`
	Database          string `json:"database"`
	Agreement         string `json:"agreement"`
	LogLevel          string `json:"log_level"`
	SQLiteSynchronous string `json:"sqlite_synchronous,omitempty"`
	// CheckpointInterval: a growing transparency log is checkpointed and
	// sent for witnessing at least this often ("3s" if unset).
	CheckpointInterval Duration `json:"checkpoint_interval,omitzero"`
	// StallAfter: the partner's log is reported stalled when envelopes
	// arrive but no newer checkpoint has for this long ("60s" if unset).
	StallAfter Duration `json:"stall_after,omitzero"`
	// ListsDir holds the sanctions lists for screening: ofac-sdn/ (sdn.csv,
	// alt.csv) and un/ (consolidated.xml). Relative to the node folder.
	ListsDir string `json:"lists_dir,omitempty"`
	// HeaderTimeout: a user's client that has not sent its request
	// headers within this is cut off ("10s" if unset).
	HeaderTimeout Duration `json:"header_timeout,omitzero"`
	// ReadTimeout: the longest a user's request, body included, may take
	// to arrive ("10m" if unset: a 512 MiB goAML file on a slow line).
	ReadTimeout Duration `json:"read_timeout,omitzero"`
	// TrustedProxies are the addresses or CIDR prefixes of the TLS proxy in
	// front of the node, whose X-Forwarded-For and X-Forwarded-Proto are
	// believed (sign-in limits per address, Secure cookies, HSTS).
	TrustedProxies []string `json:"trusted_proxies,omitempty"`
	// PlainHTTPCookies serves cookies without Secure and the __Host-
	// prefix, for plain HTTP on loopback (the demo, tests). Never set it on
	// a node people reach over a network.
	PlainHTTPCookies bool `json:"plain_http_cookies,omitempty"`
	// MatchQuota lowers the agreement's daily cap of blind evaluations
	// this node answers for the partner (0: the agreement's figure).
	MatchQuota int `json:"match_quota,omitempty"`
	// MatchBulkQuota lowers the agreement's daily cap of the partner's
	// cross-match evaluations this node answers (0: the agreement's).
	MatchBulkQuota int `json:"match_bulk_quota,omitempty"`
	// ReplicaName names this process among the node's replicas (several
	// `puente serve` on one PostgreSQL store); default its host name and
	// process id. Usually set per process: PUENTE_REPLICA_NAME.
	ReplicaName string `json:"replica_name,omitempty"`
	// LeaseTTL: on PostgreSQL, how long the leading replica's lease lasts
	// unless renewed ("3s" if unset); another replica takes over this long
	// after the leader stops answering (at once if its process died).
	LeaseTTL Duration `json:"lease_ttl,omitzero"`
}

// Duration is a time.Duration written as "3s" in the configuration.
type Duration struct{ time.Duration }

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("a duration such as \"3s\" or \"1m\": %w", err)
	}
	if v < 0 {
		return errors.New("a duration must not be negative")
	}
	d.Duration = v
	return nil
}

// LoadConfig reads dir/puente.json, and nothing else: the environment is
// the command line's to apply (ApplyEnv).
func LoadConfig(dir string) (*Config, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("reading configuration %s: %w", filepath.Join(dir, ConfigFile), err)
	}
	if c.Party == "" || c.HTTPAddr == "" || c.FederationAddr == "" {
		return nil, errors.New("configuration needs party, http_addr and federation_addr")
	}
	if c.Database == "" {
		c.Database = "puente.db"
	}
	if c.Agreement == "" {
		c.Agreement = "agreement.json"
	}
	return &c, nil
}

// ApplyEnv overrides the configuration with the environment variables
// that are set (getenv is os.Getenv on the command line): PUENTE_DATABASE,
// PUENTE_HTTP_ADDR, PUENTE_FEDERATION_ADDR, PUENTE_LOG_LEVEL,
// PUENTE_SQLITE_SYNCHRONOUS, PUENTE_LISTS, PUENTE_CHECKPOINT_INTERVAL,
// PUENTE_STALL_AFTER, PUENTE_MATCH_QUOTA, PUENTE_REPLICA_NAME and
// PUENTE_LEASE_TTL.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	for env, field := range map[string]*string{
		"PUENTE_DATABASE":           &c.Database,
		"PUENTE_HTTP_ADDR":          &c.HTTPAddr,
		"PUENTE_FEDERATION_ADDR":    &c.FederationAddr,
		"PUENTE_LOG_LEVEL":          &c.LogLevel,
		"PUENTE_SQLITE_SYNCHRONOUS": &c.SQLiteSynchronous,
		"PUENTE_LISTS":              &c.ListsDir,
		"PUENTE_REPLICA_NAME":       &c.ReplicaName,
	} {
		if v := getenv(env); v != "" {
			*field = v
		}
	}
	for env, field := range map[string]*Duration{
		"PUENTE_CHECKPOINT_INTERVAL": &c.CheckpointInterval,
		"PUENTE_STALL_AFTER":         &c.StallAfter,
		"PUENTE_LEASE_TTL":           &c.LeaseTTL,
	} {
		if v := getenv(env); v != "" {
			if err := field.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("%s: %w", env, err)
			}
		}
	}
	if v := getenv("PUENTE_MATCH_QUOTA"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("PUENTE_MATCH_QUOTA: %q is not a count", v)
		}
		c.MatchQuota = n
	}
	return nil
}

// Save writes the configuration to dir/puente.json.
func (c *Config) Save(dir string) error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding configuration: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing configuration: %w", err)
	}
	return nil
}

// OpenStore opens the store this configuration names for the node in
// dir: an SQLite file (relative to dir unless absolute) or a PostgreSQL
// URL.
func (c *Config) OpenStore(ctx context.Context, dir string) (*store.DB, error) {
	return c.openStore(ctx, dir, false)
}

// openStore opens the store; exclusive holds an SQLite file for this
// process alone (a node that serves it).
func (c *Config) openStore(ctx context.Context, dir string, exclusive bool) (*store.DB, error) {
	return store.Open(ctx, resolve(dir, c.Database), store.Options{SQLiteSynchronous: c.SQLiteSynchronous, Exclusive: exclusive})
}

// resolve makes a path in the configuration relative to the node folder.
func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) || strings.Contains(p, "://") {
		return p
	}
	return filepath.Join(dir, p)
}
