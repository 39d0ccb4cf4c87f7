//go:build unix

package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"puente/internal/store"
)

// TestSQLiteServesOneProcess: a store opened exclusively refuses a second
// exclusive opening (another process would get the same answer) until it
// is closed; administration opens it alongside.
func TestSQLiteServesOneProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "node.db")
	a, err := store.Open(ctx, path, store.Options{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, path, store.Options{Exclusive: true}); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("a second exclusive opening answered %v, want ErrInUse", err)
	}
	admin, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatalf("administration could not open the store: %v", err)
	}
	admin.Close()
	a.Close()
	b, err := store.Open(ctx, path, store.Options{Exclusive: true})
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	b.Close()
}
