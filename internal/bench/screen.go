package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"puente/internal/names"
	"puente/internal/screen"
)

// ScreenResult is "puente bench screen"'s one JSON line.
type ScreenResult struct {
	Entries   int     `json:"entries"`
	Names     int     `json:"names"`
	Queries   int     `json:"queries"`
	QPS       float64 `json:"screen_qps"`
	P50ms     float64 `json:"screen_p50_ms"`
	P99ms     float64 `json:"screen_p99_ms"`
	Found     float64 `json:"found_rate"` // share of queries whose entry ranks first (or ties for first)
	LoadMS    float64 `json:"load_ms"`
	CPUs      int     `json:"cpus"`
	GoVersion string  `json:"go"`
}

// Print writes the result as one JSON line.
func (r *ScreenResult) Print(w io.Writer) error { return printJSON(w, r) }

// Screen times screening queries against the lists in dir on one core. The
// query mix is drawn from the listed individuals themselves: a quarter as
// written given name first, a quarter with the second surname dropped, a
// quarter with a typo in the surname, a quarter surname first without
// accents or commas.
func Screen(dir string, n int) (*ScreenResult, error) {
	t0 := time.Now()
	entries, err := screen.Load(dir)
	if err != nil {
		return nil, err
	}
	s := screen.New(entries)
	res := &ScreenResult{Entries: s.Len(), Names: s.Names(), CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	res.LoadMS = round(float64(time.Since(t0).Microseconds()) / 1e3)
	type q struct {
		text, list, id string
	}
	var people []screen.Entry
	for _, e := range entries {
		if e.Type == "individual" && strings.Contains(e.Name, ",") {
			people = append(people, e)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var qs []q
	for len(qs) < n {
		e := people[rng.IntN(len(people))]
		nm := names.Parse(e.Name)
		given, surnames := nm.Given()
		if len(given) == 0 || len(surnames) == 0 {
			continue
		}
		var text string
		switch len(qs) % 4 {
		case 0:
			text = strings.Join(append(append([]string{}, given...), surnames...), " ")
		case 1:
			text = strings.Join(append(append([]string{}, given...), surnames[0]), " ")
		case 2:
			sn := append([]string{}, surnames...)
			sn[0] = typo(sn[0], rng)
			text = strings.Join(append(append([]string{}, given...), sn...), " ")
		case 3:
			text = strings.Join(append(append([]string{}, surnames...), given...), " ")
		}
		qs = append(qs, q{text, e.List, e.ID})
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	lat := make([]time.Duration, 0, len(qs))
	found := 0
	start := time.Now()
	for _, x := range qs {
		t := time.Now()
		cs := s.Screen(screen.Query{Name: x.text, Limit: 10})
		lat = append(lat, time.Since(t))
		if screen.FoundFirst(cs, x.list, x.id) {
			found++
		}
	}
	el := time.Since(start)
	res.Queries = len(qs)
	res.QPS = round(float64(len(qs)) / el.Seconds())
	res.P50ms = float64(quantile(lat, 0.5).Microseconds()) / 1e3
	res.P99ms = float64(quantile(lat, 0.99).Microseconds()) / 1e3
	res.Found = float64(found*1000/len(qs)) / 1000
	if res.Queries == 0 {
		return nil, fmt.Errorf("no queries")
	}
	return res, nil
}

// typo deletes, doubles or swaps one inner letter.
func typo(s string, rng *rand.Rand) string {
	if len(s) < 4 {
		return s
	}
	i := 1 + rng.IntN(len(s)-2)
	switch rng.IntN(3) {
	case 0:
		return s[:i] + s[i+1:]
	case 1:
		return s[:i] + s[i:i+1] + s[i:]
	default:
		return s[:i] + s[i+1:i+2] + s[i:i+1] + s[i+2:]
	}
}
