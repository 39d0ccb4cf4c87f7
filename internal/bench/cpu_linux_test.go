//go:build linux

package bench

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"puente/internal/testenv"
)

// TestProcessCPUFromProc: a process's CPU time read from /proc grows
// while it works, and a process whose parent is not PostgreSQL is not
// taken for a backend.
func TestProcessCPUFromProc(t *testing.T) {
	before := pidCPU(os.Getpid())
	x := 0
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
		x++
	}
	if after := pidCPU(os.Getpid()); after <= before {
		t.Fatalf("CPU time %v after 200 ms of work, %v before (%d loops)", after, before, x)
	}
	if pm, ok := postmaster(os.Getpid()); ok {
		t.Fatalf("this test's parent %d was taken for a PostgreSQL server", pm)
	}
	if got := pidCPU(-1); got != 0 {
		t.Fatalf("a process that does not exist used %v", got)
	}
}

// TestServerCPU: the CPU time of a PostgreSQL server on this machine,
// found from one of its backends, grows while it answers queries.
func TestServerCPU(t *testing.T) {
	db, err := sql.Open("pgx", testenv.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var pid int
	if err := db.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	pm, ok := postmaster(pid)
	if !ok {
		t.Skipf("backend %d: the PostgreSQL server is not on this machine", pid)
	}
	before, ok := serverCPU(pm)
	if !ok {
		t.Fatalf("postmaster %d: no CPU time", pm)
	}
	for range 20 {
		if _, err := db.ExecContext(ctx, `SELECT count(*) FROM generate_series(1, 200000)`); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := serverCPU(pm); after <= before {
		t.Fatalf("the server's CPU time %v after 20 queries, %v before", after, before)
	}
}
