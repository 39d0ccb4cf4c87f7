package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"puente/internal/agreement"
	"puente/internal/audit"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// errVerifyFailed makes "puente verify" exit 1 after printing its verdict.
var errVerifyFailed = errors.New("the bundle does not verify")

func cmdAudit(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return errors.New("usage: puente audit export --dir DIR [--since 2026-11-01|72h] [--out FILE] [--wait 30s]")
	}
	fs := flags("audit export")
	var dir, since, out string
	fs.StringVar(&dir, "dir", ".", "node folder")
	fs.StringVar(&since, "since", "", "first day (2026-11-01), instant (RFC 3339) or age (72h) to export; everything if unset")
	fs.StringVar(&out, "out", "", "file to write (standard output if unset)")
	wait := fs.Duration("wait", 0, "first wait up to this long until the partner has witnessed a checkpoint covering every entry (the node must be running)")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	from, err := parseSince(since, time.Now())
	if err != nil {
		return err
	}
	db, cfg, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer db.Close()
	agPath := cfg.Agreement
	if !filepath.IsAbs(agPath) {
		agPath = filepath.Join(dir, agPath)
	}
	ag, err := agreement.Load(agPath)
	if err != nil {
		return err
	}
	partner, _ := ag.Partner(cfg.Party)
	if *wait > 0 {
		if err := waitWitnessed(ctx, db, *wait); err != nil {
			return err
		}
	}
	b, err := audit.Export(ctx, db, cfg.Party, partner.Code, ag.HashHex(), from)
	if err != nil {
		return err
	}
	w := stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("writing the bundle: %w", err)
		}
		defer f.Close()
		w = f
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("writing the bundle: %w", err)
	}
	if out != "" {
		fmt.Fprintf(stdout, "wrote %s: %d entries from index %d, %d checkpoints, %d envelopes\n", out, len(b.Entries), b.First, len(b.Checkpoints), len(b.Envelopes))
	}
	return nil
}

// parseSince reads a day, an RFC 3339 instant or an age.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q is not a day (2026-11-01), an instant (2026-11-01T10:00:00Z) or an age (72h)", s)
}

func cmdVerify(args []string, stdout io.Writer) error {
	fs := flags("verify")
	var agPath, envelope string
	fs.StringVar(&agPath, "agreement", "agreement.json", "the signed agreement, which holds both parties' public keys")
	fs.StringVar(&envelope, "envelope", "", "also prove this envelope and its receipt")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: puente verify BUNDLE --agreement FILE [--envelope ID]")
	}
	ag, err := agreement.Load(agPath)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("opening the bundle: %w", err)
	}
	defer f.Close()
	b, err := audit.Read(f)
	if err != nil {
		return err
	}
	v, err := audit.Verify(b, ag, audit.Options{Envelope: envelope})
	if err != nil {
		return err
	}
	v.Print(stdout, b)
	if v.Problem != nil {
		return errVerifyFailed
	}
	return nil
}

// waitWitnessed waits until the partner has cosigned a checkpoint that
// covers the log as it is now, so the bundle verifies to its last entry.
func waitWitnessed(ctx context.Context, db *store.DB, limit time.Duration) error {
	size, err := trustlog.Size(ctx, db.Read())
	if err != nil {
		return err
	}
	deadline := time.Now().Add(limit)
	for {
		c, err := trustlog.LatestCosigned(ctx, db.Read())
		if err != nil {
			return err
		}
		if c != nil && c.Size >= size {
			return nil
		}
		if time.Now().After(deadline) {
			witnessed := int64(0)
			if c != nil {
				witnessed = c.Size
			}
			return fmt.Errorf("after %v the partner has witnessed %d of the log's %d entries: is the node running and the partner reachable?", limit, witnessed, size)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
