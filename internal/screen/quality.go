package screen

import (
	"math/rand/v2"
	"slices"
	"strings"

	"puente/internal/names"
)

// ScreenQuality is how screening does on two sets of queries: variant
// spellings of the Spanish-named people on the lists' counter-narcotics
// programmes, each of which should find its entry first, and names of
// the same make-up (common Mexican given names and surnames) that no list
// gives, none of which should be reported as a match.
type ScreenQuality struct {
	Listed     int     `json:"listed"`      // variant queries of listed people
	FoundFirst int     `json:"found_first"` // of those, found first (or tied for first)
	Clean      int     `json:"clean"`       // names no list gives
	FalseHits  int     `json:"false_hits"`  // of those, reported as a match of some entry
	Accuracy   float64 `json:"accuracy"`    // (found first + clean without a match) / all
	// Misses and Hits show a few of each error.
	Misses []string `json:"misses,omitempty"`
	Hits   []string `json:"hits,omitempty"`
}

// Common Mexican given names and surnames (RENAPO's and INEGI's most
// frequent, as published by the press), for names that look like the
// listed ones without being them.
var (
	commonGiven    = strings.Fields("José María Juan Guadalupe Francisco Antonio Jesús Alejandro Miguel Pedro Luis Carlos Jorge Manuel Ricardo Fernando Roberto Eduardo Javier Rafael Daniel Martín Sergio Arturo Raúl Ana Rosa Leticia Patricia Margarita Verónica Elizabeth Gabriela Alejandra Adriana Silvia Claudia Laura Teresa Carmen Juana Martha Yolanda Norma Araceli Sandra Lucía Alicia Sofía Mario Enrique")
	commonSurnames = strings.Fields("Hernández García Martínez López González Pérez Rodríguez Sánchez Ramírez Cruz Flores Gómez Morales Vázquez Reyes Jiménez Torres Díaz Gutiérrez Ruiz Mendoza Aguilar Ortiz Moreno Castillo Romero Álvarez Méndez Chávez Rivera Juárez Ramos Domínguez Herrera Medina Castro Vargas Guzmán Velázquez Muñoz Rojas Contreras Salazar Luna Ortega Guerrero Estrada Bautista Cortés Soto")
)

// accents writes the lists' unaccented Spanish names as a person would.
var accents = func() map[string]string {
	m := map[string]string{}
	for _, w := range append(append(strings.Fields("Joaquín Ramón Héctor Iván Rubén Raúl Ángel Andrés Óscar Martín Julián Sebastián Adrián Damián Germán Tomás Nicolás Inés Dámaso Félix Leyva Quintero Beltrán Cárdenas Guillén Treviño Zúñiga Ibáñez Núñez Peña Gálvez Márquez Benítez Fernández Suárez Báez Ríos Ávila Ochoa Félix"), commonGiven...), commonSurnames...) {
		m[names.Fold(w)] = w
	}
	return m
}()

// EvaluateScreening measures ScreenQuality with n queries of each set,
// drawn with a fixed seed from entries (which s screens).
func EvaluateScreening(s *Screener, entries []Entry, n int) ScreenQuality {
	rng := rand.New(rand.NewPCG(17, 2025))
	var people []*Entry
	known := map[string]bool{}
	for i := range entries {
		e := &entries[i]
		if e.Type != "individual" {
			continue
		}
		for _, nm := range e.Names {
			known[tokenSet(names.Parse(nm))] = true
		}
		p := names.Parse(e.Name)
		if p.SurnameFirst && p.Surnames >= 2 && len(p.Tokens) > p.Surnames && (strings.Contains(e.Info, "SDNTK") || strings.Contains(e.Info, "ILLICIT-DRUGS")) {
			people = append(people, e)
		}
	}
	var q ScreenQuality
	if len(people) == 0 {
		return q
	}
	for i := 0; i < n; i++ {
		e := people[rng.IntN(len(people))]
		text := writeAsPeople(names.Parse(e.Name), i, rng)
		year := 0
		if len(e.Years) > 0 {
			year = e.Years[0]
		}
		cs := s.Screen(Query{Type: "individual", Name: text, Year: year, Limit: 5})
		q.Listed++
		if FoundFirst(cs, e.List, e.ID) {
			q.FoundFirst++
		} else if len(q.Misses) < 10 {
			q.Misses = append(q.Misses, text+" (for "+e.List+" "+e.ID+" "+e.Name+")")
		}
	}
	for q.Clean < n {
		given := commonGiven[rng.IntN(len(commonGiven))]
		if rng.IntN(3) == 0 {
			given += " " + commonGiven[rng.IntN(len(commonGiven))]
		}
		text := given + " " + commonSurnames[rng.IntN(len(commonSurnames))] + " " + commonSurnames[rng.IntN(len(commonSurnames))]
		if known[tokenSet(names.Parse(text))] {
			continue // someone listed has this very name
		}
		q.Clean++
		cs := s.Screen(Query{Type: "individual", Name: text, Year: 1950 + rng.IntN(50), Limit: 5})
		if len(cs) > 0 && cs[0].Match {
			q.FalseHits++
			if len(q.Hits) < 10 {
				q.Hits = append(q.Hits, text+" → "+cs[0].List+" "+cs[0].ID+" "+cs[0].MatchedName)
			}
		}
	}
	q.Accuracy = float64(int(float64(q.FoundFirst+q.Clean-q.FalseHits)/float64(q.Listed+q.Clean)*1000)) / 1000
	return q
}

// writeAsPeople writes a listed name as people write it, one way in four:
// given names first with accents; one surname; a typo in the first
// surname; a nickname for the given name where the table has one, or
// surnames first without a comma.
func writeAsPeople(n names.Name, i int, rng *rand.Rand) string {
	sur, given := n.Tokens[:n.Surnames], n.Tokens[n.Surnames:]
	acc := func(ws []string) []string {
		out := make([]string, len(ws))
		for k, w := range ws {
			if a, ok := accents[w]; ok {
				out[k] = a
			} else {
				out[k] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
		return out
	}
	g, s := acc(given), acc(sur)
	switch i % 4 {
	case 0:
		return strings.Join(append(g, s...), " ")
	case 1:
		return strings.Join(append(g, s[0]), " ")
	case 2:
		s[0] = misspell(s[0], rng)
		return strings.Join(append(g, s...), " ")
	default:
		if nick := names.NicknameOf(given[0]); nick != "" {
			g[0] = nick
			return strings.Join(append(g, s...), " ")
		}
		return strings.Join(append(s, g...), " ")
	}
}

// misspell swaps two neighbouring inner letters or drops one.
func misspell(w string, rng *rand.Rand) string {
	r := []rune(w)
	if len(r) < 5 {
		return w
	}
	k := 1 + rng.IntN(len(r)-3)
	if rng.IntN(2) == 0 {
		r[k], r[k+1] = r[k+1], r[k]
		return string(r)
	}
	return string(append(r[:k:k], r[k+1:]...))
}

// FoundFirst reports whether the entry (list, id) ranks first among cs or
// ties with the first: the lists give many people twice (OFAC and the UN,
// or two OFAC entries), and of equal scores the name written as the query
// ranks first.
func FoundFirst(cs []Candidate, list, id string) bool {
	for _, c := range cs {
		if c.Score != cs[0].Score {
			break
		}
		if c.List == list && c.ID == id {
			return true
		}
	}
	return false
}

func tokenSet(n names.Name) string {
	t := slices.Clone(n.Tokens)
	slices.Sort(t)
	return strings.Join(t, " ")
}
