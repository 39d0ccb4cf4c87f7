package names

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-unidecode"
)

// How a token was written, in Name.Scripts.
const (
	ScriptLatin uint8 = iota // as given
	ScriptOther              // transliterated from an alphabet or syllabary (Cyrillic, Greek, Armenian, kana, Khmer…)
	ScriptAbjad              // transliterated from a script that leaves short vowels out (Arabic, Hebrew)
)

// HowTranslit marks a token matched after one side was transliterated.
const HowTranslit = "transliterated"

// latin reports whether word needs no transliteration: every letter in it
// is Latin.
func latin(word string) bool {
	for _, r := range word {
		if r < 0x250 || !unicode.IsLetter(r) {
			continue
		}
		if !unicode.Is(unicode.Latin, r) {
			return false
		}
	}
	return true
}

// transliterate writes one word of another script in Latin letters
// (go-unidecode's tables) and says which kind of script it was. Arabic's
// article (ال) is dropped as "al" is; the syllables of a Chinese word are
// written together, as lists write given names ("小龍" → "xiaolong").
func transliterate(word string) (string, uint8) {
	script := ScriptOther
	han := 0
	rs := []rune(word)
	for _, r := range rs {
		switch {
		case unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana):
			script = ScriptAbjad
		case unicode.Is(unicode.Han, r):
			han++
		}
	}
	if script == ScriptAbjad && len(rs) > 3 && rs[0] == 'ا' && rs[1] == 'ل' {
		rs = rs[2:]
	}
	if han == len(rs) {
		return strings.ReplaceAll(unidecode.Unidecode(string(rs)), " ", ""), script
	}
	// Apostrophes and backticks mark a soft sign, an aspiration or an ain:
	// they are part of the word, not a break in it.
	return marks.Replace(unidecode.Unidecode(string(rs))), script
}

var marks = strings.NewReplacer("`", "", "'", "")

var digraphs = strings.NewReplacer("th", "t", "dh", "d", "kh", "k", "sh", "s", "gh", "g", "ph", "f", "ou", "w")

// splitHan reads a Chinese name written as one word of two to four
// characters as a one-syllable surname and a given name ("習近平" is
// "習 近平", Xi Jinping); anything else is returned as it is.
func splitHan(raw string) string {
	rs := []rune(strings.TrimSpace(raw))
	if len(rs) < 2 || len(rs) > 4 {
		return raw
	}
	for _, r := range rs {
		if !unicode.Is(unicode.Han, r) {
			return raw
		}
	}
	return string(rs[:1]) + " " + string(rs[1:])
}

// skeleton is a token's consonants, for comparing a Latin spelling with a
// transliteration from a script that does not write short vowels:
// "saddam" and "sdm" (صدام) are both "sdm", "hussein" and "hsyn" (حسين)
// both "hsn". Common digraphs are read as the one letter they stand for.
func skeleton(tok string) string {
	s := digraphs.Replace(tok)
	var b strings.Builder
	var last byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case 'a', 'e', 'i', 'o', 'u', 'y', 'w':
			continue
		case 'q', 'c':
			c = 'k'
		}
		if c != last {
			b.WriteByte(c)
		}
		last = c
	}
	return b.String()
}

// abjadSimilarity compares a token transliterated from an abjad with one
// written in Latin letters, by their consonants (skeleton).
func abjadSimilarity(sa, sb string) (float64, string) {
	switch {
	case sa == "" || sb == "":
		return 0, ""
	case sa == sb && len(sa) == 1:
		// "uday" and "dy" (عدي): short names keep one consonant.
		return 0.75, HowTranslit
	case len(sa) < 2 || len(sb) < 2:
		return 0, ""
	case sa == sb && len(sa) >= 3:
		return 0.9, HowTranslit
	case sa == sb:
		return 0.85, HowTranslit
	case len(sa) >= 4 && JaroWinkler(sa, sb) >= 0.9:
		return 0.85, HowTranslit
	}
	return 0, ""
}
