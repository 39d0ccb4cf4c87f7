package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/cloudflare/circl/oprf"

	"puente/internal/match"
)

// MatchResult is "puente bench match"'s one JSON line.
type MatchResult struct {
	Subjects      int     `json:"partner_subjects"`
	FilterBytes   int     `json:"filter_bytes"`
	ImportS       float64 `json:"index_import_s"`
	PublishS      float64 `json:"filter_build_and_delivery_s"`
	Lookups       int     `json:"lookups"`
	KeysPerLookup int     `json:"keys_per_lookup"`
	P50ms         float64 `json:"lookup_p50_ms"`
	P99ms         float64 `json:"lookup_p99_ms"`
	FloorMS       float64 `json:"lookup_crypto_floor_ms"` // blind, evaluate, finalize of 5 keys on one core
	HeapMB        float64 `json:"heap_after_mb"`
	CPUs          int     `json:"cpus"`
	GoVersion     string  `json:"go"`
}

// Print writes the result as one JSON line.
func (r *MatchResult) Print(w io.Writer) error { return printJSON(w, r) }

// Match builds an index of n subjects on MX (one phone each), lets MX
// publish its filter to the US, then times blind lookups of five keys from
// the US end to end over the loopback link.
func Match(ctx context.Context, n, lookups int, log io.Writer, profile string) (*MatchResult, error) {
	logf := logger(log)
	p, done, err := startPair(ctx, "match", "")
	if err != nil {
		return nil, err
	}
	defer done()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	res := &MatchResult{Subjects: n, Lookups: lookups, KeysPerLookup: 5, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}

	logf("importing %d subjects into MX's index", n)
	t0 := time.Now()
	const batch = 5000
	for i := 0; i < n; i += batch {
		subs := make([]match.Subject, 0, batch)
		for j := i; j < min(n, i+batch); j++ {
			subs = append(subs, match.Subject{Ref: fmt.Sprint("s", j), Phone: fmt.Sprintf("+52 1%02d %03d %04d", j/10000000%100, j/10000%1000, j%10000)})
		}
		if _, err := match.Of(mx).Import(ctx, subs); err != nil {
			return nil, err
		}
	}
	res.ImportS = round(time.Since(t0).Seconds())
	logf("waiting for MX to build and deliver its filter")
	t1 := time.Now()
	for {
		u, err := match.Of(us).TodayUsage(ctx)
		if err != nil {
			return nil, err
		}
		done, err := match.Of(mx).Published(ctx)
		if err != nil {
			return nil, err
		}
		pending, err := mx.Link.Pending(ctx)
		if err != nil {
			return nil, err
		}
		if done && pending == 0 && u.PartnerKeys >= int64(n) {
			res.FilterBytes = int(u.PartnerKeys) * 8
			break
		}
		if time.Since(t1) > 30*time.Minute {
			return nil, fmt.Errorf("the filter never arrived")
		}
		time.Sleep(200 * time.Millisecond)
	}
	res.PublishS = round(time.Since(t1).Seconds())

	// Warm up: the first lookups load the filter into memory and pay for
	// the checkpointing of the import's write-ahead log.
	logf("warming up")
	for i := range 100 {
		if _, err := match.Of(us).Lookup(ctx, "bench", match.Subject{Phone: fmt.Sprintf("+52 199 %03d %04d", i, i)}); err != nil {
			return nil, err
		}
	}
	logf("timing %d lookups of 5 keys", lookups)
	stop, err := StartProfile(profile)
	if err != nil {
		return nil, err
	}
	defer stop()
	var lat []time.Duration
	hits := 0
	for i := range lookups {
		j := (i * 7919) % n
		// Five keys: phone, SSN, passport, and the two name-and-year keys
		// of a two-word name.
		sub := match.Subject{Name: "Prueba Lopez", DOB: "1980", SSN: fmt.Sprintf("123-45-%04d", 1000+i%8000), Passport: fmt.Sprintf("X%07d", i), PassportCountry: "MEX",
			Phone: fmt.Sprintf("+52 1%02d %03d %04d", j/10000000%100, j/10000%1000, j%10000)}
		t := time.Now()
		r, err := match.Of(us).Lookup(ctx, "bench", sub)
		if err != nil {
			return nil, err
		}
		if r.Keys != 5 {
			return nil, fmt.Errorf("a bench lookup has %d keys, not 5", r.Keys)
		}
		lat = append(lat, time.Since(t))
		if r.Hit {
			hits++
		}
	}
	if hits != lookups {
		return nil, fmt.Errorf("%d of %d lookups of indexed phones hit", hits, lookups)
	}
	res.P50ms = float64(quantile(lat, 0.5).Microseconds()) / 1e3
	res.P99ms = float64(quantile(lat, 0.99).Microseconds()) / 1e3

	// The crypto alone: blind, evaluate and finalize five keys.
	key, _ := oprf.GenerateKey(oprf.SuiteRistretto255, rand.Reader)
	srv := oprf.NewServer(oprf.SuiteRistretto255, key)
	cl := oprf.NewClient(oprf.SuiteRistretto255)
	in := [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e")}
	const rounds = 200
	t2 := time.Now()
	for range rounds {
		fin, req, _ := cl.Blind(in)
		ev, _ := srv.Evaluate(req)
		if _, err := cl.Finalize(fin, ev); err != nil {
			return nil, err
		}
	}
	res.FloorMS = float64(time.Since(t2).Microseconds()/rounds) / 1e3
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapMB = round(float64(ms.HeapInuse) / (1 << 20))
	return res, nil
}
