package training

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"puente/internal/identity"
)

func testKeys(t testing.TB) (mx, us *identity.Identity, k Keys) {
	t.Helper()
	key := func() *identity.Identity {
		_, sk, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return &identity.Identity{Signing: sk}
	}
	mx, us = key(), key()
	k = Keys{Agreement: strings.Repeat("ab", 32), Parties: map[string]ed25519.PublicKey{
		"MX": mx.Signing.Public().(ed25519.PublicKey), "US": us.Signing.Public().(ed25519.PublicKey)}}
	return mx, us, k
}

func testCertificate(k Keys) *Certificate {
	c := &Certificate{ID: "01JCERTIFICATE0000000000AA", Agreement: k.Agreement, Issuer: "US", IssuedAt: time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC),
		Course:      CertCourse{ID: "01JOFFER000000000000000000", Title: "Rastreo de armas de fuego", Type: TypeCourse, Subject: SubjectTracing, Agency: "ATF", Place: "El Paso, TX", Start: "2026-03-16", End: "2026-03-20", Hours: 40},
		Participant: CertPerson{Nomination: "01JNOM00000000000000000000", Name: "Mariana López Ríos", Rank: "Agente", Unit: "AIC Sonora", Agency: "FGR"},
		Result:      ResultPassed, Hours: 38, Instructors: []Instructor{{Name: "J. Lee", Agency: "ATF"}}}
	c.Participant.IDDigest = IDDigest(c.ID, "curp", "ZANM821122MSLMBD07")
	return c
}

// TestVerifyCertificate: a certificate verifies offline with the
// agreement's keys and fails, saying why, for a changed byte, a wrong
// key, another agreement and a revocation.
func TestVerifyCertificate(t *testing.T) {
	mx, us, k := testKeys(t)
	good, err := Sign(us, testCertificate(k))
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _ := Sign(mx, testCertificate(k))
	other := testCertificate(k)
	other.Agreement = strings.Repeat("cd", 32)
	otherAg, _ := Sign(us, other)
	changed := bytes.Replace(good, []byte(`"hours":38`), []byte(`"hours":39`), 1)
	if bytes.Equal(changed, good) {
		t.Fatal("the test did not change a byte")
	}
	_, stranger, _ := testKeys(t)
	strangerKey, _ := Sign(stranger, testCertificate(k))
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"good", good, ""},
		{"changed byte", changed, "changed after it was signed"},
		{"wrong party's key", wrongKey, "signed with the key of MX"},
		{"unknown key", strangerKey, "does not verify"},
		{"other agreement", otherAg, "another agreement"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := VerifyCertificate(tc.raw, k)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(v.Problems, "; ")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("problems %q, want %q", got, tc.want)
			}
		})
	}
	if !testCertificate(k).CheckID("curp", "zanm821122mslmbd07") || testCertificate(k).CheckID("curp", "ZANM800402MSLMBN02") {
		t.Fatal("the identifier digest does not check the holder")
	}
	if _, err := VerifyCertificate([]byte(`{"format":"other"}`), k); err == nil {
		t.Fatal("a file that is not a certificate verified")
	}
}

// TestRevocationList: a signed list revokes the certificate; a list
// signed by another key, or changed, is refused.
func TestRevocationList(t *testing.T) {
	mx, us, k := testKeys(t)
	c := testCertificate(k)
	good, _ := Sign(us, c)
	list := func(id *identity.Identity, issuer string) []byte {
		body, _ := json.Marshal(RevocationList{Issuer: issuer, Agreement: k.Agreement, IssuedAt: time.Now().UTC(), Revoked: []Revocation{{ID: c.ID, At: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Reason: "issued in error"}}})
		raw, _ := json.Marshal(RevocationFile{Format: RevocationFormat, List: body, Signature: base64.StdEncoding.EncodeToString(id.SignRecord(revocationKind, body))})
		return raw
	}
	l, err := VerifyRevocations(list(us, "US"), k)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := VerifyCertificate(good, k, l)
	if v.Revoked == nil || !strings.Contains(strings.Join(v.Problems, ";"), "revoked it on 2026-04-01: issued in error") {
		t.Fatalf("a revoked certificate verified: %v", v.Problems)
	}
	if _, err := VerifyRevocations(list(mx, "US"), k); err == nil {
		t.Fatal("a list signed by MX for US verified")
	}
	forged := bytes.Replace(list(us, "US"), []byte("issued in error"), []byte("issued in terror"), 1)
	if _, err := VerifyRevocations(forged, k); err == nil {
		t.Fatal("a changed list verified")
	}
}

// BenchmarkVerifyCertificate is certificate_verify_per_s on one core.
func BenchmarkVerifyCertificate(b *testing.B) {
	_, us, k := testKeys(b)
	raw, _ := Sign(us, testCertificate(k))
	b.ReportAllocs()
	for b.Loop() {
		v, err := VerifyCertificate(raw, k)
		if err != nil || len(v.Problems) > 0 {
			b.Fatal(err, v.Problems)
		}
	}
}
