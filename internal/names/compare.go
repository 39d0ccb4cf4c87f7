package names

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// DefaultThreshold is the score from which two names are taken to be the
// same person or company. It was chosen on the labelled evaluation set
// (docs/matching.md, "puente names eval").
const DefaultThreshold = 0.80

// How two tokens matched.
const (
	HowExact    = "exact"
	HowSound    = "sounds alike"
	HowTypo     = "spelling"
	HowInitial  = "initial"
	HowMissing  = "not in the other name"
	HowExtra    = "only in the other name"
	HowYear     = "birth year"
	HowYearMiss = "birth year differs"
	HowJoined   = "written as one word"
)

// Hows lists every way a part of a score is explained (Part.How), for
// those who translate them.
var Hows = []string{HowExact, HowSound, HowTypo, HowInitial, HowMissing, HowExtra, HowYear, HowYearMiss, HowJoined,
	HowTranslit, HowLegal, HowNickname, HowAcronym, HowGeneric, HowType}

// Part explains one piece of a score.
type Part struct {
	Query  string  `json:"query,omitempty"`
	Other  string  `json:"other,omitempty"`
	How    string  `json:"how"`
	Score  float64 `json:"score"`
	Weight float64 `json:"weight,omitempty"`
}

// Result is a comparison.
type Result struct {
	Score float64 `json:"score"`
	Match bool    `json:"match"`
	Parts []Part  `json:"explanation"`
}

// Weigher gives a token's weight: rare surnames count more than "maria"
// or "garcia". Nil weighs every token 1.
type Weigher func(token string) float64

// extraPenalty is how much a token that only one of the names has costs,
// relative to a matched token. Spanish names carry two surnames and
// English records often keep one, and middle names come and go, so such a
// token costs little.
const extraPenalty = 0.2

// Compare scores how likely query and other name the same person or
// company, from 0 to 1, and explains the score.
func Compare(query, other Name, w Weigher) Result {
	if w == nil {
		w = func(string) float64 { return 1 }
	}
	wq := make([]float64, len(query.Tokens))
	for i, t := range query.Tokens {
		wq[i] = w(t)
	}
	wo := make([]float64, len(other.Tokens))
	for i, t := range other.Tokens {
		wo[i] = w(t)
	}
	return CompareWeighted(&query, &other, wq, wo)
}

// CompareWeighted is Compare with each token's weight given: wq for the
// query's tokens and wo for the other's, in order.
func CompareWeighted(query, other *Name, wq, wo []float64) Result {
	var res Result
	res.Score = compare(query, other, wq, wo, &res.Parts)
	res.Match = res.Score >= DefaultThreshold
	return res
}

// ScoreWeighted is CompareWeighted's score alone. It allocates nothing for
// names of up to 16 tokens, so a screening run can afford it for every
// candidate and explain only those it keeps.
func ScoreWeighted(query, other *Name, wq, wo []float64) float64 {
	return compare(query, other, wq, wo, nil)
}

type tokenPair struct {
	i, j int
	sim  float64
	how  string
}

