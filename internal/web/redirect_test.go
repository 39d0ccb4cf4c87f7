package web

import "testing"

func TestSafeNextStaysOnSite(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/inbox", "/inbox"},
		{"/finintel/d/ABC?flash=fi.flash.saved", "/finintel/d/ABC?flash=fi.flash.saved"},
		{"", "/"},
		{"/\t/evil.example", "/"},  // /%09/evil.example once decoded
		{"/%09/evil.example", "/"}, // and as sent
		{"/\\evil.example", "/"},   // /\evil.example
		{"//evil.example", "/"},    // scheme-relative
		{"https://evil.example", "/"},
		{"/%2F%2Fevil.example", "/"}, // decodes to ///evil.example
		{"/%5Cevil.example", "/"},    // decodes to /\evil.example
		{"/\r\nLocation: x", "/"},
		{"javascript:alert(1)", "/"},
	} {
		if got := safeNext(c.in); got != c.want {
			t.Errorf("safeNext(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
