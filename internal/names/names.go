// Package names compares personal and company names the way analysts on
// both sides of the border write them: with or without accents, one
// surname or two, surname first ("ZAMBADA GARCIA, Ismael") or given name
// first, with particles (de, del, de la, y), nicknames ("El Mayo") and
// typos. It explains every score.
package names

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// particles carry no identity: "María de la Luz" is "María Luz" for
// matching. "el" and "la" also drop from nicknames ("El Mayo").
var particles = map[string]bool{
	"de": true, "del": true, "la": true, "las": true, "los": true, "y": true, "e": true, "el": true,
	"da": true, "do": true, "dos": true, "das": true, "di": true, "van": true, "von": true, "der": true, "den": true,
	"al": true, "bin": true, "ibn": true, "the": true, "of": true, "and": true,
}

// titles are dropped too.
var titles = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "sr": true, "sra": true, "srta": true, "don": true, "dona": true,
	"lic": true, "ing": true, "gen": true, "general": true, "col": true, "coronel": true,
}

// Name is a parsed name.
type Name struct {
	Raw    string
	Tokens []string // normalised tokens, particles and titles removed, in writing order
	Sounds []string // Phonetic of each token
	// SurnameFirst is set when the name was written "SURNAMES, Given".
	SurnameFirst bool
	// Surnames counts the leading tokens that are surnames when
	// SurnameFirst is set.
	Surnames int
	// Scripts says of each token whether it was written in Latin letters
	// or transliterated (ScriptLatin, ScriptOther, ScriptAbjad); nil when
	// every token was written in Latin letters.
	Scripts []uint8
	// Skeletons are the tokens' consonants (skeleton) of a name with
	// transliterated tokens; a Latin name's are made when one is compared
	// with an abjad's.
	Skeletons []string
}

// folders hands out accent-stripping transformers: a transform.Chain keeps
// state between calls, so one must never serve two goroutines at once.
var folders = sync.Pool{New: func() any { return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC) }}

// Fold lowercases s, strips accents and turns everything but letters and
// digits into single spaces: "Zambada García" → "zambada garcia".
func Fold(s string) string {
	f := folders.Get().(transform.Transformer)
	t, _, err := transform.String(f, s)
	folders.Put(f)
	if err != nil {
		t = s
	}
	var b strings.Builder
	space := true
	for _, r := range t {
		switch {
		case r == 'ß':
			b.WriteString("ss")
			space = false
		case r == 'ø' || r == 'Ø':
			b.WriteRune('o')
			space = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		case r == '\'' || r == '’':
			// O'Brien → obrien
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// Parse reads a name. A comma marks "SURNAMES, Given names", as OFAC and
// many registers write them.
func Parse(raw string) Name {
	n := Name{Raw: raw}
	before, after, comma := strings.Cut(splitHan(raw), ",")
	add := func(s string) int {
		c := 0
		if latin(s) {
			// The common case, folded in one pass.
			for _, tok := range strings.Fields(Fold(s)) {
				if particles[tok] || titles[tok] {
					continue
				}
				n.Tokens = append(n.Tokens, tok)
				if n.Scripts != nil {
					n.Scripts = append(n.Scripts, ScriptLatin)
				}
				c++
			}
			return c
		}
		for _, word := range strings.Fields(s) {
			script := ScriptLatin
			if !latin(word) {
				word, script = transliterate(word)
			}
			for _, tok := range strings.Fields(Fold(word)) {
				if particles[tok] || titles[tok] {
					continue
				}
				if n.Scripts == nil && script != ScriptLatin {
					n.Scripts = make([]uint8, len(n.Tokens), len(n.Tokens)+4)
				}
				n.Tokens = append(n.Tokens, tok)
				if n.Scripts != nil {
					n.Scripts = append(n.Scripts, script)
				}
				c++
			}
		}
		return c
	}
	if comma && strings.TrimSpace(after) != "" {
		n.SurnameFirst = true
		n.Surnames = add(before)
		add(after)
	} else {
		add(before)
	}
	n.Sounds = make([]string, len(n.Tokens))
	for i, t := range n.Tokens {
		n.Sounds[i] = Phonetic(t)
	}
	if n.Scripts != nil {
		n.Skeletons = make([]string, len(n.Tokens))
		for i, t := range n.Tokens {
			n.Skeletons[i] = skeleton(t)
		}
	}
	return n
}

// Given returns the given-name tokens and the surname tokens, as far as
// the writing tells: after the comma for "SURNAMES, Given"; otherwise the
// first token is taken as given and the rest as surnames.
func (n Name) Given() (given, surnames []string) {
	if n.SurnameFirst {
		return n.Tokens[n.Surnames:], n.Tokens[:n.Surnames]
	}
	if len(n.Tokens) <= 1 {
		return nil, n.Tokens
	}
	return n.Tokens[:1], n.Tokens[1:]
}
