package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"puente/internal/demo"
	"puente/internal/liaison"
	"puente/internal/store"
	"puente/internal/testenv"
	"puente/internal/trustlog"
)

// TestAuditBundleNamesTamperedEntry runs the real commands: puente audit
// export, then puente verify, on a live pair. Then it changes one log row
// directly in the store, the way an insider with database access would,
// and checks that verify names that entry. It runs on SQLite and on
// PostgreSQL.
func TestAuditBundleNamesTamperedEntry(t *testing.T) {
	for _, st := range []struct{ name, pg string }{{"sqlite", ""}, {"postgres", os.Getenv(testenv.PostgresVar)}} {
		t.Run(st.name, func(t *testing.T) {
			if st.name == "postgres" && st.pg == "" {
				t.Skipf("%s is not set: skipping the PostgreSQL run", testenv.PostgresVar)
			}
			testenv.FastPasswords(t)
			ctx := context.Background()
			dir := t.TempDir()
			p, err := demo.StartPair(ctx, dir, st.pg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			mx := p.Nodes["MX"]
			users, _ := mx.Auth.List(ctx)
			var analista = users[0]
			for _, u := range users {
				if u.Username == "analista" {
					analista = u
				}
			}
			for i := range 4 {
				if _, err := liaison.Of(mx).Start(ctx, analista, liaison.NewThread{Subject: fmt.Sprint("asunto ", i), Priority: "routine", ToAgency: "FinCEN", Body: "texto"}); err != nil {
					t.Fatal(err)
				}
			}
			testenv.Eventually(t, 10*time.Second, "delivery", func() bool { n, _ := mx.Link.Pending(ctx); return n == 0 })
			if _, err := mx.Trust.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			if err := mx.Trust.Witness(ctx); err != nil {
				t.Fatal(err)
			}

			mxDir := filepath.Join(p.Dir, "MX")
			agPath := filepath.Join(mxDir, "agreement.json")
			bundle := filepath.Join(t.TempDir(), "bundle.json")
			cli := func(args ...string) (int, string) {
				var out, errb bytes.Buffer
				code := run(args, strings.NewReader(""), &out, &errb)
				return code, out.String() + errb.String()
			}
			exportAndVerify := func(extra ...string) (int, string) {
				t.Helper()
				if code, out := cli("audit", "export", "--dir", mxDir, "--out", bundle); code != 0 {
					t.Fatalf("audit export: %d %s", code, out)
				}
				return cli(append([]string{"verify", bundle, "--agreement", agPath}, extra...)...)
			}
			code, out := exportAndVerify()
			if code != 0 || !strings.HasPrefix(out, "OK: ") || !strings.Contains(out, "cosigned by US") {
				t.Fatalf("verify of an untouched log: %d\n%s", code, out)
			}

			// Right after new activity, --wait takes a bundle only once the
			// partner has witnessed every entry: none is left unsealed.
			if _, err := liaison.Of(mx).Start(ctx, analista, liaison.NewThread{Subject: "otra", Priority: "routine", ToAgency: "FinCEN", Body: "texto"}); err != nil {
				t.Fatal(err)
			}
			if code, out := cli("audit", "export", "--dir", mxDir, "--out", bundle, "--wait", "30s"); code != 0 {
				t.Fatalf("audit export --wait: %d %s", code, out)
			}
			if code, out := cli("verify", bundle, "--agreement", agPath); code != 0 || strings.Contains(out, "note: the last") {
				t.Fatalf("a bundle taken with --wait is not witnessed to its end: %d\n%s", code, out)
			}
			var env string
			if err := mx.DB.Read().QueryRow(ctx, `SELECT envelope_id FROM outbox WHERE state = 'delivered' ORDER BY id LIMIT 1`).Scan(&env); err != nil {
				t.Fatal(err)
			}
			code, out = cli("verify", bundle, "--agreement", agPath, "--envelope", env)
			if code != 0 || !strings.Contains(out, "logged by US at index") || !strings.Contains(out, "proven included in checkpoint") {
				t.Fatalf("verify --envelope: %d\n%s", code, out)
			}

			sent, err := trustlog.Rows(ctx, mx.DB.Read(), trustlog.Filter{Kind: trustlog.KindEnvelopeSent})
			if err != nil || len(sent) < 3 {
				t.Fatalf("sent entries: %d, %v", len(sent), err)
			}
			tamper := func(q string, args ...any) {
				t.Helper()
				if err := mx.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { _, err := tx.Exec(ctx, q, args...); return err }); err != nil {
					t.Fatal(err)
				}
			}
			cases := []struct {
				name    string
				row     trustlog.Row
				change  func(r trustlog.Row)
				restore func(r trustlog.Row)
			}{
				{"actor column", sent[1],
					func(r trustlog.Row) { tamper(`UPDATE log_entries SET actor = ? WHERE idx = ?`, "node:XX", r.Index) },
					func(r trustlog.Row) { tamper(`UPDATE log_entries SET actor = ? WHERE idx = ?`, r.Actor, r.Index) }},
				{"entry text", sent[2],
					func(r trustlog.Row) {
						tamper(`UPDATE log_entries SET data = ? WHERE idx = ?`, bytes.Replace(r.Data, []byte("detail kind="), []byte("detail kind=x"), 1), r.Index)
					},
					func(r trustlog.Row) { tamper(`UPDATE log_entries SET data = ? WHERE idx = ?`, r.Data, r.Index) }},
			}
			for _, c := range cases {
				c.change(c.row)
				code, out := exportAndVerify()
				want := fmt.Sprintf("FAIL: entry %d:", c.row.Index)
				if code != 1 || !strings.HasPrefix(out, want) {
					t.Errorf("%s changed at entry %d: verify said %d\n%s", c.name, c.row.Index, code, out)
				}
				c.restore(c.row)
			}
			if code, out := exportAndVerify(); code != 0 {
				t.Fatalf("after restoring: %d\n%s", code, out)
			}
			// A partial bundle checks too: the entries since a moment, with
			// the prefix hashes the signed roots vouch for.
			if code, out := cli("audit", "export", "--dir", mxDir, "--since", sent[2].At.Format(time.RFC3339Nano), "--out", bundle); code != 0 {
				t.Fatalf("partial export: %s", out)
			}
			if code, out := cli("verify", bundle, "--agreement", agPath); code != 0 || !strings.HasPrefix(out, "OK: ") {
				t.Fatalf("partial bundle: %d\n%s", code, out)
			}
		})
	}
}
