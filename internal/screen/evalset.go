package screen

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"puente/internal/names"
)

// KindPairs draws labelled pairs of each kind (names.Kinds) from the
// lists, deterministically. Same pairs are an entry's primary name against
// one of its own aliases (the list says they name one party); different
// pairs are names of two entries that share words (relatives, namesakes,
// companies with the same generic words, a person and a vessel). Each
// pair's Category names the entries it came from, so anyone can check it
// against the published list. perKind caps each kind's same and different
// pairs.
func KindPairs(entries []Entry, perKind int) []names.Pair {
	d := drawer{perKind: perKind, byKind: map[string][]names.Pair{}}
	d.aliases(entries)
	d.across(entries)
	d.scripts(entries)
	var out []names.Pair
	for _, k := range names.Kinds {
		ps := d.byKind[k]
		var same, diff []names.Pair
		for _, p := range ps {
			if p.Same {
				same = append(same, p)
			} else {
				diff = append(diff, p)
			}
		}
		out = append(out, spread(same, perKind)...)
		out = append(out, spread(diff, perKind)...)
	}
	return out
}

type drawer struct {
	perKind int
	byKind  map[string][]names.Pair
	seen    map[[2]string]bool
}

func (d *drawer) add(kind string, same bool, a, b *Entry, an, bn, why string) {
	if d.seen == nil {
		d.seen = map[[2]string]bool{}
	}
	k := [2]string{an, bn}
	if an > bn {
		k = [2]string{bn, an}
	}
	if d.seen[k] || names.Fold(an) == names.Fold(bn) {
		return
	}
	d.seen[k] = true
	src := fmt.Sprintf("%s %s %s", a.List, a.ID, why)
	if a != b {
		src = fmt.Sprintf("%s %s and %s %s, %s", a.List, a.ID, b.List, b.ID, why)
	}
	d.byKind[kind] = append(d.byKind[kind], names.Pair{Same: same, A: an, B: bn, Kind: kind, TypeA: names.TypeOf(a.Type), TypeB: names.TypeOf(b.Type), Category: src})
}

// words are a name's folded words, particles and all.
func words(s string) []string { return strings.Fields(names.Fold(s)) }

// particles are left out when the drawer counts the words two names share.
var particles = set("de", "del", "la", "las", "los", "y", "e", "el", "da", "dos", "al", "bin", "ibn", "the", "of", "and")

// sharedWords counts the words (particles aside) two names share.
func sharedWords(a, b []string) int {
	oa, _ := diff(a, b)
	n := 0
	for _, w := range a {
		if !particles[w] {
			n++
		}
	}
	for _, w := range oa {
		if !particles[w] {
			n--
		}
	}
	return n
}

// distinctive counts the words of ws that are neither particles, legal
// forms nor generic company words.
func distinctive(ws []string) int {
	n := 0
	for _, w := range ws {
		if !particles[w] && !legalWords[w] && !genericWords[w] {
			n++
		}
	}
	return n
}

// surnames returns the part before the comma of a "SURNAMES, Given" name.
func surnames(s string) string {
	before, after, ok := strings.Cut(s, ",")
	if !ok || strings.TrimSpace(after) == "" {
		return ""
	}
	return names.Fold(before)
}

// legalWords are the words of company legal forms, in the languages the
// lists use; the drawer uses them to tell a legal-form variant, on its
// own, from the matcher's table.
var legalWords = set("llc", "ltd", "limited", "co", "company", "corp", "corporation", "inc", "incorporated", "gmbh",
	"sa", "s", "a", "cv", "c", "v", "de", "rl", "r", "l", "srl", "sarl", "sas", "pjsc", "pao", "jsc", "ojsc", "cjsc", "oao", "zao",
	"ao", "ooo", "plc", "ag", "bv", "nv", "spa", "fze", "fzco", "fzc", "fz", "llp", "lp", "pte", "pvt", "pty", "sdn", "bhd",
	"joint", "stock", "public", "closed", "open", "liability", "obshchestvo", "ogranichennoi", "ogranichennoy",
	"otvetstvennostyu", "aktsionernoe", "publichnoe", "zakrytoe", "otkrytoe", "sociedad", "anonima", "capital",
	"variable", "responsabilidad", "limitada", "tov", "ltda", "kg", "the", "private", "societe", "anonyme", "sociedade",
	"sl", "ca", "cia", "compania", "compagnie", "gesellschaft", "mit", "beschrankter", "haftung", "tic", "sti", "as", "jsc")

