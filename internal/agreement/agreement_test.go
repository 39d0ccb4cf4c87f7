package agreement_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"puente/internal/agreement"
	"puente/internal/identity"
)

func party(t *testing.T, code string) (agreement.Party, ed25519.PrivateKey) {
	pk, sk, _ := ed25519.GenerateKey(rand.Reader)
	return agreement.Party{Code: code, Name: code + " name", Endpoint: "https://" + strings.ToLower(code) + ".example:9443",
		SigningKey: identity.EncodePublicKey(pk), TLSFingerprint: "sha256:" + strings.Repeat("ab", 32)}, sk
}

func signed(t *testing.T) (*agreement.File, ed25519.PrivateKey, ed25519.PrivateKey) {
	mx, mxk := party(t, "MX")
	us, usk := party(t, "US")
	raw, err := agreement.Draft(mx, us).Encode()
	if err != nil {
		t.Fatal(err)
	}
	f, err := agreement.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Sign(mxk); err != nil {
		t.Fatal(err)
	}
	if err := f.Sign(usk); err != nil {
		t.Fatal(err)
	}
	return f, mxk, usk
}

func TestSignAndVerify(t *testing.T) {
	f, _, _ := signed(t)
	if err := f.Verify(); err != nil {
		t.Fatalf("both signed: %v", err)
	}
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	if err := f.Sign(stranger); err == nil {
		t.Fatal("a key that is no party's signed the agreement")
	}
}

// The hash covers the content, not its layout: re-indenting keeps it,
// changing a value breaks every signature.
func TestHashIsCanonical(t *testing.T) {
	f, _, _ := signed(t)
	file, _ := f.Marshal()
	var compact bytes.Buffer
	if err := json.Compact(&compact, file); err != nil {
		t.Fatal(err)
	}
	g, err := agreement.Parse(compact.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if g.HashHex() != f.HashHex() || g.Verify() != nil {
		t.Fatal("re-formatting the file changed its hash or broke its signatures")
	}
	cases := []struct{ name, from, to string }{
		{"commitment", `"formal_request_days": 60`, `"formal_request_days": 90`},
		{"endpoint", `https://us.example:9443`, `https://evil.example:9443`},
		{"caveat", `"third_party_rule": true`, `"third_party_rule": false`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			edited := strings.Replace(string(file), c.from, c.to, 1)
			if edited == string(file) {
				t.Fatalf("%q not in the file", c.from)
			}
			h, err := agreement.Parse([]byte(edited))
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Verify(); !errors.Is(err, agreement.ErrBadSignature) {
				t.Fatalf("edited agreement verified: %v", err)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	cases := map[string]string{
		"not json":      `nope`,
		"unknown field": `{"agreement": {"version": 1}, "signatures": [], "extra": 1}`,
		"one party":     `{"agreement": {"version": 1, "parties": [], "limits": {"max_body_bytes": 1}}, "signatures": []}`,
	}
	for name, in := range cases {
		if _, err := agreement.Parse([]byte(in)); !errors.Is(err, agreement.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
