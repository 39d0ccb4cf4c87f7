// Package storetest is the conformance suite every store runs: SQLite and
// PostgreSQL pass the same tests or neither is a store.
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"puente/internal/store"
)

// Run runs the suite. open returns a new, migrated, empty store; dsn
// reopens the same store.
func Run(t *testing.T, dsn func(t *testing.T) string) {
	ctx := context.Background()
	open := func(t *testing.T, d string) *store.DB {
		db, err := store.Open(ctx, d, store.Options{})
		if err != nil {
			t.Fatalf("opening store: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	set := func(ctx context.Context, tx *store.Tx, k, v string) error {
		_, err := tx.Exec(ctx, `INSERT INTO link_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, k, v)
		return err
	}
	get := func(t *testing.T, db *store.DB, k string) (string, error) {
		var v string
		err := db.Read().QueryRow(ctx, `SELECT value FROM link_state WHERE name = ?`, k).Scan(&v)
		return v, err
	}

	// keptOuterOnly checks what the savepoint tests leave: the write
	// outside the savepoint, and not the one inside it.
	keptOuterOnly := func(t *testing.T, db *store.DB) {
		t.Helper()
		if v, _ := get(t, db, "outer"); v != "kept" {
			t.Fatalf("outer = %q, want kept", v)
		}
		if _, err := get(t, db, "inner"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("inner write survived its savepoint: %v", err)
		}
	}

	t.Run("commit and rollback", func(t *testing.T) {
		db := open(t, dsn(t))
		if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return set(ctx, tx, "a", "1") }); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := set(ctx, tx, "a", "2"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("ReadWrite returned %v, want the closure's error", err)
		}
		if v, err := get(t, db, "a"); err != nil || v != "1" {
			t.Fatalf("after a failed closure a = %q, %v; want 1", v, err)
		}
	})

	t.Run("missing row is ErrNotFound", func(t *testing.T) {
		db := open(t, dsn(t))
		if _, err := get(t, db, "nothing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
	})

	t.Run("unique violation is ErrConflict and leaves data", func(t *testing.T) {
		db := open(t, dsn(t))
		ins := func(id string) error {
			return db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO outbox (envelope_id, stream, seq, kind, raw, created_at) VALUES (?, 's', ?, 'k', ?, 0)`, id, len(id), []byte("x"))
				return err
			})
		}
		if err := ins("env-1"); err != nil {
			t.Fatal(err)
		}
		if err := ins("env-1"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate insert gave %v, want ErrConflict", err)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("outbox has %d rows (%v), want 1", n, err)
		}
	})

	t.Run("after-commit hooks run only on commit", func(t *testing.T) {
		db := open(t, dsn(t))
		var ran atomic.Int32
		_ = db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			tx.AfterCommit(func() { ran.Add(1) })
			return errors.New("no")
		})
		if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			tx.AfterCommit(func() { ran.Add(10) })
			return set(ctx, tx, "x", "y")
		}); err != nil {
			t.Fatal(err)
		}
		if ran.Load() != 10 {
			t.Fatalf("hooks ran with total %d, want 10", ran.Load())
		}
	})

	t.Run("savepoint undoes only its own writes", func(t *testing.T) {
		db := open(t, dsn(t))
		err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := set(ctx, tx, "outer", "kept"); err != nil {
				return err
			}
			err := tx.Savepoint(ctx, func() error {
				if err := set(ctx, tx, "inner", "gone"); err != nil {
					return err
				}
				return errors.New("undo")
			})
			if err == nil {
				return errors.New("savepoint error was lost")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		keptOuterOnly(t, db)
	})

	t.Run("a closure whose context ends mid-way leaves nothing", func(t *testing.T) {
		db := open(t, dsn(t))
		cctx, cancel := context.WithCancel(ctx)
		err := db.ReadWrite(cctx, func(c context.Context, tx *store.Tx) error {
			if err := set(c, tx, "half", "written"); err != nil {
				return err
			}
			cancel()
			return set(c, tx, "other", "half")
		})
		if err == nil {
			t.Fatal("a write with a cancelled context succeeded")
		}
		if _, err := get(t, db, "half"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("half of a cancelled closure was committed: %v", err)
		}
	})

	// parallel runs f(w, i) for i from 0 to each-1 on each of workers
	// goroutines, and returns the first failure.
	parallel := func(workers, each int, f func(w, i int) error) error {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if err := f(w, i); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	}

	t.Run("concurrent writers lose nothing", func(t *testing.T) {
		db := open(t, dsn(t))
		const workers, each = 8, 40
		err := parallel(workers, each, func(w, i int) error {
			return db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				var seq int64
				if err := tx.QueryRow(ctx, `INSERT INTO stream_seq (stream, last_seq) VALUES ('s', 1)
					ON CONFLICT (stream) DO UPDATE SET last_seq = stream_seq.last_seq + 1 RETURNING last_seq`).Scan(&seq); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO outbox (envelope_id, stream, seq, kind, raw, created_at) VALUES (?, 's', ?, 'k', ?, 0)`,
					fmt.Sprintf("w%d-%d", w, i), seq, []byte("x"))
				return err
			})
		})
		if err != nil {
			t.Fatalf("concurrent write failed: %v", err)
		}
		var n, maxSeq int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*), MAX(seq) FROM outbox`).Scan(&n, &maxSeq); err != nil {
			t.Fatal(err)
		}
		if n != workers*each || maxSeq != workers*each {
			t.Fatalf("%d rows with max seq %d, want %d and %d: a write was lost or a number reused", n, maxSeq, workers*each, workers*each)
		}
	})

	t.Run("a counter numbers without gaps or repeats while closures of its groups fail", func(t *testing.T) {
		db := open(t, dsn(t))
		c := db.Counter("stream_seq", "stream", "last_seq")
		const workers, each = 8, 40
		boom := errors.New("boom")
		var ok atomic.Int64
		err := parallel(workers, each, func(w, i int) error {
			fail := (w+i)%5 == 2
			err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				seq, err := c.Next(ctx, tx, "s")
				if err != nil {
					return err
				}
				if err := tx.ExecDeferred(ctx, `INSERT INTO outbox (envelope_id, stream, seq, kind, raw, created_at) VALUES (?, 's', ?, 'k', ?, 0)`,
					fmt.Sprintf("w%d-%d", w, i), seq, []byte("x")); err != nil {
					return err
				}
				if fail {
					return boom
				}
				return nil
			})
			switch {
			case fail && !errors.Is(err, boom):
				return fmt.Errorf("a failing closure returned %v", err)
			case !fail && err != nil:
				return err
			case !fail:
				ok.Add(1)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var n, maxSeq, last int64
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*), MAX(seq), (SELECT last_seq FROM stream_seq WHERE stream = 's') FROM outbox`).Scan(&n, &maxSeq, &last); err != nil {
			t.Fatal(err)
		}
		if n != ok.Load() || maxSeq != n || last != n {
			t.Fatalf("%d rows, max seq %d, last_seq %d; want %d of each: a number was skipped or given twice", n, maxSeq, last, ok.Load())
		}
		if c.Stale() != 0 {
			t.Fatalf("the counter remembered wrongly %d times within one process", c.Stale())
		}
	})

	t.Run("a counter sees another process's numbers, and survives a write it could not see", func(t *testing.T) {
		d := dsn(t)
		a, b := open(t, d), open(t, d)
		next := func(t *testing.T, db *store.DB, want int64) {
			t.Helper()
			var got int64
			err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				var err error
				got, err = db.Counter("stream_seq", "stream", "last_seq").Next(ctx, tx, "s")
				return err
			})
			if err != nil || got != want {
				t.Fatalf("Next = %d, %v; want %d", got, err, want)
			}
		}
		next(t, a, 1)
		next(t, a, 2)
		next(t, b, 3) // another process of the node
		next(t, a, 4)
		next(t, a, 5)
		next(t, b, 6)
		next(t, a, 7) // a remembers 7
		ca, cb := a.Counter("stream_seq", "stream", "last_seq"), b.Counter("stream_seq", "stream", "last_seq")
		if s := ca.Stale() + cb.Stale(); s != 0 {
			t.Fatalf("the processes remembered wrongly %d times: they did not see each other's writes", s)
		}
		if ca.Reads() != 1 || cb.Reads() != 1 {
			t.Fatalf("the processes read the table %d and %d times, want once each: the rest comes from memory", ca.Reads(), cb.Reads())
		}
		// A write that does not go through the counter (as by a process
		// of an earlier release) is caught when a number is written back.
		if err := a.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE stream_seq SET last_seq = 10 WHERE stream = 's'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		next(t, a, 11)
		next(t, a, 12)
		next(t, b, 13)
		if ca.Stale() != 1 || cb.Stale() != 0 {
			t.Fatalf("stale = %d and %d, want 1 and 0", ca.Stale(), cb.Stale())
		}
	})

	t.Run("a read at begin sees the store as the transaction began, until a savepoint is undone", func(t *testing.T) {
		db := open(t, dsn(t))
		type countKey struct{}
		db.ReadAtBegin(countKey{}, `SELECT COUNT(*) FROM link_state`)
		for want := range int64(3) {
			err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				if n, ok := tx.AtBegin(countKey{}); !ok || n != want {
					return fmt.Errorf("at begin %d, %v; want %d", n, ok, want)
				}
				if err := set(ctx, tx, fmt.Sprint("k", want), "v"); err != nil {
					return err
				}
				if n, ok := tx.AtBegin(countKey{}); !ok || n != want {
					return fmt.Errorf("after a write, at begin %d, %v; want still %d", n, ok, want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			_ = tx.Savepoint(ctx, func() error { return errors.New("undo") })
			if _, ok := tx.AtBegin(countKey{}); ok {
				return errors.New("a read at begin survived an undone savepoint")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("sessions the server cuts leave nothing half done, and the store goes on", func(t *testing.T) {
		d := dsn(t)
		u, err := url.Parse(d)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			t.Skip("PostgreSQL only: the server ends sessions")
		}
		app := "storetest-" + strings.ToLower(rand.Text()[:10])
		q := u.Query()
		q.Set("application_name", app)
		u.RawQuery = q.Encode()
		db := open(t, u.String())
		admin := open(t, d)
		cut := func() {
			t.Helper()
			rows, err := admin.Read().Query(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = ?`, app)
			if err != nil {
				t.Fatalf("ending the sessions: %v", err)
			}
			rows.Close()
		}
		if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return set(ctx, tx, "a", "1") }); err != nil {
			t.Fatal(err)
		}
		for round := range 5 {
			cut()
			want := fmt.Sprint(round + 2)
			var err error
			for range 3 {
				// A write on a session the server ended may fail; the
				// next one runs on a new session.
				if err = db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return set(ctx, tx, "a", want) }); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatalf("round %d: the store did not recover: %v", round, err)
			}
			if v, err := get(t, db, "a"); err != nil || v != want {
				t.Fatalf("round %d: a = %q, %v; want %s", round, v, err, want)
			}
		}
		// A session ended in the middle of a transaction commits none of it.
		err = db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := set(ctx, tx, "half", "written"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
			return err
		})
		if err == nil {
			t.Fatal("a transaction whose session ended committed")
		}
		if _, err := get(t, db, "half"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("half of a cut transaction was committed: %v", err)
		}
		c := db.Counter("stream_seq", "stream", "last_seq")
		for want := range int64(4) {
			cut()
			var got int64
			var err error
			for range 3 {
				if err = db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
					got, err = c.Next(ctx, tx, "s")
					return err
				}); err == nil {
					break
				}
			}
			if err != nil || got != want+1 {
				t.Fatalf("after a cut, Next = %d, %v; want %d", got, err, want+1)
			}
		}
	})

	t.Run("one failing writer does not undo a concurrent one", func(t *testing.T) {
		db := open(t, dsn(t))
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
					if err := set(ctx, tx, fmt.Sprint("k", i), "v"); err != nil {
						return err
					}
					if i%2 == 1 {
						return errors.New("odd ones fail")
					}
					return nil
				})
			}()
		}
		wg.Wait()
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM link_state`).Scan(&n); err != nil || n != 10 {
			t.Fatalf("%d rows (%v), want exactly the 10 that succeeded", n, err)
		}
	})

	t.Run("deferred statements are seen by what follows, and commit", func(t *testing.T) {
		db := open(t, dsn(t))
		err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			for i := range 300 { // more than one pipeline holds
				if err := tx.ExecDeferred(ctx, `INSERT INTO link_state (name, value) VALUES (?, ?)`, fmt.Sprint("d", i), "v"); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM link_state`).Scan(&n); err != nil {
				return err
			}
			if n != 300 {
				return fmt.Errorf("the transaction sees %d deferred rows, want 300", n)
			}
			return tx.ExecDeferred(ctx, `UPDATE link_state SET value = 'last' WHERE name = 'd0'`)
		})
		if err != nil {
			t.Fatal(err)
		}
		if v, err := get(t, db, "d0"); err != nil || v != "last" {
			t.Fatalf("d0 = %q, %v; want the deferred update committed", v, err)
		}
	})

	t.Run("Int64 sends the deferred statements with it and sees them", func(t *testing.T) {
		db := open(t, dsn(t))
		err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			for i := range 3 {
				if err := tx.ExecDeferred(ctx, `INSERT INTO link_state (name, value) VALUES (?, 'v')`, fmt.Sprint("i", i)); err != nil {
					return err
				}
			}
			n, err := tx.Int64(ctx, `SELECT COUNT(*) FROM link_state`)
			if err != nil || n != 3 {
				return fmt.Errorf("Int64 = %d, %v; want 3", n, err)
			}
			if err := tx.ExecDeferred(ctx, `INSERT INTO link_state (name, value) VALUES ('i9', 'v')`); err != nil {
				return err
			}
			// Its own failure is its own, classified.
			if _, err := tx.Int64(ctx, `SELECT COUNT(*) FROM link_state WHERE name = ? GROUP BY name`, "none"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("Int64 of no row gave %v, want ErrNotFound", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := get(t, db, "i9"); err != nil {
			t.Fatalf("the row deferred before a failed Int64 was lost: %v", err)
		}
		// A deferred duplicate sent with Int64 fails its closure with
		// ErrConflict.
		err = db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.ExecDeferred(ctx, `INSERT INTO link_state (name, value) VALUES ('i0', 'again')`); err != nil {
				return err
			}
			_, err := tx.Int64(ctx, `SELECT COUNT(*) FROM link_state`)
			return err
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a deferred duplicate sent with Int64 gave %v, want ErrConflict", err)
		}
	})

	t.Run("reserved ids come before the rows and never collide with later ones", func(t *testing.T) {
		db := open(t, dsn(t))
		insert := `INSERT INTO outbox (envelope_id, stream, seq, kind, raw, created_at) VALUES (?, 's', ?, 'k', ?, 0)`
		var reserved []int64
		for round := range 2 {
			err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				ids, err := tx.NextIDs(ctx, "outbox", 3)
				if err != nil {
					return err
				}
				if len(ids) != 3 || ids[0] >= ids[1] || ids[1] >= ids[2] {
					return fmt.Errorf("NextIDs = %v, want three increasing ids", ids)
				}
				if len(reserved) > 0 && ids[0] <= reserved[len(reserved)-1] {
					return fmt.Errorf("NextIDs = %v after %v", ids, reserved)
				}
				for i, id := range ids {
					if err := tx.ExecDeferred(ctx, `INSERT INTO outbox (id, envelope_id, stream, seq, kind, raw, created_at) VALUES (?, ?, 's', ?, 'k', ?, 0)`,
						id, fmt.Sprint("r", round, i), round*10+i, []byte("x")); err != nil {
						return err
					}
				}
				reserved = append(reserved, ids...)
				// A row given no id takes one after the reserved ones.
				own, err := tx.InsertID(ctx, insert, fmt.Sprint("own", round), round*10+5, []byte("x"))
				if err != nil {
					return err
				}
				if own <= ids[2] {
					return fmt.Errorf("a row without an id got %d, not after the reserved %v", own, ids)
				}
				reserved = append(reserved, own)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil || n != 8 {
			t.Fatalf("%d rows (%v), want 8", n, err)
		}
	})

	t.Run("a failing deferred statement fails its own closure alone, with its own error", func(t *testing.T) {
		db := open(t, dsn(t))
		if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return set(ctx, tx, "taken", "1") }); err != nil {
			t.Fatal(err)
		}
		// Alone: the duplicate is ErrConflict, as Exec would say.
		err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.ExecDeferred(ctx, `INSERT INTO link_state (name, value) VALUES ('taken', '2')`); err != nil {
				return err
			}
			return set(ctx, tx, "after", "x") // sends the deferred insert first
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a lone closure's failing deferred insert gave %v, want ErrConflict", err)
		}
		if _, err := get(t, db, "after"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the failing closure's other write was committed: %v", err)
		}
		// In a group: writers that defer good rows and one that defers a
		// duplicate, all at once; only the duplicate's closure fails.
		var wg sync.WaitGroup
		results := make([]error, 16)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
					name := fmt.Sprint("g", i)
					if i == 7 {
						name = "taken"
					}
					if err := tx.ExecDeferred(ctx, `INSERT INTO link_state (name, value) VALUES (?, 'v')`, name); err != nil {
						return err
					}
					return tx.Savepoint(ctx, func() error {
						return tx.ExecDeferred(ctx, `INSERT INTO link_state (name, value) VALUES (?, 'v')`, name+"-inner")
					})
				})
			}()
		}
		wg.Wait()
		for i, err := range results {
			if i == 7 && !errors.Is(err, store.ErrConflict) {
				t.Fatalf("the duplicate's closure gave %v, want ErrConflict", err)
			}
			if i != 7 && err != nil {
				t.Fatalf("closure %d failed with the duplicate's error: %v", i, err)
			}
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM link_state WHERE name LIKE 'g%'`).Scan(&n); err != nil || n != 30 {
			t.Fatalf("%d rows (%v), want the 30 of the 15 good closures", n, err)
		}
		if _, err := get(t, db, "taken-inner"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the failing closure's savepoint write was committed: %v", err)
		}
	})

	t.Run("a deferred statement that fails in a savepoint undoes that savepoint alone", func(t *testing.T) {
		db := open(t, dsn(t))
		err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.ExecDeferred(ctx, `INSERT INTO link_state (name, value) VALUES ('outer', 'kept')`); err != nil {
				return err
			}
			err := tx.Savepoint(ctx, func() error {
				if err := tx.ExecDeferred(ctx, `INSERT INTO link_state (name, value) VALUES ('inner', 'gone')`); err != nil {
					return err
				}
				return tx.ExecDeferred(ctx, `INSERT INTO link_state (name, value) VALUES ('outer', 'again')`)
			})
			if !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("the savepoint gave %v, want ErrConflict", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		keptOuterOnly(t, db)
	})

	t.Run("question marks inside strings are not placeholders", func(t *testing.T) {
		db := open(t, dsn(t))
		if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO link_state (name, value) VALUES (?, 'what?')`, "q")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if v, _ := get(t, db, "q"); v != "what?" {
			t.Fatalf("value %q, want what?", v)
		}
	})

	t.Run("reopening keeps data and migrations are idempotent", func(t *testing.T) {
		d := dsn(t)
		db, err := store.Open(ctx, d, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return set(ctx, tx, "p", "persist") }); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db2 := open(t, d)
		if v, err := get(t, db2, "p"); err != nil || v != "persist" {
			t.Fatalf("after reopening p = %q, %v", v, err)
		}
	})

	t.Run("blobs round-trip byte for byte", func(t *testing.T) {
		db := open(t, dsn(t))
		blob := make([]byte, 3<<20)
		for i := range blob {
			blob[i] = byte(i * 7)
		}
		if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO attachments (sha256, size, data) VALUES ('h', ?, ?)`, len(blob), blob)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var got []byte
		if err := db.Read().QueryRow(ctx, `SELECT data FROM attachments WHERE sha256 = 'h'`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if string(got) != string(blob) {
			t.Fatal("blob changed in the store")
		}
	})

	t.Run("closed store refuses writes", func(t *testing.T) {
		db, err := store.Open(ctx, dsn(t), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return set(ctx, tx, "z", "z") }); err == nil {
			t.Fatal("write to a closed store succeeded")
		}
	})

	t.Run("a memo decodes each row once per version, and sees two writes in one millisecond", func(t *testing.T) {
		db := open(t, dsn(t))
		decoded := 0
		m := store.Memo[string]{Table: "training_offers", Version: "updated_at", Decode: func(doc string) (string, error) { decoded++; return doc, nil }}
		write := func(id, doc string, insert bool) {
			t.Helper()
			if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				var err error
				if insert {
					_, err = tx.Exec(ctx, `INSERT INTO training_offers (id, origin, status, start_day, published_at, updated_at, doc) VALUES (?, 'MX', 'published', '2026-01-01', 1, 1000, ?)`, id, doc)
				} else {
					// The same millisecond as the row's version: the version still moves.
					_, err = tx.Exec(ctx, `UPDATE training_offers SET doc = ?, updated_at = `+store.NextVersion("updated_at")+` WHERE id = ?`, doc, 1000, 1000, id)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		load := func() []string {
			t.Helper()
			got, err := m.Load(ctx, db.Read(), `published_at > 0`)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		write("a", "A1", true)
		write("b", "B1", true)
		if got := load(); fmt.Sprint(got) != "[A1 B1]" || decoded != 2 {
			t.Fatalf("first load %v, %d decoded", got, decoded)
		}
		if got := load(); fmt.Sprint(got) != "[A1 B1]" || decoded != 2 {
			t.Fatalf("unchanged rows decoded again: %v, %d decoded", got, decoded)
		}
		write("a", "A2", false)
		write("a", "A3", false)
		if got := load(); fmt.Sprint(got) != "[A3 B1]" || decoded != 3 {
			t.Fatalf("after two writes in one millisecond %v, %d decoded", got, decoded)
		}
		if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM training_offers WHERE id = 'b'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := load(); fmt.Sprint(got) != "[A3]" {
			t.Fatalf("a deleted row still listed: %v", got)
		}
	})
}
