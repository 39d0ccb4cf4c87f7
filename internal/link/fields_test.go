package link

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The field rules of protocol.md §3 as regular expressions: the code
// writes them out by hand, and these tests hold it to them.
var fieldRules = []struct {
	name string
	re   *regexp.Regexp
	fn   func(string) bool
}{
	{"id", regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`), ValidID},
	{"kind", regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`), validKind},
	{"stream", regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,200}$`), validStream},
	{"party", regexp.MustCompile(`^[A-Z]{2}$`), validParty},
	{"hash", regexp.MustCompile(`^[0-9a-f]{64}$`), validHash},
}

func TestFieldRulesMatchTheSpec(t *testing.T) {
	edge := []string{"", ".", "a.", ".a", "a..b", "a.b", "a.b.c", "A.b", "a.B", "a_1.b_2", "1a.b", "a.1b", "liaison.message",
		"MX", "mx", "M", "MXX", "M1", "\x00\x00", "ÉX",
		strings.Repeat("a", 15), strings.Repeat("a", 16), strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("-", 16),
		strings.Repeat("f", 64), strings.Repeat("F", 64), strings.Repeat("0", 63), strings.Repeat("0", 64) + "\n",
		strings.Repeat("s", 200), strings.Repeat("s", 201), "liaison:T", "finintel:d:ABC", "a b", "a\n", "\na",
		strings.Repeat("a", 20) + "é", "ñandú.kind"}
	for _, r := range fieldRules {
		for _, s := range edge {
			if got, want := r.fn(s), r.re.MatchString(s); got != want {
				t.Errorf("%s rule on %q = %v, the spec says %v", r.name, s, got, want)
			}
		}
	}
	// Random strings over an alphabet that straddles every class, at
	// lengths around every bound.
	const alphabet = "aAzZ09_-.:fgF \n\x00é"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		n := []int{rng.IntN(4), 14 + rng.IntN(4), 62 + rng.IntN(5), 198 + rng.IntN(5)}[rng.IntN(4)]
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		s := b.String()
		for _, r := range fieldRules {
			if got, want := r.fn(s), r.re.MatchString(s); got != want {
				t.Fatalf("%s rule on %q = %v, the spec says %v", r.name, s, got, want)
			}
		}
	}
}

// FuzzFieldRules compares the hand-written rules with the spec's
// expressions on arbitrary strings; its seeds run with the other tests.
func FuzzFieldRules(f *testing.F) {
	for _, s := range []string{"", "a.b", "MX", strings.Repeat("a", 16), strings.Repeat("0", 64), "liaison:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range fieldRules {
			if got, want := r.fn(s), r.re.MatchString(s); got != want {
				t.Fatalf("%s rule on %q = %v, the spec says %v", r.name, s, got, want)
			}
		}
	})
}