func compare(query, other *Name, wq, wo []float64, parts *[]Part) float64 {
	var buf [64]tokenPair
	pairs := buf[:0]
	if query.Scripts == nil && other.Scripts == nil {
		// Both written in Latin letters: the common case.
		for i, a := range query.Tokens {
			for j, b := range other.Tokens {
				s, how := similarity(a, b, sound(query, i), sound(other, j))
				if d := len(a) - len(b); s == 0 && d <= 3 && d >= -3 && len(a) >= 3 && len(b) >= 3 && i < len(query.Skeletons) && j < len(other.Skeletons) {
					if sa, sb := query.Skeletons[i], other.Skeletons[j]; len(sa) == len(sb) && len(sa) >= 2 && sa[0] == sb[0] && sa[len(sa)-1] == sb[len(sb)-1] {
						s, how = romanized(a, b, sa, sb)
					}
				}
				if s < nicknameSimilarity && query.nickname(i) && other.nickname(j) && isNickname(a, b) {
					s, how = nicknameSimilarity, HowNickname
				}
				if s > 0 {
					pairs = append(pairs, tokenPair{i, j, s, how})
				}
			}
		}
	} else {
		for i, a := range query.Tokens {
			qs := script(query, i)
			for j, b := range other.Tokens {
				os := script(other, j)
				var s float64
				var how string
				if qs == ScriptAbjad && os != ScriptAbjad {
					s, how = abjadSimilarity(skel(query, i), skel(other, j))
				} else if os == ScriptAbjad && qs != ScriptAbjad {
					s, how = abjadSimilarity(skel(other, j), skel(query, i))
				} else if s, how = similarity(a, b, sound(query, i), sound(other, j)); s > 0 && qs != os {
					how = HowTranslit
				} else if qs == ScriptOther && os == ScriptLatin && skel(query, i) != "" {
					s, how = looseSimilarity(skel(query, i), b)
				} else if os == ScriptOther && qs == ScriptLatin && skel(other, j) != "" {
					s, how = looseSimilarity(skel(other, j), a)
				} else if s < nicknameSimilarity && query.nickname(i) && other.nickname(j) && isNickname(a, b) {
					s, how = nicknameSimilarity, HowNickname
				}
				if s > 0 {
					pairs = append(pairs, tokenPair{i, j, s, how})
				}
			}
		}
	}
	// Insertion sort, best first, stable: pairs are few.
	for x := 1; x < len(pairs); x++ {
		for y := x; y > 0 && pairs[y].sim > pairs[y-1].sim; y-- {
			pairs[y], pairs[y-1] = pairs[y-1], pairs[y]
		}
	}
	var uq, uo uint64 // matched tokens (the first 64 of each name)
	var got, total float64
	distinct := false // a pair of words that are not generic company words
	if (len(query.Tokens) != len(other.Tokens) && mayJoin(query, other)) || query.abjad != other.abjad {
		// Two words written as one, exactly ("Fer Nando" and "Fernando",
		// "Abdul Ghafar" and عبدالغفار), before a looser pair ("Nando", a
		// nickname of Fernando; "Abdul" and another عبد) takes one.
		var m joined
		m.exact = true
		m.find(query, other, wq, wo, &uq, &uo, false, parts)
		m.find(other, query, wo, wq, &uo, &uq, true, parts)
		got, total = m.got, m.total
		distinct = m.total > 0
	}
	for _, p := range pairs {
		if uq&(1<<uint(p.i)) != 0 || uo&(1<<uint(p.j)) != 0 {
			continue
		}
		uq |= 1 << uint(p.i)
		uo |= 1 << uint(p.j)
		distinct = distinct || query.generic&(1<<uint(p.i)) == 0 || other.generic&(1<<uint(p.j)) == 0
		wt := (wq[p.i] + wo[p.j]) / 2
		got += p.sim * wt
		total += wt
		if parts != nil {
			*parts = append(*parts, Part{Query: query.Tokens[p.i], Other: other.Tokens[p.j], How: p.how, Score: round3(p.sim), Weight: round3(wt)})
		}
	}
	// Two neighbouring tokens of one name written as one token in the
	// other ("Petroleos Mexicanos" / "PetroleosMexicanos", "Abdul Rahman"
	// / "Abdulrahman"), among the tokens still unpaired.
	if lq, lo := len(query.Tokens)-bits.OnesCount64(uq), len(other.Tokens)-bits.OnesCount64(uo); ((lq >= 2 && lo >= 1) || (lo >= 2 && lq >= 1)) && (mayJoin(query, other) || query.Scripts != nil || other.Scripts != nil) {
		var m joined
		m.find(query, other, wq, wo, &uq, &uo, false, parts)
		m.find(other, query, wo, wq, &uo, &uq, true, parts)
		got, total = got+m.got, total+m.total
		distinct = distinct || m.total > 0
	}
	formDone := false // the legal form was part of an acronym ("NIOC")
	if uq == 0 && uo == 0 {
		// "CJNG" and "Cártel de Jalisco Nueva Generación", "AMLO" and
		// "Andrés Manuel López Obrador".
		var m acronymMatch
		if m.find(query, other, wq, wo, false, parts) || m.find(other, query, wo, wq, true, parts) {
			uq, uo = 1<<uint(min(len(query.Tokens), 64))-1, 1<<uint(min(len(other.Tokens), 64))-1
			got, total, distinct = m.got, m.total, true
			formDone = m.form
		}
	}
	if uq != 1<<uint(min(len(query.Tokens), 64))-1 && uo != 1<<uint(min(len(other.Tokens), 64))-1 {
		// "de la Cruz" and "Delacruz", "Al-Haramain" and "Alharamain":
		// a particle written onto the word.
		var m joined
		m.prefixed(query, other, wq, wo, &uq, &uo, false, parts)
		m.prefixed(other, query, wo, wq, &uo, &uq, true, parts)
		got, total = got+m.got, total+m.total
		distinct = distinct || m.total > 0
	}
	// A token only one side has (a second surname, a middle name) costs
	// little. Tokens on both sides that found no partner are a conflict
	// ("Mónica" against "Modesta" with the same two surnames) and cost in
	// full. So do the rest of a query that agrees with the other name on
	// one token only, when the names say more (coverage: one rare word of
	// a long name is not the name).
	nq, no := min(len(query.Tokens), 64), min(len(other.Tokens), 64)
	matchedQ, matchedO := bits.OnesCount64(uq), bits.OnesCount64(uo)
	missQ := matchedQ < nq
	missO := matchedO < no
	penalty := extraPenalty
	if (missQ && missO) || (matchedQ == 1 && matchedO == 1 && ((nq > 1 && no > 1) || max(nq, no) >= 3)) {
		// One shared token is weak evidence when the query says more.
		penalty = 1
	}
	// A company's country or branch word that the other lacks
	// ("Grupo Financiero X Panamá") is another company, not a detail. A
	// given name in front of all of the other name ("Uday Saddam Hussein"
	// against "Saddam Hussein") is a son or another person, not a middle
	// name.
	firm := query.firm() || other.firm()
	gq, go_ := -1, -1
	if !missO && missQ {
		gq = query.givenAt(other)
	}
	if !missQ && missO {
		go_ = other.givenAt(query)
	}
	for i := 0; i < nq; i++ {
		if uq&(1<<uint(i)) == 0 {
			pen := penalty
			if (firm && query.place&(1<<uint(i)) != 0) || i == gq || digit(query.Tokens[i][0]) {
				pen = 1
			}
			wt := pen * wq[i]
			total += wt
			if parts != nil {
				*parts = append(*parts, Part{Query: query.Tokens[i], How: HowMissing, Weight: round3(wt)})
			}
		}
	}
	for j := 0; j < no; j++ {
		if uo&(1<<uint(j)) == 0 {
			pen := penalty
			if (firm && other.place&(1<<uint(j)) != 0) || j == go_ || digit(other.Tokens[j][0]) {
				pen = 1
			}
			wt := pen * wo[j]
			total += wt
			if parts != nil {
				*parts = append(*parts, Part{Other: other.Tokens[j], How: HowExtra, Weight: round3(wt)})
			}
		}
	}
	// Legal forms count a little: the same form or its translation
	// agrees, another form of the same family nearly does; a form only one
	// name gives costs little (lists drop them).
	if (query.Form != "" || other.Form != "") && !formDone {
		sim, wt := 0.0, formWeight
		switch {
		case query.Form != "" && other.Form != "":
			sim = formSimilarity(query.Form, other.Form)
			got += sim * wt
		case query.firm() && other.firm():
			// Lists and registers often drop the form.
			wt *= extraPenalty
		}
		// A form against a name with nothing of a company's ("La Güera"
		// and "LLC Gora") costs its whole weight.
		total += wt
		if parts != nil {
			*parts = append(*parts, Part{Query: query.Form, Other: other.Form, How: HowLegal, Score: round3(sim), Weight: round3(wt)})
		}
	}
	if total == 0 {
		return 0
	}
	score := got / total
	// Names that share only generic company words ("Trading Company" and
	// "Pacific Trading Company") are not one company.
	if !distinct && score > genericCap && (query.generic != 1<<uint(nq)-1 || other.generic != 1<<uint(no)-1) && (query.generic != 0 || other.generic != 0) {
		score = genericCap
		if parts != nil {
			*parts = append(*parts, Part{How: HowGeneric, Score: genericCap})
		}
	}
	// A person is not a vessel, a company or an aircraft on one shared
	// word.
	if crossType(query.Type, other.Type) && min(matchedQ, matchedO) < 2 {
		score *= 0.5
		if parts != nil {
			*parts = append(*parts, Part{Query: query.Type, Other: other.Type, How: HowType, Score: 0.5})
		}
	}
	return round3(score)
}

