package names

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Pair is one labelled pair of the evaluation set.
type Pair struct {
	Same bool
	A, B string
	// Kind is the kind of variant or trap the pair stands for (Kinds);
	// empty for pairs of the older hand-labelled set.
	Kind string
	// TypeA and TypeB are the entity types of A and B when known
	// (person, company, organization, vessel, aircraft).
	TypeA, TypeB string
	// Category says where the pair comes from: the list entries it was
	// drawn from, or a public source.
	Category string
}

// pairColumns are the columns of an evaluation file, in WritePairs' order.
var pairColumns = []string{"label", "name1", "name2", "kind", "type1", "type2", "source"}

// ReadPairs reads labelled pairs: label,name1,name2 then either category
// (the older hand-labelled set) or, when the header says so,
// kind,type1,type2,source. The label is 1 for the same person or company
// and 0 otherwise; a kind must be one of Kinds and a type one TypeOf
// reads.
func ReadPairs(r io.Reader) ([]Pair, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var out []Pair
	col := map[string]int{"category": 3}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if line == 1 && rec[0] == "label" {
			col = map[string]int{}
			for i, c := range rec {
				col[strings.TrimSpace(c)] = i
			}
			continue
		}
		if len(rec) < 3 {
			return nil, fmt.Errorf("line %d: want label,name1,name2", line)
		}
		l, err := strconv.Atoi(strings.TrimSpace(rec[0]))
		if err != nil || (l != 0 && l != 1) {
			return nil, fmt.Errorf("line %d: the label must be 0 or 1", line)
		}
		field := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := Pair{Same: l == 1, A: rec[1], B: rec[2], Kind: field("kind"), Category: field("category")}
		if p.Category == "" {
			p.Category = field("source")
		}
		if p.Kind != "" && !slices.Contains(Kinds, p.Kind) {
			return nil, fmt.Errorf("line %d: unknown kind %q (one of %s)", line, p.Kind, strings.Join(Kinds, ", "))
		}
		for _, t := range []struct {
			raw string
			to  *string
		}{{field("type1"), &p.TypeA}, {field("type2"), &p.TypeB}} {
			if t.raw == "" {
				continue
			}
			if *t.to = TypeOf(t.raw); *t.to == "" {
				return nil, fmt.Errorf("line %d: unknown entity type %q (person, company, organization, vessel or aircraft)", line, t.raw)
			}
		}
		out = append(out, p)
	}
}

