package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"puente/internal/testenv"
)

// TestLoginRedirectsStayOnSite: after signing in, every crafted "next"
// lands on this node's own pages.
func TestLoginRedirectsStayOnSite(t *testing.T) {
	p := testenv.StartPair(t)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, next := range []string{"/%09/evil.example", "/\\evil.example", "//evil.example", "https://evil.example", "/%2F%2Fevil.example", "/inbox"} {
		resp, err := c.PostForm(p.URL("MX")+"/login", url.Values{"username": {"analista"}, "password": {"bench-password-123"}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		u, err := url.Parse(loc)
		if resp.StatusCode != http.StatusSeeOther || err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.ContainsAny(loc, "\\\t") {
			t.Errorf("next=%q: %d to %q", next, resp.StatusCode, loc)
		}
		if next == "/inbox" && loc != "/inbox" {
			t.Errorf("a plain local next was not kept: %q", loc)
		}
	}
}
