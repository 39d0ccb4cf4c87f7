package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestSQLiteFileIsPrivate: a new store file is created 0600, and a store
// file others may read is refused, as the key files are.
func TestSQLiteFileIsPrivate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "node.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if st, err := os.Stat(f); err == nil && st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(f), st.Mode().Perm())
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path, Options{}); !errors.Is(err, ErrExposed) {
		t.Fatalf("a store others may read was opened: %v", err)
	}
}