// genericWords are company words that say what a firm does, not which one
// it is.
var genericWords = set("trading", "company", "group", "grupo", "international", "general", "industries", "industrial",
	"services", "import", "export", "commercial", "comercial", "holding", "holdings", "investment", "investments",
	"shipping", "petroleum", "oil", "gas", "bank", "banco", "exchange", "financial", "financiero", "technology",
	"engineering", "construction", "development", "enterprises", "enterprise", "marine", "maritime", "logistics",
	"energy", "foundation", "organization", "association", "network", "transport", "industry", "manufacturing",
	"tourism", "travel", "agency", "office", "center", "centre", "limited", "corporation", "global", "import-export")

func set(ws ...string) map[string]bool {
	m := map[string]bool{}
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// diff returns the words of a that b lacks and of b that a lacks.
func diff(a, b []string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for _, w := range a {
		count[w]++
	}
	for _, w := range b {
		count[w]--
	}
	for _, w := range a {
		if count[w] > 0 {
			onlyA = append(onlyA, w)
			count[w]--
		}
	}
	for w, c := range count {
		for ; c < 0; c++ {
			onlyB = append(onlyB, w)
		}
	}
	sort.Strings(onlyB)
	return onlyA, onlyB
}

func all(ws []string, in map[string]bool) bool {
	for _, w := range ws {
		if !in[w] {
			return false
		}
	}
	return len(ws) > 0
}

// numberWords are numbers written out, in English and Spanish.
var numberWords = set("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "first", "second",
	"third", "fourth", "fifth", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez",
	"primero", "segundo", "tercero", "no", "number", "numero")

// numeric reports whether every word of ws is a number, in digits or
// words, or holds a digit.
func numeric(ws []string) bool {
	for _, w := range ws {
		if !numberWords[w] && !strings.ContainsAny(w, "0123456789") {
			return false
		}
	}
	return true
}

func hasDigit(ws []string) bool {
	for _, w := range ws {
		if strings.ContainsAny(w, "0123456789") {
			return true
		}
	}
	return false
}

func nonLatin(s string) bool {
	for _, s := range names.Parse(s).Scripts {
		if s != names.ScriptLatin {
			return true
		}
	}
	return false
}

// aliases classifies each entry's aliases against its primary name.
func (d *drawer) aliases(entries []Entry) {
	for i := range entries {
		e := &entries[i]
		pw := words(e.Name)
		for _, alias := range e.Names[1:] {
			if nonLatin(alias) {
				continue // scripts() draws these
			}
			aw := words(alias)
			oa, ob := diff(pw, aw)
			if len(oa)+len(ob) == 0 {
				if !slices.Equal(pw, aw) && len(pw) >= 2 {
					d.add(names.KindPartial, true, e, e, e.Name, alias, "alias, reordered")
				}
				continue
			}
			shared := sharedWords(pw, aw)
			most := shared*2 >= max(len(pw), len(aw))
			indiv := e.Type == "individual"
			if !variant(pw, aw) && !all(append(oa, ob...), legalWords) && strings.Join(pw, "") != strings.Join(aw, "") && !initials(pw, aw) && !initials(aw, pw) {
				continue // another name altogether: only the list's alias finds it
			}
			switch {
			case strings.Join(pw, "") == strings.Join(aw, ""):
				d.add(names.KindJoined, true, e, e, e.Name, alias, "alias, written together or apart")
			case !indiv && all(append(oa, ob...), legalWords) && shared > 0:
				d.add(names.KindLegal, true, e, e, e.Name, alias, "alias, another legal form")
			case hasDigit(pw) || hasDigit(aw):
				if numeric(oa) && numeric(ob) {
					d.add(names.KindNumerals, true, e, e, e.Name, alias, "alias with a number")
				}
			case initials(pw, aw) || initials(aw, pw):
				d.add(names.KindInitials, true, e, e, e.Name, alias, "alias with initials")
			case indiv && shared >= 2 && (distinctive(oa) == 0 || distinctive(ob) == 0):
				d.add(names.KindPartial, true, e, e, e.Name, alias, "alias, part of the name")
			case indiv && shared >= 2 && surnames(e.Name) != "" && surnames(e.Name) == surnames(alias):
				d.add(names.KindNamesakes, true, e, e, e.Name, alias, "alias with the same surnames")
			case indiv && shared >= 2 && max(len(pw), len(aw)) >= 3:
				d.add(names.KindCoverage, true, e, e, e.Name, alias, "alias sharing two words")
			case !indiv && sharesGeneric(pw, aw) && distinctive(pw) > 0 && distinctive(oa)*2 <= distinctive(pw) && distinctive(ob)*2 <= distinctive(aw):
				d.add(names.KindGeneric, true, e, e, e.Name, alias, "alias sharing a generic word")
			case most && shared > 0:
				d.add(names.KindCrossType, true, e, e, e.Name, alias, "alias (typed)")
			}
		}
	}
}

// variant reports whether b is a way of writing a rather than another
// name: every word of one has a counterpart in the other (the same word,
// a close spelling or an initial), and the counterparts cover at least
// half of the longer name. A list alias that is a nom de guerre or gives
// another surname is not a variant: only the list's own alias finds it.
func variant(a, b []string) bool {
	a, b = content(a), content(b)
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	used := make([]bool, len(b))
	matched := 0
	for _, x := range a {
		for j, y := range b {
			if !used[j] && (x == y || names.JaroWinkler(x, y) >= 0.8 || (len(x) == 1 || len(y) == 1) && x[0] == y[0]) {
				used[j] = true
				matched++
				break
			}
		}
	}
	return (matched == len(a) || matched == len(b)) && matched*2 >= max(len(a), len(b))
}

// content drops particles.
func content(ws []string) []string {
	var out []string
	for _, w := range ws {
		if !particles[w] {
			out = append(out, w)
		}
	}
	return out
}

// initials reports whether a writes some of b's words as their initials
// (or as an acronym) and agrees with it otherwise.
func initials(a, b []string) bool {
	short := 0
	for _, w := range a {
		if len(w) == 1 {
			short++
		}
	}
	if short == 0 {
		if len(a) == 1 && len(a[0]) >= 3 && len(b) >= 3 {
			var acr strings.Builder
			for _, w := range b {
				if !legalWords[w] || len(w) > 2 {
					acr.WriteByte(w[0])
				}
			}
			return strings.Contains(acr.String(), a[0])
		}
		return false
	}
	for _, w := range a {
		found := false
		for _, x := range b {
			if x == w || (len(w) == 1 && x[0] == w[0]) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func sharesGeneric(a, b []string) bool {
	for _, w := range a {
		if genericWords[w] && slices.Contains(b, w) {
			return true
		}
	}
	return false
}

// across draws different pairs: names of two entries that share words.
func (d *drawer) across(entries []Entry) {
	byWord := map[string][]int{}
	for i := range entries {
		seen := map[string]bool{}
		for _, w := range words(entries[i].Name) {
			if len(w) >= 3 && !seen[w] {
				seen[w] = true
				byWord[w] = append(byWord[w], i)
			}
		}
	}
	keys := make([]string, 0, len(byWord))
	for k := range byWord {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, w := range keys {
		ids := byWord[w]
		if len(ids) > 40 {
			ids = ids[:40] // a very common word says little about a pair
		}
		for x := 0; x < len(ids); x++ {
			for y := x + 1; y < len(ids) && y < x+4; y++ {
				a, b := &entries[ids[x]], &entries[ids[y]]
				if a.ID == b.ID && a.List == b.List {
					continue
				}
				d.classifyAcross(a, b, w)
			}
		}
	}
}

func (d *drawer) classifyAcross(a, b *Entry, w string) {
	if a.List != b.List {
		return // the lists name many of the same parties
	}
	aw, bw := words(a.Name), words(b.Name)
	oa, ob := diff(aw, bw)
	shared := sharedWords(aw, bw)
	why := "share " + w
	switch {
	case (a.Type == "individual") != (b.Type == "individual") && shared == 1:
		if a.Type != "individual" {
			a, b = b, a
		}
		d.add(names.KindCrossType, false, a, b, a.Name, b.Name, "a person and a "+b.Type+" that "+why)
	case a.Type != b.Type:
	case a.Type == "individual" && shared >= 2 && surnames(a.Name) != "" && surnames(a.Name) == surnames(b.Name):
		d.add(names.KindNamesakes, false, a, b, a.Name, b.Name, "namesakes with the same surnames")
	case a.Type == "individual" && shared >= 2 && (distinctive(oa) == 0 || distinctive(ob) == 0):
		d.add(names.KindPartial, false, a, b, a.Name, b.Name, "one name inside another's")
	case a.Type == "individual" && initialsDiffer(aw, bw):
		d.add(names.KindInitials, false, a, b, a.Name, b.Name, "initials that do not agree")
	case a.Type != "individual" && shared >= 2 && hasLegal(aw) && hasLegal(bw) && distinctive(oa)+distinctive(ob) > 0:
		d.add(names.KindLegal, false, a, b, a.Name, b.Name, "same legal form, other names")
	case a.Type != "individual" && sharesGeneric(aw, bw) && distinctive(oa)+distinctive(ob) > 0:
		d.add(names.KindGeneric, false, a, b, a.Name, b.Name, "companies sharing generic words")
	case hasDigit(aw) && hasDigit(bw):
		d.add(names.KindNumerals, false, a, b, a.Name, b.Name, "names with numbers")
	case shared == 1 && (len(aw) >= 3 || len(bw) >= 3):
		d.add(names.KindCoverage, false, a, b, a.Name, b.Name, "one word shared")
	}
}

func hasLegal(ws []string) bool {
	for _, w := range ws {
		if legalWords[w] && len(w) > 1 && !particles[w] {
			return true
		}
	}
	return false
}

// initialsDiffer reports whether one name writes a given name as an
// initial that no word of the other begins with, the rest agreeing.
func initialsDiffer(a, b []string) bool {
	for _, x := range [2][2][]string{{a, b}, {b, a}} {
		p, q := x[0], x[1]
		for _, w := range p {
			if len(w) != 1 || particles[w] {
				continue
			}
			begins := false
			for _, v := range q {
				begins = begins || v[0] == w[0]
			}
			if !begins && sharedWords(p, q) >= 1 {
				return true
			}
		}
	}
	return false
}

// scripts draws each entry's name in its own script (the UN list gives
// them) against its Latin name (the same) and against the Latin name of
// another entry of its type sharing a word with its own Latin name (not
// the same).
func (d *drawer) scripts(entries []Entry) {
	type orig struct {
		e    *Entry
		name string
	}
	var all []orig
	byWord := map[string][]*Entry{}
	for i := range entries {
		e := &entries[i]
		for _, n := range e.Names[1:] {
			if nonLatin(n) {
				all = append(all, orig{e, n})
				break
			}
		}
		for _, w := range words(e.Name) {
			if len(w) >= 4 {
				byWord[w] = append(byWord[w], e)
			}
		}
	}
	for _, o := range all {
		d.add(names.KindScript, true, o.e, o.e, o.name, o.e.Name, "name in its own script")
	other:
		for _, w := range words(o.e.Name) {
			for _, x := range byWord[w] {
				if x != o.e && x.Type == o.e.Type && x.List == o.e.List {
					d.add(names.KindScript, false, o.e, x, o.name, x.Name, "own script against another entry sharing "+w)
					break other
				}
			}
		}
	}
}

// spread keeps n pairs spread evenly over ps.
func spread(ps []names.Pair, n int) []names.Pair {
	if len(ps) <= n {
		return ps
	}
	out := make([]names.Pair, 0, n)
	step := float64(len(ps)) / float64(n)
	for i := 0; i < n; i++ {
		out = append(out, ps[int(float64(i)*step)])
	}
	return out
}