// WritePairs writes pairs with a header, in the columns ReadPairs reads.
func WritePairs(w io.Writer, pairs []Pair) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(pairColumns); err != nil {
		return err
	}
	for _, p := range pairs {
		label := "0"
		if p.Same {
			label = "1"
		}
		if err := cw.Write([]string{label, p.A, p.B, p.Kind, p.TypeA, p.TypeB, p.Category}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Quality is precision, recall and F1 at one threshold.
type Quality struct {
	Threshold float64 `json:"threshold"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	TN        int     `json:"tn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// Evaluate scores every pair once and reports quality at each threshold.
// It also returns the pairs the default threshold gets wrong.
func Evaluate(pairs []Pair, thresholds []float64) ([]Quality, []Pair) {
	scores := make([]float64, len(pairs))
	var wrong []Pair
	for i, p := range pairs {
		scores[i] = Compare(ParseTyped(p.A, p.TypeA), ParseTyped(p.B, p.TypeB), nil).Score
		if (scores[i] >= DefaultThreshold) != p.Same {
			wrong = append(wrong, p)
		}
	}
	var out []Quality
	for _, t := range thresholds {
		q := Quality{Threshold: t}
		for i, p := range pairs {
			hit := scores[i] >= t
			switch {
			case hit && p.Same:
				q.TP++
			case hit && !p.Same:
				q.FP++
			case !hit && p.Same:
				q.FN++
			default:
				q.TN++
			}
		}
		if q.TP+q.FP > 0 {
			q.Precision = round3(float64(q.TP) / float64(q.TP+q.FP))
		}
		if q.TP+q.FN > 0 {
			q.Recall = round3(float64(q.TP) / float64(q.TP+q.FN))
		}
		if q.Precision+q.Recall > 0 {
			q.F1 = round3(2 * q.Precision * q.Recall / (q.Precision + q.Recall))
		}
		out = append(out, q)
	}
	return out, wrong
}

// EvalSet is the hand-labelled evaluation set: Spanish and English
// variants, particles, surname order, typos and transliterations that are
// the same person, and relatives, namesakes and near-names that are not.
//
//go:embed evalset.csv
var EvalSet string

// KindSet is the evaluation set by kind: pairs written by hand for each
// kind with their public sources (evaldata/hand.csv) and pairs drawn from
// the OFAC and UN lists by `puente names evalset` (evaldata/lists.csv).
//
//go:embed evaldata/hand.csv
var kindHand string

//go:embed evaldata/lists.csv
var kindLists string

// RecordedJSON is the held-back part's F1 by kind as last recorded
// (evaldata/recorded.json, written by `puente names eval --held-back
// --record`).
//
//go:embed evaldata/recorded.json
var RecordedJSON []byte

// KindSet returns every pair of the evaluation set: the older
// hand-labelled set (as KindVariants) and the pairs by kind.
func KindSet() ([]Pair, error) {
	var out []Pair
	for _, f := range []struct{ name, text string }{{"evalset.csv", EvalSet}, {"evaldata/hand.csv", kindHand}, {"evaldata/lists.csv", kindLists}} {
		ps, err := ReadPairs(strings.NewReader(f.text))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		for i := range ps {
			if ps[i].Kind == "" {
				ps[i].Kind = KindVariants
			}
		}
		out = append(out, ps...)
	}
	return out, nil
}

// HeldBack reports whether a pair belongs to the part of the evaluation
// set that tuning never looks at: a third of the pairs, chosen by a hash
// of the pair, so the split stays put as pairs are added.
func HeldBack(p Pair) bool {
	h := fnv.New32a()
	h.Write([]byte(p.Kind + "\x00" + p.A + "\x00" + p.B))
	return h.Sum32()%3 == 0
}

// Split returns the tuning part (heldBack false) or the held-back part of
// pairs.
func Split(pairs []Pair, heldBack bool) []Pair {
	var out []Pair
	for _, p := range pairs {
		if HeldBack(p) == heldBack {
			out = append(out, p)
		}
	}
	return out
}

// KindQuality is one kind's quality at one threshold.
type KindQuality struct {
	Kind  string `json:"kind"`
	Pairs int    `json:"pairs"`
	Same  int    `json:"same"`
	Quality
}

// ByKind reports the quality of each kind (in Kinds' order) and of all
// pairs together (Kind "all") at threshold t.
func ByKind(pairs []Pair, t float64) []KindQuality {
	groups := map[string][]Pair{}
	for _, p := range pairs {
		groups[p.Kind] = append(groups[p.Kind], p)
	}
	var out []KindQuality
	for _, k := range append(slices.Clone(Kinds), "all") {
		ps := groups[k]
		if k == "all" {
			ps = pairs
		}
		if len(ps) == 0 {
			continue
		}
		q, _ := Evaluate(ps, []float64{t})
		kq := KindQuality{Kind: k, Pairs: len(ps), Quality: q[0]}
		for _, p := range ps {
			if p.Same {
				kq.Same++
			}
		}
		out = append(out, kq)
	}
	return out
}

// The kinds of the evaluation set: what makes two names of one party look
// different (recall), and what makes names of two parties look alike
// (precision). Each kind has same and different pairs.
const (
	KindVariants  = "variants"      // spellings, accents, particles, surname order (the hand-labelled set)
	KindLegal     = "legal-form"    // S.A. de C.V. and Sociedad Anónima de Capital Variable
	KindJoined    = "joined"        // PetroleosMexicanos, Mc Donald
	KindInitials  = "initials"      // J.A. Pérez, acronyms
	KindNumerals  = "numerals"      // R0s4rio, 2nd and Second, Calle 5 and Calle Cinco
	KindScript    = "script"        // Cyrillic, Arabic, Chinese… against Latin
	KindNickname  = "nickname"      // Pepe and José, Bill and William
	KindPartial   = "partial"       // one surname, no patronymic, bin/ibn, reordered
	KindCrossType = "cross-type"    // a person against a vessel sharing a word
	KindCoverage  = "coverage"      // one word of a long name carrying the score
	KindNamesakes = "namesakes"     // both surnames shared, another given name
	KindGeneric   = "generic-words" // Trading Company and Pacific Trading Company
)

// Kinds lists the kinds in the order reports show them.
var Kinds = []string{KindVariants, KindLegal, KindJoined, KindInitials, KindNumerals, KindScript, KindNickname,
	KindPartial, KindCrossType, KindCoverage, KindNamesakes, KindGeneric}

// Entity types a comparison may be told.
const (
	TypePerson       = "person"
	TypeCompany      = "company"
	TypeOrganization = "organization"
	TypeVessel       = "vessel"
	TypeAircraft     = "aircraft"
)

// TypeOf reads an entity type as users and lists write it ("individual"
// and "person", "entity" and "company", "organisation"); "" when s is
// empty or unknown.
func TypeOf(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "person", "individual", "persona":
		return TypePerson
	case "company", "entity", "empresa":
		return TypeCompany
	case "organization", "organisation", "organizacion", "organización", "group":
		return TypeOrganization
	case "vessel", "ship", "buque":
		return TypeVessel
	case "aircraft", "aeronave":
		return TypeAircraft
	}
	return ""
}

// Recorded is the held-back part's F1 by kind at the default threshold,
// as `puente names eval --record` writes it: CI fails when a kind falls
// more than MaxDrop below it.
type Recorded struct {
	Threshold float64            `json:"threshold"`
	F1        map[string]float64 `json:"f1"`
}

// MaxDrop is how far a kind's held-back F1 may fall below the recorded
// value before CI fails.
const MaxDrop = 0.02

// Record measures what Recorded holds.
func Record(heldBack []Pair) Recorded {
	r := Recorded{Threshold: DefaultThreshold, F1: map[string]float64{}}
	for _, k := range ByKind(heldBack, DefaultThreshold) {
		r.F1[k.Kind] = k.F1
	}
	return r
}