// WithYear adjusts a result for a birth year: a year the other record
// also gives confirms a little (+0.05); years all 2 to 5 apart count a
// little against (−0.1), years all further apart strongly (−0.3).
func (r Result) WithYear(year int, years []int) Result {
	if year == 0 || len(years) == 0 {
		return r
	}
	best := math.MaxInt
	for _, y := range years {
		best = min(best, abs(y-year))
	}
	switch {
	case best == 0:
		r.Score = math.Min(1, r.Score+0.05)
		r.Parts = append(r.Parts, Part{Query: fmt.Sprint(year), Other: fmt.Sprint(year), How: HowYear, Score: 0.05})
	case best > 1:
		// A few years off may be a typo in the record; a generation off
		// is another person with the same name (a father, a son).
		d := -0.1
		if best > 5 {
			d = -0.3
		}
		r.Score = math.Max(0, r.Score+d)
		r.Parts = append(r.Parts, Part{Query: fmt.Sprint(year), Other: joinYears(years), How: HowYearMiss, Score: d})
	}
	r.Score = round3(r.Score)
	r.Match = r.Score >= DefaultThreshold
	return r
}

func joinYears(ys []int) string {
	s := make([]string, len(ys))
	for i, y := range ys {
		s[i] = fmt.Sprint(y)
	}
	return strings.Join(s, "/")
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// TokenSimilarity compares two normalised tokens: 1 when equal, 0.875 to
// 0.95 when they sound alike in Spanish or English (more as the spellings
// are closer), 0.85 when one is the initial of
// the other, the Jaro-Winkler similarity (scaled by 0.97) for a likely
// misspelling, and 0 otherwise.
func TokenSimilarity(a, b string) (float64, string) {
	return similarity(a, b, Phonetic(a), Phonetic(b))
}

func skel(n *Name, i int) string {
	if i < len(n.Skeletons) {
		return n.Skeletons[i]
	}
	return skeleton(n.Tokens[i])
}

func script(n *Name, i int) uint8 {
	if i < len(n.Scripts) {
		return n.Scripts[i]
	}
	return ScriptLatin
}

func sound(n *Name, i int) string {
	if i < len(n.Sounds) {
		return n.Sounds[i]
	}
	return Phonetic(n.Tokens[i])
}

func similarity(a, b, pa, pb string) (float64, string) {
	if a == b {
		return 1, HowExact
	}
	if len(a) == 1 || len(b) == 1 {
		if a[0] == b[0] {
			return 0.85, HowInitial
		}
		return 0, ""
	}
	if genderPair(a, b) {
		// Antonio and Antonia, Daniel and Daniela: two people.
		return 0, ""
	}
	// Jaro-Winkler of at least 0.92 (or 0.75 with the same sound key)
	// needs close lengths, and in practice the same first letter.
	if d := len(a) - len(b); pa != pb && (d > 3 || d < -3 || a[0] != b[0]) {
		return 0, ""
	}
	if digit(a[0]) || digit(b[0]) {
		// Numbers agree or they do not: 100 is not 1000.
		return 0, ""
	}
	jw := JaroWinkler(a, b)
	// A sound key drops vowels, so it is trusted only when the spellings
	// are fairly close too (Caro and Karo, not Sambada and Sinbad).
	if pa == pb && jw >= 0.8 {
		// 0.875 for spellings barely alike, up to 0.95 for close ones.
		return 0.85 + 0.1*math.Min(1, (jw-0.75)/0.2), HowSound
	}
	if jw >= 0.92 {
		return jw * 0.97, HowTypo
	}
	return 0, ""
}

// romanized compares two Latin tokens by their consonants (skeleton) when
// the spellings are fairly close: the romanizations of one name from
// Russian, Arabic or Persian ("Aleksandr" and "Alexander", "Yevgeniy" and
// "Evgeni", "Zhanna" and "Janna", "Ba'asyir" and "Bashir") that the
// Spanish and English sound key keeps apart.
func romanized(a, b, sa, sb string) (float64, string) {
	if len(sa) < 2 || sa != sb || genderPair(a, b) || digit(a[0]) || digit(b[0]) {
		return 0, ""
	}
	if jw := JaroWinkler(a, b); jw >= 0.8 && (len(sa) >= 3 || jw >= 0.9) {
		return 0.85 + 0.1*math.Min(1, (jw-0.8)/0.2), HowSound
	}
	return 0, ""
}

// givenAt is the index of n's first given name when n is the contained
// name plus one more given name in front of it: the son's name in Arabic
// naming, where "Uday Saddam Hussein" is Uday son of Saddam son of
// Hussein. It is -1 when that cannot be told from a middle name dropped
// from the front ("BELTRAN LEYVA, Marcos Arturo" known as "Arturo"): the
// contained name must say at least two given names (after its comma) or
// three words (without one). Companies have no given names.
func (n *Name) givenAt(contained *Name) int {
	if len(n.Tokens) < 2 || n.firm() || contained.firm() {
		return -1
	}
	if n.SurnameFirst {
		if contained.SurnameFirst && len(contained.Tokens)-contained.Surnames >= 2 {
			return n.Surnames
		}
		return -1
	}
	if len(contained.Tokens) >= 3 && !contained.SurnameFirst {
		return 0
	}
	return -1
}

func digit(c byte) bool { return c >= '0' && c <= '9' }

// genderPair tells the masculine and feminine forms of a Spanish given
// name apart: they differ in a final a against o, e, s or nothing
// (Antonio/Antonia, Andrés/Andrea, Daniel/Daniela).
func genderPair(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) < 3 {
		return false
	}
	if len(b) == len(a)+1 && b[:len(a)] == a && b[len(b)-1] == 'a' {
		return true
	}
	if len(a) == len(b) && a[:len(a)-1] == b[:len(b)-1] {
		x, y := a[len(a)-1], b[len(b)-1]
		return (x == 'a' && strings.IndexByte("oes", y) >= 0) || (y == 'a' && strings.IndexByte("oes", x) >= 0)
	}
	return false
}

