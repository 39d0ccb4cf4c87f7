package link_test

import (
	"context"
	"testing"
	"time"

	"puente/internal/link"
	"puente/internal/store"
	"puente/internal/testenv"
)

// TestOutboxRowsFromBeforeTheHashColumn: rows written before the outbox
// kept each envelope's hash (migration 00006) still leave, and their
// receipts are checked against the hash of the envelope itself; a row
// whose stored hash is not its envelope's never counts as delivered.
func TestOutboxRowsFromBeforeTheHashColumn(t *testing.T) {
	p := testenv.StartPair(t)
	mx := p.Nodes["MX"]
	ctx := context.Background()
	enqueue := func(hash string) string {
		var id string
		err := mx.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			e, err := mx.Link.Enqueue(ctx, tx, link.Outgoing{Kind: "liaison.attachment", Version: 1,
				Stream: "liaison:" + link.NewID(), Caveats: map[string]any{}, RawBody: []byte("file " + link.NewID())})
			if err != nil {
				return err
			}
			id = e.ID
			_, err = tx.Exec(ctx, `UPDATE outbox SET envelope_hash = ? WHERE envelope_id = ?`, hash, e.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	state := func(id string) (s string) {
		if err := mx.DB.Read().QueryRow(ctx, `SELECT state FROM outbox WHERE envelope_id = ?`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	old := enqueue("")
	testenv.Eventually(t, 10*time.Second, "the row without a hash being delivered", func() bool { return state(old) == "delivered" })

	wrong := enqueue("0000000000000000000000000000000000000000000000000000000000000000")
	// The partner applies it, but its receipt names another hash than the
	// one this row claims: the sender must not take it as delivered.
	us := p.Nodes["US"]
	testenv.Eventually(t, 10*time.Second, "the partner applying the envelope", func() bool {
		var n int
		err := us.DB.Read().QueryRow(ctx, `SELECT COUNT(*) FROM inbox WHERE envelope_id = ?`, wrong).Scan(&n)
		return err == nil && n == 1
	})
	time.Sleep(300 * time.Millisecond)
	if s := state(wrong); s != "pending" {
		t.Fatalf("a row whose stored hash is wrong is %s, want pending", s)
	}
}
