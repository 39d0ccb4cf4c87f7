package replica_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"puente/internal/replica"
	"puente/internal/store"
	"puente/internal/testenv"
)

// leading runs e in the background and returns the context its leader's
// work gets, once it leads.
func leading(t *testing.T, e *replica.Elector) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan context.Context, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.Run(ctx, func(lctx context.Context) error {
			got <- lctx
			<-lctx.Done()
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case lctx := <-got:
		return lctx
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never led", e.Name())
		return nil
	}
}

// freshStore is a migrated store on a new PostgreSQL schema, and its URL.
func freshStore(t *testing.T) (string, *store.DB) {
	t.Helper()
	dsn := testenv.PostgresSchema(t)
	db, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return dsn, db
}

func write(ctx context.Context, db *store.DB, value string) error {
	return db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO link_state (name, value) VALUES ('fence-test', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, value)
		return err
	})
}

// TestFenceRefusesAStaleLeader: a leader that still believes it holds the
// lease (its own clock says so) but whose term has passed to another
// replica in the database writes nothing: the check inside its
// transaction refuses it.
func TestFenceRefusesAStaleLeader(t *testing.T) {
	dsn, db := freshStore(t)
	ctx := context.Background()
	// A long renewal period: the leader will not look at the database
	// again during the test.
	a := replica.NewElector(replica.Config{DSN: dsn, Name: "a", TTL: 20 * time.Second, Renew: 10 * time.Second})
	lctx := leading(t, a)
	if err := write(lctx, db, "a while leading"); err != nil {
		t.Fatalf("the leader's write: %v", err)
	}
	if _, err := db.Read().Query(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	// Another replica takes the term, as after a's lease ran out.
	if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE replica_lease SET holder = 'b', epoch = epoch + 1 WHERE name = 'node'`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !store.Leading(lctx) {
		t.Fatal("the stale leader's own clock should still say it leads")
	}
	if err := write(lctx, db, "a after losing the lease"); !errors.Is(err, store.ErrNotLeader) {
		t.Fatalf("the stale leader's write: %v, want ErrNotLeader", err)
	}
	var v string
	if err := db.Read().QueryRow(ctx, `SELECT value FROM link_state WHERE name = 'fence-test'`).Scan(&v); err != nil || v != "a while leading" {
		t.Fatalf("stored %q (%v): the stale write got through", v, err)
	}
	// Writes outside the leader's work are not fenced.
	if err := write(ctx, db, "a request"); err != nil {
		t.Fatal(err)
	}
}

// TestLeaseMovesOnStepDown: a replica that stops (its context ends) gives
// the lease up at once; another takes it without waiting for it to run
// out, in a later term.
func TestLeaseMovesOnStepDown(t *testing.T) {
	dsn, db := freshStore(t)
	ctx := context.Background()
	a := replica.NewElector(replica.Config{DSN: dsn, Name: "a", TTL: 30 * time.Second})
	actx, stopA := context.WithCancel(ctx)
	aDone := make(chan struct{})
	led := make(chan struct{})
	go func() {
		defer close(aDone)
		_ = a.Run(actx, func(lctx context.Context) error { close(led); <-lctx.Done(); return nil })
	}()
	<-led
	b := replica.NewElector(replica.Config{DSN: dsn, Name: "b", TTL: 30 * time.Second, Renew: 100 * time.Millisecond})
	bctx, stopB := context.WithCancel(ctx)
	defer stopB()
	bLeads := make(chan time.Time, 1)
	go func() {
		_ = b.Run(bctx, func(lctx context.Context) error { bLeads <- time.Now(); <-lctx.Done(); return nil })
	}()
	time.Sleep(300 * time.Millisecond)
	if st := b.Status(); st.Leading || st.Leader != "a" || st.Epoch != 1 {
		t.Fatalf("b sees %+v, want a leading in term 1", st)
	}
	stopped := time.Now()
	stopA()
	<-aDone
	select {
	case at := <-bLeads:
		if took := at.Sub(stopped); took > 5*time.Second {
			t.Errorf("b took %s to lead after a stopped", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b never led after a stepped down (the lease lasts 30 s)")
	}
	if st := b.Status(); !st.Leading || st.Epoch != 2 {
		t.Fatalf("b: %+v, want leading in term 2", st)
	}
	var holder string
	if err := db.Read().QueryRow(ctx, `SELECT holder FROM replica_terms WHERE epoch = 2`).Scan(&holder); err != nil || holder != "b" {
		t.Fatalf("term 2 recorded for %q (%v)", holder, err)
	}
}

// TestStatusStopsLeadingWhenTheLeaseRunsOut: once a leader's own clock
// says its lease may have run out, its Status (and so /healthz and
// /readyz/leader) no longer says it leads, even before its loop has
// looked at the database again (as after a pause: SIGSTOP, a stopped VM).
func TestStatusStopsLeadingWhenTheLeaseRunsOut(t *testing.T) {
	dsn, _ := freshStore(t)
	// The lease is believed for TTL less half the renewal period (1.55 s);
	// the loop first looks again after 2.9 s.
	a := replica.NewElector(replica.Config{DSN: dsn, Name: "a", TTL: 3 * time.Second, Renew: 2900 * time.Millisecond})
	leading(t, a)
	if st := a.Status(); !st.Leading {
		t.Fatalf("a just took the lease: %+v", st)
	}
	time.Sleep(2200 * time.Millisecond)
	if st := a.Status(); st.Leading {
		t.Fatalf("a's lease ran out on its own clock, yet it says %+v", st)
	}
}
