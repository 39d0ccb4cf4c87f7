package identity_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"puente/internal/identity"
)

func TestKeysArePrivate(t *testing.T) {
	dir := t.TempDir()
	id, err := identity.Generate(dir, "MX", []string{"mx.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{identity.SigningKeyFile, identity.TLSKeyFile} {
		st, _ := os.Stat(filepath.Join(dir, f))
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %o", f, st.Mode().Perm())
		}
	}
	if _, err := identity.Generate(dir, "MX", nil); err == nil {
		t.Fatal("Generate overwrote existing keys")
	}
	os.Chmod(filepath.Join(dir, identity.TLSKeyFile), 0o640)
	if _, err := identity.Load(dir); !errors.Is(err, identity.ErrKeyExposed) {
		t.Fatalf("a group-readable key loaded: %v", err)
	}
	os.Chmod(filepath.Join(dir, identity.TLSKeyFile), 0o600)
	again, err := identity.Load(dir)
	if err != nil || again.SigningKeyString() != id.SigningKeyString() || again.TLSFingerprint() != id.TLSFingerprint() {
		t.Fatalf("reloaded identity differs: %v", err)
	}
	if _, err := identity.ParsePublicKey(id.SigningKeyString()); err != nil {
		t.Fatal(err)
	}
}
