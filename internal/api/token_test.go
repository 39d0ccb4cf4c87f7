package api_test

import (
	"context"
	"net/http"
	"testing"

	"puente/internal/auth"
	"puente/internal/store"
	"puente/internal/testenv"
)

// TestTokensExpireAndAreRevoked: a token past its expiry is refused; a
// password reset and a role change revoke every token of the user; a
// lifetime outside 1 to 365 days is refused.
func TestTokensExpireAndAreRevoked(t *testing.T) {
	p := testenv.StartPair(t)
	mx := p.Nodes["MX"]
	ctx := context.Background()
	admin := userClient(t, p, "MX", "adm", auth.Admin, "SRE")
	ana := userClient(t, p, "MX", "ana", auth.Analyst, "UIF")
	if st, _ := ana.do("GET", "/api/v1/me", nil, nil); st != http.StatusOK {
		t.Fatalf("a fresh token: %d", st)
	}
	var created struct {
		Token struct {
			ExpiresAt string `json:"expires_at"`
		} `json:"token"`
		Secret string `json:"secret"`
	}
	if st, e := ana.do("POST", "/api/v1/tokens", map[string]any{"name": "short", "expires_in_days": 7}, &created); st != http.StatusCreated || created.Token.ExpiresAt == "" {
		t.Fatalf("a 7-day token: %d %v %+v", st, e, created)
	}
	for _, days := range []int{-1, 366} {
		if st, e := ana.do("POST", "/api/v1/tokens", map[string]any{"name": "bad", "expires_in_days": days}, nil); st != http.StatusUnprocessableEntity || e["field"] != "expires_in_days" {
			t.Errorf("a %d-day token: %d %v", days, st, e)
		}
	}

	// Expiry: move the 7-day token's end into the past.
	short := &client{t: t, base: p.URL("MX"), token: created.Secret}
	if err := mx.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE api_tokens SET expires_at = ? WHERE name = 'short'`, store.Now()-1)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if st, _ := short.do("GET", "/api/v1/me", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("an expired token: %d", st)
	}

	// A password reset revokes the user's tokens.
	var me struct {
		ID int64 `json:"id"`
	}
	ana.do("GET", "/api/v1/me", nil, &me)
	if st, e := admin.do("PATCH", "/api/v1/users/"+jsonNum(me.ID), map[string]any{"password": "another-long-password"}, nil); st != http.StatusOK {
		t.Fatalf("resetting the password: %d %v", st, e)
	}
	if st, _ := ana.do("GET", "/api/v1/me", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("a token after a password reset: %d", st)
	}

	// So does a role change.
	sup := userClient(t, p, "MX", "sup", auth.Supervisor, "UIF")
	sup.do("GET", "/api/v1/me", nil, &me)
	if st, e := admin.do("PATCH", "/api/v1/users/"+jsonNum(me.ID), map[string]any{"role": "analyst"}, nil); st != http.StatusOK {
		t.Fatalf("changing the role: %d %v", st, e)
	}
	if st, _ := sup.do("GET", "/api/v1/me", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("a token after a role change: %d", st)
	}
}
