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
func transliterate(word string) (latin string, script uint8, skel string) {
	script = ScriptOther
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
	if script == ScriptAbjad {
		skel = abjadSkeleton(rs)
	}
	if hangul(rs) {
		return korean(rs), script, ""
	}
	if han == len(rs) {
		return strings.ReplaceAll(unidecode.Unidecode(string(rs)), " ", ""), script, ""
	}
	if len(rs) > 0 && unicode.Is(unicode.Cyrillic, rs[0]) {
		// The US and UK lists write Russian by BGN/PCGN: Юрий is Yuriy,
		// Евгений Yevgeniy; go-unidecode writes Iurii and Evgenii.
		w := cyrillic.Replace(string(rs))
		if rs[0] == 'Е' || rs[0] == 'е' {
			w = "y" + w
		}
		return marks.Replace(unidecode.Unidecode(w)), script, ""
	}
	// Apostrophes and backticks mark a soft sign, an aspiration or an ain:
	// they are part of the word, not a break in it.
	return marks.Replace(unidecode.Unidecode(georgian.Replace(string(rs)))), script, skel
}

// cyrillic and georgian are the few letters whose go-unidecode reading
// differs from the romanization the lists use (BGN/PCGN; Georgia's
// national system).
var (
	cyrillic = strings.NewReplacer("Ю", "Yu", "ю", "yu", "Я", "Ya", "я", "ya", "Й", "Y", "й", "y", "Ё", "Yo", "ё", "yo")
	georgian = strings.NewReplacer("ხ", "kh", "ძ", "dz", "ღ", "gh", "ყ", "q")
)

var marks = strings.NewReplacer("`", "", "'", "")

var digraphs = strings.NewReplacer("th", "t", "dh", "d", "kh", "k", "sh", "s", "gh", "g", "ph", "f", "ou", "w", "zh", "j", "x", "ks", "dj", "j", "ch", "c")

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
	switch tok {
	case "abdul", "abdel", "abdal", "abdol", "abdil", "abdoul":
		// "Abd" with the article of the name that follows, written on.
		return "bd"
	}
	s := digraphs.Replace(tok)
	var b strings.Builder
	var last byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case 'a', 'e', 'i', 'o', 'u', 'y', 'w':
			continue
		case 'q', 'c', 'g':
			c = 'k' // ق is q, k, g or gh in Latin spellings (Qaddafi, Gaddafi)
		case 'f':
			c = 'p' // Hebrew writes p and f with one letter
		}
		if c != last {
			b.WriteByte(c)
		}
		last = c
	}
	return finalH(b.String())
}

// finalH drops a final h from consonants three or more long: Persian and
// Arabic end words with a heh or ta marbuta that Latin spellings write or
// not ("Zadeh"/"Zada", "Hamzah"/"Hamza").
func finalH(s string) string {
	if len(s) >= 3 && s[len(s)-1] == 'h' && s[len(s)-2] != 'l' { // Allah keeps its h
		return s[:len(s)-1]
	}
	return s
}

// abjadSkeleton is the consonants of a word in an abjad, letter by letter:
// each letter's transliteration stands for one consonant ("ث" th is t,
// "ش" sh is s), so two letters that happen to spell a digraph ("طه", t
// and h) stay two.
func abjadSkeleton(rs []rune) string {
	var b strings.Builder
	var last byte
	for i, r := range rs {
		if r == 'ו' && i > 0 {
			continue // Hebrew vav inside a word is mostly a vowel (o, u): שמעון is Shimon
		}
		u := Fold(unidecode.Unidecode(string(r)))
		if u == "" {
			continue
		}
		var c byte
		switch u {
		case "th":
			c = 't'
		case "dh":
			c = 'd'
		case "kh":
			c = 'k'
		case "sh":
			c = 's'
		case "gh":
			c = 'k'
		case "ch":
			c = 'c'
		default:
			for i := 0; i < len(u) && c == 0; i++ {
				switch u[i] {
				case 'a', 'e', 'i', 'o', 'u', 'y', 'w':
				case 'q', 'c', 'g':
					c = 'k'
				case 'f':
					c = 'p'
				default:
					c = u[i]
				}
			}
		}
		if c != 0 && c != last {
			b.WriteByte(c)
			last = c
		}
	}
	return finalH(b.String())
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

// hangul reports whether every rune is a Hangul syllable.
func hangul(rs []rune) bool {
	for _, r := range rs {
		if r < 0xAC00 || r > 0xD7A3 {
			return false
		}
	}
	return len(rs) > 0
}

// koreanSurnames are the common Korean surnames as the lists and the
// press write them, against go-unidecode's Revised Romanization.
var koreanSurnames = map[string]string{
	"gim": "kim", "i": "lee", "bag": "park", "coe": "choe", "jeong": "jung", "yun": "yoon", "mun": "moon",
	"gang": "kang", "jo": "cho", "jang": "jang", "sin": "shin", "o": "oh", "im": "lim", "an": "ahn",
	"jeon": "jeon", "go": "ko", "seong": "sung", "gwag": "kwak", "gu": "koo", "yu": "yoo", "no": "roh",
}

// korean writes a Korean name of Hangul syllables as lists write it: one
// syllable of surname (for a name of two to four syllables), then the
// given name's syllables apart, with eo and eu as o and u and a final g
// as k (McCune-Reischauer's habits, which most lists follow):
// "김정은" → "kim jong un".
func korean(rs []rune) string {
	syl := make([]string, len(rs))
	for i, r := range rs {
		s := unidecode.Unidecode(string(r))
		if i == 0 && len(rs) >= 2 && len(rs) <= 4 {
			if k, ok := koreanSurnames[s]; ok {
				syl[i] = k
				continue
			}
		}
		s = strings.NewReplacer("eo", "o", "eu", "u").Replace(s)
		if strings.HasSuffix(s, "g") && !strings.HasSuffix(s, "ng") {
			s = s[:len(s)-1] + "k"
		}
		syl[i] = s
	}
	return strings.Join(syl, " ")
}
