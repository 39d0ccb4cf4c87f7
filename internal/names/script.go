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
		if w := string(rs); w == "سيد" || w == "سید" {
			// Sayyid, the title Latin spellings drop (titles); without
			// its ع, سعید (Saeed) would read the same.
			return "sayyid", script, ""
		}
		skel = abjadSkeleton(rs)
	}
	if thanthakhat := '\u0E4C'; strings.ContainsRune(word, thanthakhat) {
		// A Thai letter under the thanthakhat is silent: ประยุทธ์ is
		// "Prayut", จันทร์ "Chan".
		out := rs[:0:0]
		for i, r := range rs {
			if r == thanthakhat || i+1 < len(rs) && rs[i+1] == thanthakhat {
				continue
			}
			out = append(out, r)
		}
		rs = out
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

var digraphs = strings.NewReplacer("th", "t", "dh", "d", "kh", "k", "sh", "s", "gh", "g", "ph", "f", "ou", "w", "zh", "j", "x", "ks", "dj", "j", "ch", "C")

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
		case 'C':
			c = 'c' // ch: چ, or ش in French spellings ("Alouche")
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
// and h) stay two. A letter that Latin spellings write in several ways is
// an upper-case class (abjadLetters, abjadClass) that abjadMatch pairs with any of
// them: ظ is z in "Mazloom" and th in "Kathim".
func abjadSkeleton(rs []rune) string {
	var b strings.Builder
	var last byte
	for i, r := range rs {
		if r == 'ו' && i > 0 {
			continue // Hebrew vav inside a word is mostly a vowel (o, u): שמעון is Shimon
		}
		c, ok := abjadLetters[r]
		if r == 'ل' && i >= 2 && rs[i-1] == 'ا' && i+1 < len(rs) && sunLetters[rs[i+1]] {
			// The article inside a word, before a letter it takes the
			// sound of, which Latin spellings write instead: نورالدین is
			// "Nooruddin", شمس الدين "Shamsuddin".
			c, ok = 'L', true
		}
		if !ok {
			u := Fold(unidecode.Unidecode(string(r)))
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
		}
		if c != 0 && c != last {
			b.WriteByte(c)
			last = c
		}
	}
	if last == 'h' && b.Len() >= 2 {
		// A final ح is written or not, as a final ه ("Fateh", "Fath").
		out := []byte(b.String())
		out[len(out)-1] = 'H'
		return string(out)
	}
	return b.String()
}

// sunLetters are the letters that the article before them takes the
// sound of (al-d → ad-d).
var sunLetters = map[rune]bool{
	'ت': true, 'ث': true, 'د': true, 'ذ': true, 'ر': true, 'ز': true, 'س': true,
	'ش': true, 'ص': true, 'ض': true, 'ط': true, 'ظ': true, 'ن': true,
}

// abjadLetters are the Arabic-script letters whose Latin spellings vary
// from one list or language to the next (Arabic, Persian, Urdu, Pashto;
// ALA-LC, BGN/PCGN, French and English habits), as classes.
var abjadLetters = map[rune]byte{
	'ث': 'T', // th in Arabic, s in Persian and Urdu (Ghias, Kathir)
	'ذ': 'Z', // dh, d, z (Dhakir, Zakir)
	'ض': 'Z', // d, dh, z in Persian (Fazl, Fadl)
	'ظ': 'Z', // z, dh, th, d (Mazloom, Kathim, Nadhim)
	'ش': 'S', // sh, ch in French spellings (Alouche)
	'ج': 'J', // j, dj, g in Egyptian spellings (Gamal)
	'خ': 'K', // kh, or ch in German and Dutch spellings (Barich)
	'و': 'V', // a vowel (u, o, ou) or v in Persian and Urdu (Javad)
	'ه': 'H', // h, or nothing at the end or after a vowel (Zadeh, Zada)
	'ہ': 'H', // Urdu heh (Chaudhry)
	'ھ': 'H', // Urdu aspiration (Bhutto)
	'ة': 'H', // ta marbuta: h, t or nothing (Hamzah, Hamza)
}

// abjadClass gives the Latin consonants (skeleton letters) a class of
// abjadLetters may be written as, and whether it may be left unwritten.
func abjadClass(c byte) (letters string, optional bool) {
	switch c {
	case 'T':
		return "ts", false
	case 'Z':
		return "zdt", false
	case 'S':
		return "sc", false
	case 'J':
		return "jk", false
	case 'K':
		return "kc", false
	case 'L':
		return "l", true
	case 'V':
		return "v", true
	case 'H':
		return "ht", true
	}
	return string(rune(c)), false
}

// abjadMatch reports whether the skeleton a of a word in an abjad, with
// its classes, can be read as the Latin skeleton l. A consonant of a may
// also stand for the Latin one just matched, as a Latin skeleton writes
// twice what two words joined write once ("sd" and "dn" against
// "Saduddin", s-d-n).
func abjadMatch(a, l string) bool {
	if a == l {
		return true
	}
	return abjadFrom(a, l, 0, 0)
}

func abjadFrom(a, l string, i, j int) bool {
	if i == len(a) {
		return j == len(l)
	}
	c := a[i]
	if c < 'A' || c > 'Z' {
		if j < len(l) && l[j] == c && abjadFrom(a, l, i+1, j+1) {
			return true
		}
		// The consonant just matched again, or an h that a Latin digraph
		// took in ("Eshaq" is "sk", اسحاق s-h-k).
		return j > 0 && (l[j-1] == c || c == 'h' && strings.IndexByte("tdkspc", l[j-1]) >= 0) && abjadFrom(a, l, i+1, j)
	}
	set, optional := abjadClass(c)
	if optional && abjadFrom(a, l, i+1, j) {
		return true
	}
	if j < len(l) && strings.IndexByte(set, l[j]) >= 0 && abjadFrom(a, l, i+1, j+1) {
		return true
	}
	return j > 0 && strings.IndexByte(set, l[j-1]) >= 0 && abjadFrom(a, l, i+1, j)
}

// abjadResolve writes the classes of an abjad skeleton a as the letter of
// the class that the Latin skeleton l has (or the first), leaving out an
// optional class l lacks: a plain skeleton to measure against l.
func abjadResolve(a, l string, buf []byte) []byte {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c < 'A' || c > 'Z' {
			buf = append(buf, c)
			continue
		}
		set, optional := abjadClass(c)
		k := strings.IndexAny(l, set)
		switch {
		case k >= 0:
			buf = append(buf, l[k])
		case !optional:
			buf = append(buf, set[0])
		}
	}
	return buf
}

