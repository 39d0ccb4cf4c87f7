package names

import (
	"strconv"
)

// numbers are number words in English and Spanish, cardinal and ordinal
// (folded, so "décimo" is "decimo"), with their value.
var numbers = map[string]int{
	"zero": 0, "cero": 0,
	"one": 1, "uno": 1, "first": 1, "primero": 1, "primera": 1, "primer": 1,
	"two": 2, "dos": 2, "second": 2, "segundo": 2, "segunda": 2,
	"three": 3, "tres": 3, "third": 3, "tercero": 3, "tercera": 3, "tercer": 3,
	"four": 4, "cuatro": 4, "fourth": 4, "cuarto": 4, "cuarta": 4,
	"five": 5, "cinco": 5, "fifth": 5, "quinto": 5, "quinta": 5,
	"six": 6, "seis": 6, "sixth": 6, "sexto": 6, "sexta": 6,
	"seven": 7, "siete": 7, "seventh": 7, "septimo": 7, "septima": 7,
	"eight": 8, "ocho": 8, "eighth": 8, "octavo": 8, "octava": 8,
	"nine": 9, "nueve": 9, "ninth": 9, "noveno": 9, "novena": 9,
	"ten": 10, "diez": 10, "tenth": 10, "decimo": 10, "decima": 10,
	"eleven": 11, "once": 11, "eleventh": 11, "twelve": 12, "doce": 12, "twelfth": 12,
	"thirteen": 13, "trece": 13, "thirteenth": 13, "fourteen": 14, "catorce": 14, "fourteenth": 14,
	"fifteen": 15, "quince": 15, "fifteenth": 15, "sixteen": 16, "dieciseis": 16, "sixteenth": 16,
	"seventeen": 17, "diecisiete": 17, "seventeenth": 17, "eighteen": 18, "dieciocho": 18, "eighteenth": 18,
	"nineteen": 19, "diecinueve": 19, "nineteenth": 19,
	"twenty": 20, "veinte": 20, "twentieth": 20, "vigesimo": 20,
	"veintiuno": 21, "veintiun": 21, "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
	"veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
	"thirty": 30, "treinta": 30, "forty": 40, "cuarenta": 40, "fifty": 50, "cincuenta": 50,
	"sixty": 60, "sesenta": 60, "seventy": 70, "setenta": 70, "eighty": 80, "ochenta": 80,
	"ninety": 90, "noventa": 90, "hundred": 100, "cien": 100, "ciento": 100,
}

// ambiguousNumbers are number words that are also particles or common
// name words: read as numbers only as a name's last word ("Calle Dos",
// not "João dos Santos"; "Los Once", not "Once Caldas").
var ambiguousNumbers = map[string]bool{"dos": true, "uno": true, "once": true, "cuarto": true, "quinto": true, "sexto": true}

var articles = map[string]bool{"los": true, "las": true, "the": true, "mis": true, "sus": true}

// romans are Roman numerals read as numbers after a name's first word
// ("Tindaya Properties II"); "xi" and "v" are not (Xi Jinping, an
// initial).
var romans = map[string]int{"ii": 2, "iii": 3, "iv": 4, "vi": 6, "vii": 7, "viii": 8, "xii": 12, "xiii": 13}

// ordinalSuffixes follow digits in ordinals: 1st, 2nd, 3rd, 4th; 1o, 2do,
// 3ro, 1er, 2da, 3ra.
var ordinalSuffixes = []string{"st", "nd", "rd", "th", "o", "a", "do", "da", "ro", "ra", "er", "to", "ta", "vo", "va", "no", "na", "mo", "ma"}

// leet reads digits written for letters.
var leet = [10]byte{'o', 'i', 'z', 'e', 'a', 's', 'g', 't', 'b', 'g'}

// numeral reads one folded word as a number: "13", "thirteen", "trece",
// "2nd", "segunda"; ok is false when it is none.
func numeral(w string, last bool) (int, bool) {
	if v, ok := numbers[w]; ok && (last || !ambiguousNumbers[w]) {
		return v, true
	}
	d := 0
	for d < len(w) && w[d] >= '0' && w[d] <= '9' {
		d++
	}
	if d == 0 || d > 9 {
		return 0, false
	}
	suffix := w[d:]
	if suffix != "" {
		found := false
		for _, s := range ordinalSuffixes {
			found = found || s == suffix
		}
		if !found {
			return 0, false
		}
	}
	v, err := strconv.Atoi(w[:d])
	return v, err == nil
}

// deleet writes digits inside a word back as the letters they stand for
// ("r0s4rio" → "rosario", "p3dr0" → "pedro", "3nrique" → "enrique"): a
// word of at least three letters and at most half as many digits, each
// digit alone between letters or at an end, so "46b", "mig29", "ak47" and
// "a320" stay as they are.
func deleet(w string) string {
	letters, digits := 0, 0
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case digit(c):
			digits++
		case isLetter(c):
			letters++
		}
	}
	if digits == 0 || letters < 3 || digits*2 > letters {
		return w
	}
	b := []byte(w)
	for i, c := range b {
		if !digit(c) {
			continue
		}
		before := i == 0 || isLetter(w[i-1])
		after := i == len(w)-1 || isLetter(w[i+1])
		if !before || !after {
			return w
		}
		b[i] = leet[c-'0']
	}
	return string(b)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' }

// readNumbers writes number words (when words is set) and ordinals as
// digits, joining tens and units ("twenty one", "treinta y uno" → "21"),
// and drops the "no." before a number ("Office No. 39").
func readNumbers(toks []rawToken, words bool) []rawToken {
	out := toks[:0]
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.script != ScriptLatin {
			out = append(out, t)
			continue
		}
		// An ambiguous number word is a number at the end of a name or
		// after an article ("Los Dos Carnales", not "João dos Santos").
		last := i == len(toks)-1 || i > 0 && articles[toks[i-1].tok]
		if (t.tok == "no" || t.tok == "nr" || t.tok == "num" || t.tok == "numero" || t.tok == "number") && !last {
			if _, ok := numeral(toks[i+1].tok, i+1 == len(toks)-1); ok {
				continue
			}
		}
		v, ok := numeral(t.tok, last)
		if ok && !words && !digit(t.tok[0]) {
			ok = false // a person's "Segundo" is a name
		}
		if r, roman := romans[t.tok]; roman && i > 0 && words {
			v, ok = r, true
		}
		if !ok {
			if d := deleet(t.tok); d != t.tok {
				t.tok = d
			}
			out = append(out, t)
			continue
		}
		// Tens followed by units: "twenty one", "treinta y uno".
		if v >= 20 && v < 100 && v%10 == 0 {
			j := i + 1
			if j < len(toks) && (toks[j].tok == "y" || toks[j].tok == "and") {
				j++
			}
			if j < len(toks) {
				if u, ok := numeral(toks[j].tok, j == len(toks)-1); ok && u > 0 && u < 10 {
					v += u
					i = j
				}
			}
		}
		t.tok = strconv.Itoa(v)
		out = append(out, t)
	}
	return out
}