// JaroWinkler is the Jaro-Winkler similarity of a and b (prefix scale 0.1,
// prefix up to 4), over bytes: tokens are ASCII after Fold for Latin
// names.
func JaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	window := max(la, lb)/2 - 1
	window = max(window, 0)
	var ma, mb [64]bool
	if la > 64 || lb > 64 {
		return 0
	}
	m := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb-1, i+window)
		for j := lo; j <= hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, k := 0, 0
	for i := 0; i < la; i++ {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			t++
		}
		k++
	}
	fm := float64(m)
	jaro := (fm/float64(la) + fm/float64(lb) + (fm-float64(t)/2)/fm) / 3
	p := 0
	for p < min(4, la, lb) && a[p] == b[p] {
		p++
	}
	return jaro + float64(p)*0.1*(1-jaro)
}

// Phonetic is a sound key for Spanish and English spellings of the same
// name: h is silent, v sounds as b, z and soft c as s, ll and y alike,
// soft g and j alike, qu and hard c as k, ph as f; doubled letters and
// vowels after the first letter drop. "Zambada" and "Sambada", "Hernández"
// and "Ernandes", "Villalobos" and "Biyalobos" share a key.
func Phonetic(tok string) string {
	s := []byte(tok)
	var out []byte
	emit := func(c byte) {
		if len(out) > 0 && out[len(out)-1] == c {
			return
		}
		out = append(out, c)
	}
	vowel := func(c byte) bool { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' }
	at := func(i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	first := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		var k byte
		switch c {
		case 'a', 'e', 'i', 'o', 'u':
			if first {
				k = 'a' // any leading vowel
			}
		case 'y':
			if vowel(at(i + 1)) {
				k = 'y'
			} else if first {
				k = 'a'
			}
		case 'h':
			// silent ("ch", "sh", "ph", "th" are handled at their first
			// letter), and a leading h leaves the vowel after it first
			continue
		case 'l':
			if at(i+1) == 'l' {
				k = 'y'
				i++
			} else {
				k = 'l'
			}
		case 'v', 'b', 'w':
			k = 'b'
		case 'z', 's':
			if c == 's' && at(i+1) == 'h' {
				k = 'x'
				i++
			} else {
				k = 's'
			}
		case 'c':
			switch n := at(i + 1); {
			case n == 'h':
				k = 'x'
				i++
			case n == 'e' || n == 'i' || n == 'y':
				k = 's'
			default:
				k = 'k'
			}
		case 'k', 'q':
			k = 'k'
			if c == 'q' && at(i+1) == 'u' {
				i++
			}
		case 'g':
			switch n := at(i + 1); {
			case n == 'e' || n == 'i':
				k = 'j'
			case n == 'u' && (at(i+2) == 'e' || at(i+2) == 'i'):
				k = 'g'
				i++
			default:
				k = 'g'
			}
		case 'j':
			k = 'j'
		case 'x':
			k = 'j' // Mexico/Mejico, Ximena/Jimena
		case 'p':
			if at(i+1) == 'h' {
				k = 'f'
				i++
			} else {
				k = 'p'
			}
		case 'n':
			if at(i+1) == 'b' || at(i+1) == 'v' {
				k = 'm'
			} else {
				k = 'n'
			}
		case 't':
			if at(i+1) == 'h' {
				i++
			}
			k = 't'
		default:
			k = c
		}
		first = false
		if k != 0 {
			emit(k)
		}
	}
	return string(out)
}

// joined pairs two neighbouring tokens of one name with one token of the
// other that is the two written together.
type joined struct {
	got, total float64
	exact      bool // only tokens written together letter for letter
}

// find looks in a for neighbours that b writes as one token, marks them
// in ua and ub, and adds their similarity; flip says a is the other name
// (for the explanation's sides).
func (m *joined) find(a, b *Name, wa, wb []float64, ua, ub *uint64, flip bool, parts *[]Part) {
	for k := 0; k+1 < len(a.Tokens) && k+1 < 64; k++ {
		x, y := a.Tokens[k], a.Tokens[k+1]
		if *ua&(3<<uint(k)) != 0 || len(x) < 2 || len(y) < 2 {
			continue
		}
		abjad := script(a, k) == ScriptAbjad && script(a, k+1) == ScriptAbjad
		for t := 0; t < len(b.Tokens) && t < 64; t++ {
			if *ub&(1<<uint(t)) != 0 {
				continue
			}
			sim := 0.0
			if abjad {
				// "عبد الله" (bd, lh) and "abdallah" (bdlh); the article
				// may be written on the Latin side ("abdulrahman").
				if script(b, t) != ScriptAbjad && abjadConcat(skel(a, k), skel(a, k+1), skel(b, t), false) {
					sim = 0.9
				}
			} else if script(b, t) == ScriptAbjad {
				// "abd" "rahim" and "عبدالرحيم" (bdlrhym).
				if abjadConcat(skel(a, k), skel(a, k+1), skel(b, t), true) {
					sim = 0.9
				}
			} else if m.exact {
				if w := b.Tokens[t]; len(w) == len(x)+len(y) && concat(w, x, y) {
					sim = 1
				}
			} else if w := b.Tokens[t]; len(w) == len(x)+len(y) && concat(w, x, y) {
				sim = 1
			}
			if sim == 0 {
				continue
			}
			*ua |= 3 << uint(k)
			*ub |= 1 << uint(t)
			wt := (max(wa[k], wa[k+1]) + wb[t]) / 2
			m.got += sim * wt
			m.total += wt
			if parts != nil {
				p := Part{Query: x + " " + y, Other: b.Tokens[t], How: HowJoined, Score: round3(sim), Weight: round3(wt)}
				if flip {
					p.Query, p.Other = p.Other, p.Query
				}
				*parts = append(*parts, p)
			}
			break
		}
	}
}

// concat reports whether whole is x and y written together, each of at
// least two letters (Latin tokens; abjadConcat joins consonant skeletons).
func concat(whole, x, y string) bool {
	return len(x) >= 2 && len(y) >= 2 && len(whole) == len(x)+len(y) && strings.HasPrefix(whole, x) && whole[len(x):] == y
}

// abjadConcat reports whether the skeletons x and y of two neighbouring
// words are together the skeleton whole of one word, when one side is in
// an abjad (wholeAbjad says which): "عبد الله" (bd, lH) and "abdallah"
// (bdlh); the article may be written on ("abdulrahman", bd-l-rhmn), and a
// consonant doubled across the join is written once ("saduddin", sd-dn).
func abjadConcat(x, y, whole string, wholeAbjad bool) bool {
	if x == "" || y == "" || len(whole) < 3 {
		return false
	}
	var buf [40]byte
	match := func(j []byte) bool {
		if wholeAbjad {
			return abjadMatch(whole, string(j))
		}
		return abjadMatch(string(j), whole)
	}
	if match([]byte(x)) || match([]byte(y)) {
		// One part is the whole word already ("يحيى حقانی", h and hkn,
		// against "haqqani"): the other is not in it.
		return false
	}
	j := append(append(buf[:0], x...), y...)
	if match(j) {
		return true
	}
	j = append(append(append(buf[:0], x...), 'l'), y...)
	return match(j)
}

// particlePrefixes are particles lists write onto the word that follows
// ("Delacruz", "Alharamain", "Vanderberg", "Binladen").
var particlePrefixes = []string{"dela", "delos", "delas", "del", "de", "la", "al", "el", "vander", "van", "von", "bin", "ibn", "abu", "mac", "mc", "don"}

// mayJoin reports whether one name has a token as long as two
// neighbouring tokens of the other together: the only way two of its
// words can be written as one in the other (Latin letters).
func mayJoin(a, b *Name) bool {
	return a.lens&b.pairLens != 0 || b.lens&a.pairLens != 0
}

// particlePrefixed reports whether tok may be a particle written onto a
// word of three letters or more.
func particlePrefixed(tok string) bool {
	for _, p := range particlePrefixes {
		if len(tok)-len(p) >= 3 && strings.HasPrefix(tok, p) {
			return true
		}
	}
	return false
}

// prefixed pairs an unpaired token of a that is a particle written onto
// an unpaired token of b.
func (m *joined) prefixed(a, b *Name, wa, wb []float64, ua, ub *uint64, flip bool, parts *[]Part) {
	for k := 0; k < len(a.Tokens) && k < 64; k++ {
		x := a.Tokens[k]
		if *ua&(1<<uint(k)) != 0 || a.prefixed&(1<<uint(k)) == 0 {
			continue
		}
		for _, p := range particlePrefixes {
			if !strings.HasPrefix(x, p) || len(x)-len(p) < 3 {
				continue
			}
			rest := x[len(p):]
			for t := 0; t < len(b.Tokens) && t < 64; t++ {
				y := b.Tokens[t]
				if *ub&(1<<uint(t)) != 0 || y[0] != rest[0] {
					continue
				}
				sim := 1.0
				if rest != y {
					if sim = JaroWinkler(rest, y); sim < 0.92 {
						continue
					}
					sim *= 0.97
				}
				sim *= 0.95
				*ua |= 1 << uint(k)
				*ub |= 1 << uint(t)
				wt := (wa[k] + wb[t]) / 2
				m.got += sim * wt
				m.total += wt
				if parts != nil {
					pt := Part{Query: x, Other: b.Tokens[t], How: HowJoined, Score: round3(sim), Weight: round3(wt)}
					if flip {
						pt.Query, pt.Other = pt.Other, pt.Query
					}
					*parts = append(*parts, pt)
				}
				goto next
			}
		}
	next:
	}
}
