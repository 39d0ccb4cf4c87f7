package names

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Pair is one labelled pair of the evaluation set.
type Pair struct {
	Same     bool
	A, B     string
	Category string
}

// ReadPairs reads label,name1,name2[,category] rows (a header row is
// skipped); label is 1 for the same person or company, 0 otherwise.
func ReadPairs(r io.Reader) ([]Pair, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var out []Pair
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if line == 1 && rec[0] == "label" {
			continue
		}
		if len(rec) < 3 {
			return nil, fmt.Errorf("line %d: want label,name1,name2", line)
		}
		l, err := strconv.Atoi(strings.TrimSpace(rec[0]))
		if err != nil || (l != 0 && l != 1) {
			return nil, fmt.Errorf("line %d: the label must be 0 or 1", line)
		}
		p := Pair{Same: l == 1, A: rec[1], B: rec[2]}
		if len(rec) > 3 {
			p.Category = rec[3]
		}
		out = append(out, p)
	}
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
		scores[i] = Compare(Parse(p.A), Parse(p.B), nil).Score
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
