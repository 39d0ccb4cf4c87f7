package auth_test

import (
	"puente/internal/fault"

	"crypto/ed25519"
	"crypto/rand"
	"puente/internal/trustlog"

	"context"
	"errors"
	"path/filepath"
	"testing"

	"puente/internal/auth"
	"puente/internal/store"
	"puente/internal/testenv"
)

func TestPasswordHash(t *testing.T) {
	testenv.FastPasswords(t)
	h, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !auth.CheckPassword(h, "correct horse battery") || auth.CheckPassword(h, "correct horse batterz") {
		t.Fatal("argon2id check is wrong")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$v=1$m=1,t=1,p=1$AA$AA", h[:len(h)-4]} {
		if auth.CheckPassword(bad, "correct horse battery") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestLockoutAndSessions(t *testing.T) {
	testenv.FastPasswords(t)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	tl, err := trustlog.New(db, "MX", key)
	if err != nil {
		t.Fatal(err)
	}
	s := auth.NewService(db, "MX", tl)
	u, err := s.Create(ctx, auth.NewUser{Username: "ana", DisplayName: "Ana", Role: auth.Analyst, Agency: "UIF", Password: "a-long-password!"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := s.Authenticate(ctx, "ana", "wrong", "10.0.0.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := s.Authenticate(ctx, "ana", "a-long-password!", "10.0.0.1"); !errors.Is(err, auth.ErrLocked) {
		t.Fatalf("after five failures the right password gave %v, want a lockout", err)
	}
	secret, err := s.NewSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Session(ctx, secret); err != nil || got.ID != u.ID {
		t.Fatalf("session: %v", err)
	}
	disabled := true
	if _, err := s.Update(ctx, u.ID, auth.Update{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, secret); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("a disabled user's session still works: %v", err)
	}
	cases := []auth.NewUser{
		{Username: "Bad Name", DisplayName: "x", Role: auth.Analyst, Agency: "UIF", Password: "a-long-password!"},
		{Username: "ok", DisplayName: "x", Role: "boss", Agency: "UIF", Password: "a-long-password!"},
		{Username: "ok", DisplayName: "x", Role: auth.Analyst, Agency: "FBI", Password: "a-long-password!"},
		{Username: "ok", DisplayName: "x", Role: auth.Analyst, Agency: "UIF", Password: "short"},
	}
	for _, c := range cases {
		var fe *fault.FieldError
		if _, err := s.Create(ctx, c); !errors.As(err, &fe) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
