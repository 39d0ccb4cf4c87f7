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
	"lic": true, "ing": true, "gen": true, "col": true, "coronel": true,
	"sheikh": true, "shaykh": true, "shaikh": true, "mullah": true, "mulla": true, "hajji": true, "haji": true,
	"maulvi": true, "mawlawi": true, "maulavi": true, "qari": true, "mufti": true, "hafiz": true,
	"seyed": true, "seyyed": true, "sayed": true, "sayyed": true, "sayyid": true, "daw": true,
}

// scriptTitles are titles as they read transliterated: شيخ (Sheikh), ملا
// (Mullah), حاجی (Haji). A transliterated "mr" is عمر (Umar), not Mister;
// Sayyid (سيد) is told from Saeed (سعید, also "syd") by its letters, when
// transliterated.
var scriptTitles = map[string]bool{"shykh": true, "ml": true, "mla": true, "hjy": true, "haji": true, "sayyid": true}

// Name is a parsed name.
type Name struct {
	// The fields a comparison reads come first, together.
	Tokens []string // normalised tokens, particles and titles removed, in writing order
	Sounds []string // Phonetic of each token
	// Skeletons are the tokens' consonants (skeleton): how a token from
	// an abjad is compared, and how romanizations of one name from
	// Russian, Arabic or Persian meet ("Aleksandr" and "Alexander").
	Skeletons []string
	// Scripts says of each token whether it was written in Latin letters
	// or transliterated (ScriptLatin, ScriptOther, ScriptAbjad); nil when
	// every token was written in Latin letters.
	Scripts []uint8
	// nick, generic and place mark the tokens (the first 64) that are in
	// the nickname table, generic company words, and countries.
	nick, generic, place uint64
	// prefixed marks the tokens that begin with a particle written on
	// ("delacruz", "alharamain").
	prefixed uint64
	// lens has bit L set when a token is L letters long, pairLens when
	// two neighbouring tokens are L letters together (L < 64).
	lens, pairLens uint64
	// abjad says a token was written in an abjad (Arabic, Hebrew), whose
	// words Latin spellings often write together or apart.
	abjad bool
	// Form is the company's legal form, canonical ("llc", "sacv"…),
	// taken off the name's tokens; "" when it has none.
	Form string
	// Type is the entity type when known (TypePerson, TypeCompany…): a
	// person is then never a vessel or a company on one shared word.
	Type string
	// Surnames counts the leading tokens that are surnames when
	// SurnameFirst is set.
	Surnames int
	// SurnameFirst is set when the name was written "SURNAMES, Given".
	SurnameFirst bool
	Raw          string
	// Words are all the name's folded words, particles and legal form
	// included, for a name of two to eight words (acronyms take their
	// letters from them: "Syrian Chamber of Shipping", "SCOS").
	Words []string
}

