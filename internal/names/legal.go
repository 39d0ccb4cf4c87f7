package names

import (
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// HowLegal marks the comparison of two companies' legal forms.
const HowLegal = "legal form"

// legalForms are the legal forms of companies, as registers and lists
// write them (folded: "S.A. de C.V." is "s a de c v"), each with its
// canonical form and family. Sources: the national company laws as
// summarised in "List of legal entity types by country" (Wikipedia), and
// the forms the OFAC and UN lists use. Forms of one family (limited
// liability, joint stock) are near each other; a form and its expansion
// or translation ("GmbH", "Gesellschaft mit beschränkter Haftung"; "PAO",
// "PJSC", "Public Joint Stock Company") are the same form.
var legalForms = map[string][]string{
	// limited liability
	"gmbh":  {"gmbh", "g m b h", "gesmbh", "gesellschaft mit beschrankter haftung", "gesellschaft mit beschraenkter haftung"},
	"llc":   {"llc", "l l c", "limited liability company", "limited liability co", "ooo", "o o o", "obshchestvo s ogranichennoi otvetstvennostyu", "obshchestvo s ogranichennoy otvetstvennostyu", "obshestvo s ogranichennoy otvetstvennostyu", "tov", "too", "fz llc", "fzllc"},
	"ltd":   {"ltd", "limited", "co ltd", "company limited", "co limited", "ltd co", "l t d"},
	"srl":   {"srl", "s r l", "s de rl", "s de r l", "sociedad de responsabilidad limitada", "sarl", "s a r l", "societe a responsabilite limitee", "ltda", "limitada", "sprl", "s p r l", "sl", "s l", "sociedad limitada", "sro", "s r o", "kft", "doo", "d o o", "drustvo sa ogranicenom odgovornoscu", "sp z o o"},
	"srlcv": {"s de rl de cv", "s de r l de c v", "sociedad de responsabilidad limitada de capital variable", "s de rl cv"},
	"bv":    {"bv", "b v", "besloten vennootschap"},
	"pvt":   {"pvt ltd", "private limited", "pvt limited", "private ltd", "pte ltd", "pte limited", "pty ltd", "proprietary limited", "pty limited", "sdn bhd", "sendirian berhad"},
	"plc":   {"plc", "p l c", "public limited company"},
	"llp":   {"llp", "limited liability partnership", "lp", "limited partnership"},
	"fze":   {"fze", "free zone establishment", "fzco", "f z c o", "fzc", "free zone company"},
	// joint stock
	"pjsc": {"pjsc", "pao", "p a o", "public joint stock company", "publichnoe aktsionernoe obshchestvo", "publichnoye aktsionernoye obshchestvo"},
	"jsc":  {"jsc", "ao", "a o", "joint stock company", "aktsionernoe obshchestvo", "aktsionernoye obshchestvo", "ojsc", "oao", "open joint stock company", "otkrytoe aktsionernoe obshchestvo", "cjsc", "zao", "closed joint stock company", "zakrytoe aktsionernoe obshchestvo", "pt", "p t", "perseroan terbatas"},
	"ag":   {"ag", "aktiengesellschaft"},
	"sa":   {"sa", "s a", "sociedad anonima", "societe anonyme", "sociedade anonima", "ca", "c a", "compania anonima", "sas", "s a s", "sociedad por acciones simplificada", "spa", "s p a", "societa per azioni", "nv", "n v", "naamloze vennootschap", "as", "a s", "anonim sirketi", "aktieselskab", "aksjeselskap", "ab", "aktiebolag", "oy", "osakeyhtio", "sab", "s a b", "sal", "s a l"},
	"sacv": {"sa de cv", "s a de c v", "sociedad anonima de capital variable", "sab de cv", "s a b de c v", "sociedad anonima bursatil de capital variable", "s a c v", "sa cv"},
	"corp": {"corp", "corporation", "inc", "incorporated", "kk", "kabushiki kaisha"},
	// generic
	"co": {"co", "company", "cia", "compania", "compagnie", "cie"},
}

// formFamily groups the canonical forms.
var formFamily = map[string]string{
	"gmbh": "limited", "llc": "limited", "ltd": "limited", "srl": "limited", "srlcv": "limited", "bv": "limited",
	"pvt": "limited", "plc": "stock", "llp": "limited", "fze": "limited",
	"pjsc": "stock", "jsc": "stock", "ag": "stock", "sa": "stock", "sacv": "stock", "corp": "stock",
	"co": "generic",
}

// longForms are the one-word forms that are long enough to recognise
// misspelt ("Limted", "Corporaton", "Compnay").
var longForms = []string{"limited", "company", "corporation", "incorporated", "limitada", "aktiengesellschaft",
	"sociedad", "anonima", "responsabilidad", "variable", "capital", "gesellschaft", "beschrankter", "aktsionernoe",
	"obshchestvo", "otvetstvennostyu", "ogranichennoi", "liability"}

// formTrie finds legal forms by their folded words.
type formTrie struct {
	next  map[string]*formTrie
	canon string
}

var forms = func() *formTrie {
	root := &formTrie{}
	for canon, variants := range legalForms {
		for _, v := range variants {
			t := root
			for _, w := range strings.Fields(v) {
				if t.next == nil {
					t.next = map[string]*formTrie{}
				}
				n := t.next[w]
				if n == nil {
					n = &formTrie{}
					t.next[w] = n
				}
				t = n
			}
			t.canon = canon
		}
	}
	return root
}()

// formWord reads a word as a legal form's word, correcting the misspelt
// long ones.
func formWord(t *formTrie, w rawToken) *formTrie {
	if w.script != ScriptLatin {
		return nil
	}
	if n := t.next[w.tok]; n != nil {
		return n
	}
	if len(w.tok) >= 6 {
		for _, f := range longForms {
			if f[0] == w.tok[0] && JaroWinkler(w.tok, f) >= 0.9 {
				return t.next[f]
			}
		}
	}
	return nil
}

// formAt returns the canonical form of the longest legal form starting at
// toks[i] and the number of words it takes.
func formAt(toks []rawToken, i int) (string, int) {
	t, canon, n := forms, "", 0
	for k := i; k < len(toks); k++ {
		if t = formWord(t, toks[k]); t == nil {
			break
		}
		if t.canon != "" {
			canon, n = t.canon, k-i+1
		}
	}
	return canon, n
}

// formEndingAt returns the canonical form of the longest legal form ending
// with the last word of toks and the number of words it takes.
func formEndingAt(toks []rawToken) (string, int) {
	best, bn := "", 0
	for i := max(0, len(toks)-8); i < len(toks); i++ {
		if c, n := formAt(toks, i); n > 0 && i+n == len(toks) && n > bn {
			best, bn = c, n
		}
	}
	return best, bn
}

// stripForms takes a legal form off the end of a name, or off its start
// ("OOO Vneshtorg", "Limited Liability Company Gora"), leaving at least
// one word; a form of one or two letters ("SA", "AO") needs two words
// left at the end, one at the start.
func stripForms(toks []rawToken) ([]rawToken, string) {
	words := 0
	for _, t := range toks {
		if !particles[t.tok] {
			words++
		}
	}
	form := ""
	if c, n := formEndingAt(toks); n > 0 && words-n >= 1 && (n > 1 || len(toks[len(toks)-1].tok) > 2 || words-n >= 2 || len(toks[0].tok) >= 5 || afterComma(toks, n)) {
		toks, form = toks[:len(toks)-n], c
		words -= n
		// "Heng Li Trading Co. Ltd." ends in two forms; the outer one
		// counts, the inner one goes.
		if c2, n2 := formEndingAt(toks); n2 > 0 && len(toks)-n2 >= 1 && c2 == "co" {
			toks = toks[:len(toks)-n2]
		}
	}
	// A form in front ("OOO Vneshtorg", "Limited Liability Company RVC
	// Management Company"): the more telling of the two forms counts.
	if c, n := formAt(toks, 0); n > 0 && len(toks)-n >= 1 && c != "co" {
		toks = toks[n:]
		if form == "" || form == "co" {
			form = c
		}
	}
	return toks, form
}

// afterComma reports whether the last n tokens are all that follows the
// comma ("VAD, AO").
func afterComma(toks []rawToken, n int) bool {
	i := len(toks) - n
	return i > 0 && toks[i].part == 1 && toks[i-1].part == 0
}

// formSimilarity compares two legal forms: the same form 1, the same
// family 0.8 (an LLC and a GmbH), otherwise 0.5.
func formSimilarity(a, b string) float64 {
	switch {
	case a == b:
		return 1
	case formFamily[a] == formFamily[b] || formFamily[a] == "generic" || formFamily[b] == "generic":
		return 0.8
	}
	return 0.5
}

// formWeight is a legal form's weight against a name word's 1: it counts,
// but it never makes two companies one.
const formWeight = 0.3

// abbreviations are written out before comparing.
var abbreviations = map[string]string{
	"intl": "international", "int'l": "international", "mfg": "manufacturing", "bros": "brothers",
	"hnos": "hermanos", "hmnos": "hermanos", "natl": "national", "assn": "association", "dept": "department",
	"sta": "santa", "sto": "santo", "svcs": "services", "svc": "service",
	"mgmt": "management", "grp": "group",
}

// How a company's words weighed.
const (
	HowGeneric = "only generic company words agree"
	HowType    = "another entity type"
)

// genericCap is the highest score of two names that share only generic
// company words: listed for review, never a match.
const genericCap = 0.6

// genericWords say what a firm does or is, not which firm it is (English
// and Spanish, folded).
var genericWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`trading trade traders company group grupo international internacional general
		industries industrial industry industria industrias services servicios service import imports export exports
		importadora exportadora commercial comercial comercializadora holding holdings investment investments
		inversiones inversora shipping naviera petroleum oil gas bank banco exchange financial financiero financiera
		technology technologies engineering construction constructora development developments enterprises
		enterprise empresa empresas marine maritime maritima logistics logistica energy energia foundation fundacion
		organization organizacion association asociacion network transport transportes transporte manufacturing
		tourism turismo travel agency agencia office center centre centro global corporation corporacion partners
		solutions management consulting consultores capital ventures resources recursos products productos
		distribution distribuidora supply supplies suministros agro agricultural agricola mining minera fishing
		pesquera real estate inmobiliaria bienes raices casa cambio money`) {
		genericWords[w] = true
	}
}