// abjadSimilarity compares a token transliterated from an abjad with one
// written in Latin letters, by their consonants (skeleton); sa is the
// abjad's.
func abjadSimilarity(sa, sb string) (float64, string) {
	if sa == "" || sb == "" {
		return 0, ""
	}
	if abjadMatch(sa, sb) {
		switch {
		case len(sb) == 1 && len(sa)-strings.Count(sa, "V") == 1:
			// "uday" and "dy" (عدي): short names keep one consonant.
			return 0.75, HowTranslit
		case len(sb) < 2:
			// Not "ali" for الله (l and an unwritten h).
			return 0, ""
		case len(sa) >= 3 && len(sb) >= 3:
			return 0.9, HowTranslit
		default:
			return 0.85, HowTranslit
		}
	}
	if len(sa) >= 4 {
		// A misspelling: as long, give or take a letter, and the same
		// first consonant.
		var buf [32]byte
		if r := abjadResolve(sa, sb, buf[:0]); len(r) >= 4 && r[0] == sb[0] && len(r)-len(sb) <= 1 && len(sb)-len(r) <= 1 && JaroWinkler(string(r), sb) >= 0.9 {
			return 0.85, HowTranslit
		}
	}
	return 0, ""
}

// looseSkeleton is a token's consonants with the distinctions that Latin
// spellings of names from alphabets and syllabaries blur taken out: voiced
// and voiceless (Khmer ព is p or b, Armenian Սարգսյան "Sargsyan" and
// "Sarkissian"), l and r (katakana ドナルド "donarudo", Donald), m and n
// before another consonant (トランプ "toranpu", Trump), and the vowels
// (Korean 석 "seok", "sok", "suk"). It is appended to buf.
func looseSkeleton(tok string, buf []byte) []byte {
	var last byte // a letter doubled is written once; across a vowel twice
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		var next byte
		if i+1 < len(tok) {
			next = tok[i+1]
		}
		switch {
		case next == 'h' && strings.IndexByte("tkpcsdgz", c) >= 0:
			i++ // th, kh, ph, ch, sh, dh, gh, zh: the letter itself
		case c == 'n' && next == 'g':
			i++ // ng
		case c == 'c' && next == 'k':
			continue // "ck" is k
		case c == 'c' && (next == 'e' || next == 'i' || next == 'y'):
			c = 's'
		case c == 'c':
			c = 'k'
		}
		switch c {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			last = 0 // "Potanin" is p-t-n-n, not Putin's p-t-n
			continue
		case 'h', '\'', '-':
			continue
		case 'b':
			c = 'p'
		case 'd':
			c = 't'
		case 'g', 'q':
			c = 'k'
		case 'j':
			c = 'c'
		case 'l':
			c = 'r'
		case 'm':
			c = 'n'
		case 'z':
			c = 's'
		case 'f':
			c = 'p'
		case 'w':
			c = 'v'
		case 'x':
			c = 'k'
		}
		if c != last {
			buf = append(buf, c)
		}
		last = c
	}
	return buf
}

// looseSimilarity compares a token transliterated from an alphabet or a
// syllabary (its looseSkeleton sa) with a Latin one (b).
func looseSimilarity(sa, b string) (float64, string) {
	if len(sa) < 2 || len(b) < 3 {
		return 0, ""
	}
	var buf [32]byte
	sb := looseSkeleton(b, buf[:0])
	if string(sb) != sa {
		return 0, ""
	}
	if len(sa) >= 3 {
		return 0.85, HowTranslit
	}
	return 0.8, HowTranslit
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
