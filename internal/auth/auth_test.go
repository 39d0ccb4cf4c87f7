package auth_test

import (
	"fmt"
	"puente/internal/fault"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

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
	s := serviceOn(t, db)
	u, err := s.Create(ctx, auth.NewUser{Username: "ana", DisplayName: "Ana", Role: auth.Analyst, Agency: "UIF", Password: "a-long-password!"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := s.Authenticate(ctx, "ana", "wrong", "10.0.0.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	// Locked: the right password is refused with the same answer as a
	// wrong one (a locked account is not told apart from a wrong guess).
	if _, err := s.Authenticate(ctx, "ana", "a-long-password!", "10.0.0.1"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("after five failures the right password gave %v, want a refusal", err)
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

func newService(t *testing.T) (*auth.Service, *store.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "auth.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return serviceOn(t, db), db
}

// serviceOn is an MX auth service on db, with a log of its own key: a
// second one on the same db stands for another replica of the node.
func serviceOn(t *testing.T, db *store.DB) *auth.Service {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	tl, err := trustlog.New(db, "MX", key)
	if err != nil {
		t.Fatal(err)
	}
	return auth.NewService(db, "MX", tl)
}

// TestParallelGuessesAllCount: 20 wrong passwords at once each count, so
// the account locks after the configured five, and then refuses even the
// right password.
func TestParallelGuessesAllCount(t *testing.T) {
	old := auth.PasswordParams
	auth.PasswordParams = auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1}
	t.Cleanup(func() { auth.PasswordParams = old })
	s, db := newService(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, auth.NewUser{Username: "ana", DisplayName: "Ana", Role: auth.Analyst, Agency: "UIF", Password: "a-long-password!"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := s.Authenticate(ctx, "ana", fmt.Sprint("wrong-", i), "10.0.0.1"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Errorf("guess %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	var fails int
	var until int64
	if err := db.Read().QueryRow(ctx, `SELECT failed_logins, locked_until FROM users WHERE username = 'ana'`).Scan(&fails, &until); err != nil {
		t.Fatal(err)
	}
	if fails < 5 || until <= store.Now() {
		t.Fatalf("after 20 parallel guesses: %d failures counted, locked until %d", fails, until)
	}
	if _, err := s.Authenticate(ctx, "ana", "a-long-password!", "10.0.0.2"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("the locked account let the right password in: %v", err)
	}
}

// TestSignInFloodMemoryIsBounded: 200 sign-ins at once hash at most
// MaxConcurrentHashes passwords at a time, so memory stays bounded
// instead of growing with the flood (each hash holds its whole memory
// parameter).
func TestSignInFloodMemoryIsBounded(t *testing.T) {
	const mem = 8 << 10 // KiB per hash
	old := auth.PasswordParams
	auth.PasswordParams = auth.Argon2Params{Time: 1, Memory: mem, Threads: 1}
	t.Cleanup(func() { auth.PasswordParams = old })
	s, _ := newService(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, auth.NewUser{Username: "ana", DisplayName: "Ana", Role: auth.Analyst, Agency: "UIF", Password: "a-long-password!"}); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			// So many at once lock the account (each attempt counts
			// until it succeeds), and locked attempts hash too: either
			// answer is fine here, the memory is what is measured.
			_, err := s.Authenticate(ctx, "ana", "a-long-password!", fmt.Sprint("10.1.", i/250, ".", i%250))
			if err != nil && !errors.Is(err, auth.ErrBadCredentials) {
				t.Errorf("sign-in %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	grew := int64(peak.Load()) - int64(base.HeapInuse)
	// The hashes in flight, twice over: the collector lets garbage reach
	// about as much again before it runs.
	limit := int64(2*(auth.MaxConcurrentHashes+4)) * mem << 10
	t.Logf("heap in use grew by %d MiB at most (limit %d MiB; unbounded would be up to %d MiB)", grew>>20, limit>>20, 200*mem>>10)
	if grew > limit {
		t.Fatalf("200 concurrent sign-ins grew the heap by %d MiB, more than %d MiB", grew>>20, limit>>20)
	}
}

// TestSignInSaysAttemptsLeftAndAdminUnlocks: a wrong password says how
// many attempts are left, an unknown username answers alike, a locked
// account says so, an administrator lifts the lock (logged), and a
// language switch is a preference the log does not record.
func TestSignInSaysAttemptsLeftAndAdminUnlocks(t *testing.T) {
	testenv.FastPasswords(t)
	ctx := context.Background()
	s, db := newService(t)
	u, err := s.Create(ctx, auth.NewUser{Username: "ana", DisplayName: "Ana", Role: auth.Analyst, Agency: "UIF", Password: "a-long-password!"})
	if err != nil {
		t.Fatal(err)
	}
	left := func(user string) int {
		t.Helper()
		_, err := s.Authenticate(ctx, user, "wrong", "10.0.0.9")
		var se *auth.SignInError
		if !errors.As(err, &se) || !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("sign-in answered %v", err)
		}
		return se.Remaining
	}
	for want := 4; want >= 0; want-- {
		if got, ghost := left("ana"), left("nobody"); got != want || ghost != want {
			t.Fatalf("attempts left %d for the account and %d for an unknown name, want %d", got, ghost, want)
		}
	}
	if got, err := s.Get(ctx, u.ID); err != nil || got.LockedUntil.IsZero() {
		t.Fatalf("the account is not shown locked: %+v %v", got, err)
	}
	if _, err := s.Authenticate(ctx, "ana", "a-long-password!", "10.0.0.10"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("a locked account signed in: %v", err)
	}
	count := func(kind string) int {
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM log_entries WHERE kind = ?`, kind).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count(trustlog.KindUserChanged)
	if got, err := s.Unlock(ctx, u.ID); err != nil || !got.LockedUntil.IsZero() {
		t.Fatalf("unlock: %+v %v", got, err)
	}
	if count(trustlog.KindUserChanged) != before+1 {
		t.Fatal("lifting the lock was not logged")
	}
	if _, err := s.Authenticate(ctx, "ana", "a-long-password!", "10.0.0.11"); err != nil {
		t.Fatalf("after the unlock: %v", err)
	}
	lang := "en"
	if _, err := s.Update(ctx, u.ID, auth.Update{Lang: &lang}); err != nil {
		t.Fatal(err)
	}
	if count(trustlog.KindUserChanged) != before+1 {
		t.Fatal("a language switch was logged")
	}
}

// TestTokenMemory: a replica answers a token from memory for at most
// TokenCacheTTL. A change to the token or its user takes effect at once
// on the replica that makes it, and within TokenCacheTTL on another
// replica of the node (a second service on the same store).
func TestTokenMemory(t *testing.T) {
	ctx := context.Background()
	here, db := newService(t)
	there := serviceOn(t, db)
	u, err := here.Create(ctx, auth.NewUser{Username: "script", DisplayName: "Script", Role: auth.Analyst, Agency: "UIF", Password: "token-memory-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	works := func(s *auth.Service, secret string) *auth.User {
		t.Helper()
		got, err := s.TokenUser(ctx, secret)
		if err != nil {
			return nil
		}
		return got
	}

	cases := []struct {
		name   string
		change func(tok *auth.Token) error
		// gone: the token no longer works; else the user is seen with
		// role.
		gone bool
		role auth.Role
	}{
		{"revoked", func(tok *auth.Token) error { return here.RevokeToken(ctx, u.ID, tok.ID) }, true, ""},
		{"user disabled", func(*auth.Token) error {
			yes := true
			_, err := here.Update(ctx, u.ID, auth.Update{Disabled: &yes})
			return err
		}, true, ""},
		{"new role (tokens revoked)", func(*auth.Token) error {
			r := auth.Supervisor
			_, err := here.Update(ctx, u.ID, auth.Update{Role: &r})
			return err
		}, true, ""},
		{"new display name (tokens kept)", func(*auth.Token) error {
			n := "Script 2"
			_, err := here.Update(ctx, u.ID, auth.Update{DisplayName: &n})
			return err
		}, false, auth.Analyst},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			no := false
			r := auth.Analyst
			if _, err := here.Update(ctx, u.ID, auth.Update{Disabled: &no, Role: &r}); err != nil {
				t.Fatal(err)
			}
			tok, secret, err := here.NewToken(ctx, u.ID, "script")
			if err != nil {
				t.Fatal(err)
			}
			if works(here, secret) == nil || works(there, secret) == nil {
				t.Fatal("a new token does not work")
			}
			if err := c.change(tok); err != nil {
				t.Fatal(err)
			}
			if got := works(here, secret); (got == nil) != c.gone || (got != nil && got.Role != c.role) {
				t.Fatalf("on the replica that made the change the token gives %+v", got)
			}
			time.Sleep(auth.TokenCacheTTL + 50*time.Millisecond)
			if got := works(there, secret); (got == nil) != c.gone || (got != nil && got.Role != c.role) {
				t.Fatalf("on another replica, after TokenCacheTTL, the token gives %+v", got)
			}
		})
	}
}