// crossType reports whether one of two known types is a person and the
// other is not.
func crossType(a, b string) bool {
	return a != "" && b != "" && (a == TypePerson) != (b == TypePerson)
}

// firm reports whether a name reads as a company's: it has a legal form
// or generic company words, or its type says so.
func (n *Name) firm() bool {
	if n.Type == TypePerson {
		return false
	}
	return n.Form != "" || n.generic != 0 || (n.Type != "" && n.Type != TypePerson)
}

func (n *Name) nickname(i int) bool { return i < 64 && n.nick&(1<<uint(i)) != 0 }

// acronymMatch pairs a one-word name with a longer one it abbreviates.
type acronymMatch struct {
	got, total float64
	form       bool // the acronym takes a letter from the legal form
}

// HowAcronym marks a one-word name made of the other name's initials or
// first letters.
const HowAcronym = "acronym"

// find reports whether a is one word of three letters or more made of
// the starts of each of b's words, in order ("CJNG", "AMLO", "PEMEX").
func (m *acronymMatch) find(a, b *Name, wa, wb []float64, flip bool, parts *[]Part) bool {
	if len(a.Tokens) != 1 || len(b.Tokens) < 2 || len(a.Tokens[0]) < 3 || len(a.Tokens[0]) > 3*len(b.Words) || len(b.Tokens) > 8 {
		return false
	}
	if !abbreviates(a.Tokens[0], b.Tokens) {
		if !abbreviates(a.Tokens[0], b.Words) {
			return false
		}
		m.form = b.Form != ""
	}
	sum := 0.0
	for _, w := range wb {
		sum += w
	}
	wt := (wa[0] + sum/float64(len(wb))) / 2
	m.got, m.total = 0.9*wt, wt
	if parts != nil {
		p := Part{Query: a.Tokens[0], Other: strings.Join(b.Tokens, " "), How: HowAcronym, Score: 0.9, Weight: round3(wt)}
		if flip {
			p.Query, p.Other = p.Other, p.Query
		}
		*parts = append(*parts, p)
	}
	return true
}

// abbreviates reports whether acr is made of one to three first letters
// of each word, in order.
func abbreviates(acr string, words []string) bool {
	if len(words) == 0 {
		return acr == ""
	}
	w := words[0]
	for k := 1; k <= 3 && k <= len(w) && k <= len(acr); k++ {
		if acr[:k] != w[:k] {
			break
		}
		if abbreviates(acr[k:], words[1:]) {
			return true
		}
	}
	return false
}

// places are the one-word names of countries in English and Spanish
// (golang.org/x/text's CLDR display names), folded: a company's branch
// in another country is another company.
var places = func() map[string]bool {
	m := map[string]bool{}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			r, err := language.ParseRegion(string([]rune{a, b}))
			if err != nil || !r.IsCountry() {
				continue
			}
			for _, d := range []*display.Dictionary{display.English, display.Spanish} {
				if name := Fold(d.Regions().Name(r)); name != "" && !strings.Contains(name, " ") {
					m[name] = true
				}
			}
		}
	}
	return m
}()
