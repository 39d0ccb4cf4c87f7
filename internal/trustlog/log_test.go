package trustlog_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"puente/internal/store"
	"puente/internal/testenv"
	"puente/internal/trustlog"
)

func stores(t *testing.T) map[string]func(t *testing.T) *store.DB {
	return map[string]func(t *testing.T) *store.DB{
		"sqlite": func(t *testing.T) *store.DB {
			db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "log.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		"postgres": func(t *testing.T) *store.DB {
			db, err := store.Open(context.Background(), testenv.PostgresSchema(t), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
}

// memHashes is an in-memory tlog hash store: the reference the SQL-backed
// log is compared against.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = m[x]
	}
	return out, nil
}

func TestLogMatchesTlogAndProofsCheck(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			l, err := trustlog.New(db, "MX", key)
			if err != nil {
				t.Fatal(err)
			}
			// A second Log on the same store appends as another replica of
			// the node would: each process keeps its own cache of the
			// hashes appends build on.
			replica, err := trustlog.New(db, "MX", key)
			if err != nil {
				t.Fatal(err)
			}
			var ref memHashes
			var datas [][]byte
			addWith := func(l *trustlog.Log, entries ...trustlog.Entry) {
				err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
					// Several appends in one transaction, with one in a
					// savepoint that is rolled back between them: later
					// appends build on what the transaction really holds.
					half := len(entries) / 2
					idx, err := l.Append(ctx, tx, entries[:half]...)
					if err != nil {
						return err
					}
					undone := errors.New("undone")
					if err := tx.Savepoint(ctx, func() error {
						if _, err := l.Append(ctx, tx, entries...); err != nil {
							return err
						}
						return undone
					}); !errors.Is(err, undone) {
						return fmt.Errorf("savepoint: %v", err)
					}
					rest, err := l.Append(ctx, tx, entries[half:]...)
					if err != nil {
						return err
					}
					idx = append(idx, rest...)
					for i, e := range entries {
						if idx[i] != int64(len(datas)) {
							return fmt.Errorf("entry got index %d, want %d", idx[i], len(datas))
						}
						e.At = e.At.UTC().Truncate(time.Millisecond)
						data := e.Encode()
						hs, err := tlog.StoredHashes(int64(len(datas)), data, ref)
						if err != nil {
							return err
						}
						ref = append(ref, hs...)
						datas = append(datas, data)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			add := func(entries ...trustlog.Entry) { addWith(l, entries...) }
			made := 0
			entry := func(int) trustlog.Entry {
				made++
				return trustlog.Entry{At: time.Now(), Kind: trustlog.KindEnvelopeSent, Actor: "node:MX", Object: fmt.Sprintf("envelope:%d", made), Digest: "ab"}
			}
			// Singles, then batches of awkward sizes, across several transactions.
			for i := range 5 {
				add(entry(i))
			}
			for k, n := range []int{1, 3, 17, 130, 64, 5, 2} {
				var batch []trustlog.Entry
				for i := range n {
					batch = append(batch, entry(1000+i))
				}
				switch k % 3 {
				case 0:
					add(batch...)
				case 1:
					addWith(replica, batch...)
				case 2:
					// A transaction that appends and then fails leaves
					// nothing behind, in the store or in what later
					// appends build on.
					undone := errors.New("undone")
					if err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
						if _, err := l.Append(ctx, tx, entry(0), entry(1)); err != nil {
							return err
						}
						return undone
					}); !errors.Is(err, undone) {
						t.Fatalf("failed transaction: %v", err)
					}
					add(batch...)
				}
			}
			size := int64(len(datas))
			q := db.Read()
			got, err := trustlog.Size(ctx, q)
			if err != nil || got != size {
				t.Fatalf("Size = %d, %v; want %d", got, err, size)
			}
			for _, n := range []int64{1, 2, 7, 64, size} {
				want, _ := tlog.TreeHash(n, ref)
				h, err := l.TreeHash(ctx, q, n)
				if err != nil || h != want {
					t.Fatalf("TreeHash(%d) = %v, %v; want %v", n, h, err, want)
				}
			}
			root, _ := tlog.TreeHash(size, ref)
			for _, i := range []int64{0, 1, 5, 100, size - 1} {
				p, err := l.ProveRecord(ctx, q, size, i)
				if err != nil {
					t.Fatal(err)
				}
				if err := tlog.CheckRecord(p, size, root, i, tlog.RecordHash(datas[i])); err != nil {
					t.Fatalf("entry %d: %v", i, err)
				}
				if err := tlog.CheckRecord(p, size, root, i, tlog.RecordHash(datas[(i+1)%size])); err == nil {
					t.Fatalf("entry %d: a proof checked for the wrong record", i)
				}
			}
			for _, old := range []int64{1, 6, 100} {
				p, err := l.ProveTree(ctx, q, size, old)
				if err != nil {
					t.Fatal(err)
				}
				oldRoot, _ := tlog.TreeHash(old, ref)
				if err := tlog.CheckTree(p, size, root, old, oldRoot); err != nil {
					t.Fatalf("tree %d → %d: %v", old, size, err)
				}
			}

			// Checkpoints, cosignatures and keys.
			cp, err := l.SignAt(ctx, q)
			if err != nil || cp.Size != size || cp.Root != root {
				t.Fatalf("SignAt = %+v, %v", cp, err)
			}
			opened, err := trustlog.OpenCheckpoint(cp.Note, l.Keys())
			if err != nil || opened.Size != size || opened.Root != root {
				t.Fatalf("OpenCheckpoint = %+v, %v", opened, err)
			}
			_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
			other, _ := trustlog.New(db, "MX", otherKey)
			if _, err := trustlog.OpenCheckpoint(cp.Note, other.Keys()); err == nil {
				t.Fatal("a checkpoint opened with another key")
			}
			us, _ := trustlog.New(db, "US", otherKey)
			cosig, err := us.Cosign(opened)
			if err != nil {
				t.Fatal(err)
			}
			merged, err := trustlog.AddCosignature(cp, l.Keys(), us.Keys(), cosig)
			if err != nil {
				t.Fatal(err)
			}
			if !trustlog.Cosigned(merged, us.Keys()) || trustlog.Cosigned(cp.Note, us.Keys()) {
				t.Fatal("Cosigned does not tell a cosigned checkpoint")
			}
			if _, err := trustlog.OpenCheckpoint(merged, l.Keys()); err != nil {
				t.Fatalf("the cosigned checkpoint no longer opens: %v", err)
			}
			forged, _ := other.Cosign(opened)
			if _, err := trustlog.AddCosignature(cp, l.Keys(), us.Keys(), forged); err == nil {
				t.Fatal("a cosignature by the wrong key was accepted")
			}
		})
	}
}

func TestEntryEncoding(t *testing.T) {
	e := trustlog.Entry{At: time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC), Kind: "data.read", Actor: "user:ana@UIF",
		Object: "envelope:X", Detail: "to=FGR\nforged line"}
	data := e.Encode()
	if strings.Count(string(data), "\n") != 7 {
		t.Fatalf("a newline in a field broke the entry:\n%s", data)
	}
	back, err := trustlog.ParseEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Kind != e.Kind || back.Actor != e.Actor || back.Digest != "" || !back.At.Equal(e.At.Truncate(time.Millisecond)) {
		t.Fatalf("round trip: %+v", back)
	}
	for _, bad := range []string{
		"",
		strings.Replace(string(data), "kind data.read", "kind  data.read", 1),
		strings.Replace(string(data), "puente-log-entry/v1", "puente-log-entry/v2", 1),
		string(data) + "extra\n",
		strings.Replace(string(data), ".123Z", "Z", 1),
	} {
		if _, err := trustlog.ParseEntry([]byte(bad)); err == nil {
			t.Errorf("ParseEntry accepted %q", bad)
		}
	}
}
