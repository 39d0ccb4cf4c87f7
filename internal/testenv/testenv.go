// Package testenv connects tests to what they need beyond Go: a PostgreSQL
// server (PUENTE_TEST_POSTGRES) and a Chromium binary
// (PUENTE_TEST_CHROMIUM). When a variable is unset the test is skipped;
// when it is set and the thing cannot be reached, the test fails.
package testenv

import (
	"puente/internal/node"

	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"puente/internal/auth"
	"puente/internal/demo"
)

// PostgresVar names the PostgreSQL server URL, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresVar = "PUENTE_TEST_POSTGRES"

// ChromiumVar names the Chromium binary, for example /usr/bin/chromium.
const ChromiumVar = "PUENTE_TEST_CHROMIUM"

// PostgresSchema returns a URL for a fresh schema on the test server, which
// is dropped when the test ends.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	server := os.Getenv(PostgresVar)
	if server == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL run", PostgresVar)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatalf("%s=%s: %v", PostgresVar, server, err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("%s is set but PostgreSQL does not answer: %v", PostgresVar, err)
	}
	name := "t_" + strings.ToLower(rand.Text()[:12])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", server)
		if err == nil {
			_, _ = db.Exec("DROP SCHEMA " + name + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s: %v", PostgresVar, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Chromium returns the path of the Chromium binary.
func Chromium(t testing.TB) string {
	t.Helper()
	p := os.Getenv(ChromiumVar)
	if p == "" {
		t.Skipf("%s is not set: skipping the browser test", ChromiumVar)
	}
	if out, err := exec.Command(p, "--version").CombinedOutput(); err != nil {
		t.Fatalf("%s=%s is set but does not run: %v: %s", ChromiumVar, p, err, out)
	}
	return p
}

// FastPasswords makes argon2id cheap for the test's duration: tests create
// many users, and the production cost is there to slow attackers.
func FastPasswords(t testing.TB) {
	old := auth.PasswordParams
	auth.PasswordParams = auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1}
	t.Cleanup(func() { auth.PasswordParams = old })
}

// Eventually polls cond until it holds or the limit passes.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %s", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Sprint is fmt.Sprint, to keep imports small in table tests.
var Sprint = fmt.Sprint

// StartPair starts two in-process nodes, MX and US, with cheap password
// hashing, and stops them when the test ends. Each configure function
// adjusts both nodes' configuration before they open.
func StartPair(t testing.TB, configure ...func(party string, c *node.Config)) *demo.Pair {
	t.Helper()
	FastPasswords(t)
	p, err := demo.StartPair(context.Background(), t.TempDir(), "", slog.New(slog.NewTextHandler(io.Discard, nil)), configure...)
	if err != nil {
		t.Fatalf("starting a pair of nodes: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}
