package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"puente/internal/auth"
	"puente/internal/node"
	"puente/internal/testenv"
)

// TestBehindATrustedProxy: with the proxy trusted, people behind it are
// told apart by their forwarded address (one address's failed sign-ins do
// not lock out the other), cookies are Secure with the __Host- prefix,
// HSTS is sent for HTTPS, and /metrics is not open to everyone the local
// proxy forwards. Without the setting the headers are not believed.
func TestBehindATrustedProxy(t *testing.T) {
	p := testenv.StartPair(t, func(party string, c *node.Config) {
		if party == "MX" {
			c.TrustedProxies, c.PlainHTTPCookies = []string{"127.0.0.1/32", "::1"}, false
		}
	})
	ctx := context.Background()
	if _, err := p.Nodes["MX"].Auth.Create(ctx, auth.NewUser{Username: "ana", DisplayName: "Ana", Role: auth.Analyst, Agency: "UIF", Password: "proxy-password-1"}); err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login := func(base, forwarded, user, pw string) *http.Response {
		req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"username": {user}, "password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", forwarded)
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	mx := p.URL("MX")
	for range 30 {
		login(mx, "198.51.100.7, 203.0.113.5", "nadie", "wrong-password")
	}
	if st := login(mx, "203.0.113.5", "nadie", "wrong-password").StatusCode; st != http.StatusTooManyRequests {
		t.Errorf("the 31st failure from one forwarded address: %d, want 429", st)
	}
	resp := login(mx, "203.0.113.6", "ana", "proxy-password-1")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("another person behind the same proxy was locked out too: %d", resp.StatusCode)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "_session") {
			session = c
		}
	}
	if session == nil || !session.Secure || !strings.HasPrefix(session.Name, "__Host-") || !session.HttpOnly {
		t.Errorf("the session cookie is %+v, want Secure, HttpOnly and __Host-", session)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS for a request that came over HTTPS")
	}

	req, _ := http.NewRequest("GET", mx+"/metrics", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("/metrics for a forwarded outsider: %d, want 403", r.StatusCode)
	}

	// The US node trusts no proxy: the headers are ignored, so 31 failures
	// "from" different forwarded addresses are one address's.
	us := p.URL("US")
	for i := range 30 {
		login(us, "203.0.113."+string(rune('a'+i)), "nobody", "wrong-password")
	}
	if st := login(us, "203.0.113.200", "nobody", "wrong-password").StatusCode; st != http.StatusTooManyRequests {
		t.Errorf("forged X-Forwarded-For from an untrusted peer was believed: %d", st)
	}
}