// ParseTyped reads a name of a known entity type (TypeOf reads it; ""
// for unknown).
func ParseTyped(raw, typ string) Name {
	return parse(raw, TypeOf(typ))
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

// rawToken is one folded word of a name before particles drop.
type rawToken struct {
	tok    string
	script uint8
	part   int8   // 0 before the comma, 1 after it
	skel   string // an abjad word's consonants, letter by letter
}

// Parse reads a name. A comma marks "SURNAMES, Given names", as OFAC and
// many registers write them, unless what follows it is a company's legal
// form ("PETROLEOS DE VENEZUELA, S.A."). Legal forms are taken off the
// ends of the name (Form), numbers in words become digits, digits written
// for letters become letters, and abbreviations are written out.
func Parse(raw string) Name { return parse(raw, "") }

// parse reads a name of type typ ("" when unknown). A person's name has no
// legal form and its number words are names ("Segundo Ruiz", "João Pedro
// Sá"): only a company's, a vessel's or an unknown name is read for them.
func parse(raw, typ string) Name {
	n := Name{Raw: raw, Type: typ}
	person := typ == TypePerson
	before, after, comma := strings.Cut(splitHan(raw), ",")
	var toks []rawToken
	add := func(s string, part int8) {
		if latin(s) {
			// The common case, folded in one pass.
			for _, tok := range strings.Fields(Fold(s)) {
				toks = append(toks, rawToken{tok: tok, part: part})
			}
			return
		}
		for _, word := range strings.Fields(kanaDots.Replace(s)) {
			script, skel, loose := ScriptLatin, "", false
			if !latin(word) {
				loose = !strings.ContainsFunc(word, func(r rune) bool { return unicode.Is(unicode.Han, r) })
				word, script, skel = transliterate(word)
			}
			fs := strings.Fields(Fold(word))
			if len(fs) != 1 {
				skel = ""
			}
			for _, tok := range fs {
				if loose && script == ScriptOther {
					// An alphabet's or syllabary's letters, which Latin
					// spellings of a name render in more ways than
					// go-unidecode's one (looseSkeleton).
					skel = string(looseSkeleton(tok, nil))
				}
				toks = append(toks, rawToken{tok: tok, script: script, part: part, skel: skel})
			}
		}
	}
	add(before, 0)
	if comma {
		add(after, 1)
	}
	toks = readNumbers(toks, !person)
	if len(toks) >= 3 && initialsOnly(toks) {
		// "E.K.T.", "J.T.B.": an acronym written with dots.
		var b strings.Builder
		for _, t := range toks {
			b.WriteString(t.tok)
		}
		toks = []rawToken{{tok: b.String()}}
	}
	if len(toks) >= 2 && len(toks) <= 8 {
		n.Words = make([]string, len(toks))
		for i, t := range toks {
			n.Words[i] = t.tok
		}
	}
	if !person {
		toks, n.Form = stripForms(toks)
	}
	var skels []string
	surnameFirst := false
	for _, t := range toks {
		surnameFirst = surnameFirst || t.part == 1
	}
	for _, t := range toks {
		if particles[t.tok] || (t.script == ScriptLatin && titles[t.tok]) || (t.script != ScriptLatin && scriptTitles[t.tok]) {
			continue
		}
		if a, ok := abbreviations[t.tok]; ok {
			t.tok = a
		}
		if t.script != ScriptLatin && n.Scripts == nil {
			n.Scripts = make([]uint8, len(n.Tokens), len(n.Tokens)+4)
		}
		n.Tokens = append(n.Tokens, t.tok)
		if n.Scripts != nil {
			n.Scripts = append(n.Scripts, t.script)
		}
		n.abjad = n.abjad || t.script == ScriptAbjad
		skels = append(skels, t.skel)
		if surnameFirst && t.part == 0 {
			n.Surnames++
		}
	}
	n.SurnameFirst = surnameFirst && n.Surnames > 0 && n.Surnames < len(n.Tokens)
	if !n.SurnameFirst {
		n.Surnames = 0
	}
	n.Sounds = make([]string, len(n.Tokens))
	for i, t := range n.Tokens {
		n.Sounds[i] = Phonetic(t)
		if i < 64 {
			bit := uint64(1) << uint(i)
			if _, ok := nicknames[t]; ok {
				n.nick |= bit
			}
			if genericWords[t] {
				n.generic |= bit
			}
			if places[t] {
				n.place |= bit
			}
			if particlePrefixed(t) {
				n.prefixed |= bit
			}
			n.lens |= lenBit(len(t))
			if i > 0 {
				n.pairLens |= lenBit(len(t) + len(n.Tokens[i-1]))
			}
		}
	}
	n.Skeletons = make([]string, len(n.Tokens))
	for i, t := range n.Tokens {
		if skels[i] != "" {
			n.Skeletons[i] = skels[i]
		} else {
			n.Skeletons[i] = skeleton(t)
		}
	}
	return n
}

func lenBit(l int) uint64 {
	if l >= 64 {
		return 0
	}
	return 1 << uint(l)
}

// initialsOnly reports whether every word is one Latin letter.
func initialsOnly(toks []rawToken) bool {
	for _, t := range toks {
		if len(t.tok) != 1 || t.script != ScriptLatin || !isLetter(t.tok[0]) {
			return false
		}
	}
	return true
}

// kanaDots are the middle dots that separate the words of a name written
// in katakana ("ウラジーミル・プーチン").
var kanaDots = strings.NewReplacer("・", " ", "･", " ")

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
