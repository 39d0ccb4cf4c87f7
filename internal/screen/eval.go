package screen

import (
	"sort"

	"puente/internal/names"
)

// ListPairs draws labelled pairs from the lists, deterministically: each
// individual's primary name against its aliases that share a token with it
// (spelling and transliteration variants of one person: the same), and
// individuals who share a surname with another (relatives and namesakes:
// not the same). Aliases that share nothing with the name, such as "El
// Mayo" for Ismael Zambada García, are left out: no name comparison can
// find them, only the list's alias does.
func ListPairs(entries []Entry, max int) []names.Pair {
	var same, diff []names.Pair
	bySurname := map[string][]int{}
	for i, e := range entries {
		if e.Type != "individual" {
			continue
		}
		primary := names.Parse(e.Name)
		for _, alias := range e.Names[1:] {
			an := names.Parse(alias)
			if alias == e.Name || !shares(primary, an) || sameTokens(primary, an) || transliterated(an) {
				continue
			}
			same = append(same, names.Pair{Same: true, A: e.Name, B: alias, Category: "list alias (" + e.List + " " + e.ID + ")"})
		}
		if primary.SurnameFirst && primary.Surnames > 0 {
			s := primary.Tokens[0]
			bySurname[s] = append(bySurname[s], i)
		}
	}
	keys := make([]string, 0, len(bySurname))
	for k := range bySurname {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ids := bySurname[k]
		for a := 0; a+1 < len(ids) && a < 4; a++ {
			ea, eb := entries[ids[a]], entries[ids[a+1]]
			diff = append(diff, names.Pair{Same: false, A: ea.Name, B: eb.Name, Category: "list namesakes (" + ea.ID + ", " + eb.ID + ")"})
		}
	}
	pick := func(ps []names.Pair, n int) []names.Pair {
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
	return append(pick(same, max/2), pick(diff, max/2)...)
}

func shares(a, b names.Name) bool {
	for _, x := range a.Tokens {
		for _, y := range b.Tokens {
			if x == y && len(x) > 2 {
				return true
			}
		}
	}
	return false
}

func sameTokens(a, b names.Name) bool {
	if len(a.Tokens) != len(b.Tokens) {
		return false
	}
	m := map[string]int{}
	for _, t := range a.Tokens {
		m[t]++
	}
	for _, t := range b.Tokens {
		m[t]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

// transliterated reports whether n was written in another script than
// Latin.
func transliterated(n names.Name) bool {
	for _, s := range n.Scripts {
		if s != names.ScriptLatin {
			return true
		}
	}
	return false
}

// ScriptPairs draws labelled pairs in other scripts from the lists: each
// entry's name in its own script (the UN list gives them, mostly Arabic
// and Cyrillic) against its Latin name (the same), and against the Latin
// name of the next entry of its type that has one too (not the same).
func ScriptPairs(entries []Entry) []names.Pair {
	type orig struct {
		e    *Entry
		name string
	}
	var all []orig
	for i := range entries {
		e := &entries[i]
		for _, n := range e.Names[1:] {
			if transliterated(names.Parse(n)) {
				all = append(all, orig{e, n})
				break
			}
		}
	}
	var out []names.Pair
	for i, o := range all {
		out = append(out, names.Pair{Same: true, A: o.name, B: o.e.Name, Category: "list script (" + o.e.List + " " + o.e.ID + ")"})
		for k := 1; k < len(all); k++ {
			other := all[(i+k)%len(all)]
			if other.e.Type == o.e.Type && other.e.ID != o.e.ID {
				out = append(out, names.Pair{Same: false, A: o.name, B: other.e.Name, Category: "list script, another entry (" + o.e.ID + ", " + other.e.ID + ")"})
				break
			}
		}
	}
	return out
}
