package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"puente/internal/extradition"
	"puente/internal/match"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// ExtraditionResult is "puente bench extradition"'s one JSON line.
type ExtraditionResult struct {
	Cases        int     `json:"open_cases"`
	SweepMs      float64 `json:"clock_sweep_ms"`          // the first sweep: every clock evaluated, the warnings due written
	SweepWarned  int     `json:"clock_sweep_warnings"`    // warnings and overdue flags it wrote
	SweepMaxHold float64 `json:"clock_sweep_max_hold_ms"` // the longest it held the store's writer
	ResweepMs    float64 `json:"clock_resweep_ms"`        // the next sweep: nothing new to write
	Targets      int     `json:"partner_targets"`
	Lookups      int     `json:"target_lookups"`
	LookupP50    float64 `json:"target_lookup_p50_ms"`
	LookupP99    float64 `json:"target_lookup_p99_ms"`
	CryptoFloor  float64 `json:"crypto_floor_envelopes_per_s"`
	CPUs         int     `json:"cpus"`
	GoVersion    string  `json:"go"`
}

// Print writes the result as one JSON line.
func (r *ExtraditionResult) Print(w io.Writer) error { return printJSON(w, r) }

// ExtraditionOptions size the run.
type ExtraditionOptions struct {
	Cases   int // open cases on MX when the clocks are swept
	Targets int // priority targets in the US's blind-matching index
	Lookups int // blind lookups timed
	Log     io.Writer
}

// Extradition times the two figures of the extradition area on a
// loopback pair: the clock sweep over Cases open cases (their clocks
// spread over the next 60 days and the last 10, as recording their
// stages would have left them), and a blind lookup of a person from MX
// against a US list of Targets priority targets.
func Extradition(ctx context.Context, o ExtraditionOptions) (*ExtraditionResult, error) {
	logf := logger(o.Log)
	p, done, err := startPair(ctx, "extradition", "")
	if err != nil {
		return nil, err
	}
	defer done()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	ctx = trustlog.WithActor(ctx, "system:bench")
	res := &ExtraditionResult{Cases: o.Cases, Targets: o.Targets, Lookups: o.Lookups, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), CryptoFloor: round(cryptoFloor(2000))}

	// 1. The open cases: written straight into the tables, as the stages
	// would have left them (a provisional arrest and the arrest, the
	// formal request's clock running).
	logf("writing %d open cases", o.Cases)
	today := time.Now().UTC()
	const batch = 2000
	for i := 0; i < o.Cases; i += batch {
		err := mx.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			for j := i; j < min(o.Cases, i+batch); j++ {
				arrested := today.AddDate(0, 0, -(j % 70))
				c := extradition.Case{ID: fmt.Sprintf("BENCHCASE%016d", j), Kind: extradition.KindExtradition, Requesting: "US", Requested: "MX", OpenedBy: "US", Agency: "DOJ-OIA",
					Person: extradition.Person{Name: fmt.Sprintf("Reclamado %d", j)}, Opened: arrested,
					Stages: []extradition.Stage{{Case: "", Stage: extradition.Arrested, Date: arrested.Format(time.DateOnly), Place: "CDMX", Side: "MX", Agency: "FGR", By: "bench", At: arrested}}}
				doc, err := json.Marshal(c)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO cases (id, kind, requesting, requested, current, closed, target, grp, updated_at, envelopes, doc) VALUES (?, ?, ?, ?, ?, 0, '', '', ?, '', ?)`,
					c.ID, c.Kind, c.Requesting, c.Requested, extradition.Arrested, store.Now(), string(doc)); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO case_clocks (case_id, term, party, due, stopped) VALUES (?, 'formal_request', 'US', ?, '')`,
					c.ID, arrested.AddDate(0, 0, 60).Format(time.DateOnly)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("writing bench cases: %w", err)
		}
	}
	svc := extradition.Of(mx)
	logf("sweeping")
	t0 := time.Now()
	sw, err := svc.Sweep(ctx)
	if err != nil {
		return nil, err
	}
	res.SweepMs = float64(time.Since(t0).Microseconds()) / 1e3
	res.SweepWarned, res.SweepMaxHold = sw.Warned+sw.Overdue, sw.MaxHoldMs
	logf("first sweep: %+v in %.1f ms", sw, res.SweepMs)
	t1 := time.Now()
	again, err := svc.Sweep(ctx)
	if err != nil {
		return nil, err
	}
	if again.Warned+again.Overdue != 0 {
		return nil, fmt.Errorf("the second sweep warned again: %+v", again)
	}
	res.ResweepMs = float64(time.Since(t1).Microseconds()) / 1e3

	// 2. The US's priority targets in its blind-matching index, as the
	// release of each puts it there.
	logf("indexing %d US targets", o.Targets)
	for i := 0; i < o.Targets; i += 5000 {
		subs := make([]match.Subject, 0, 5000)
		for j := i; j < min(o.Targets, i+5000); j++ {
			subs = append(subs, match.Subject{Ref: fmt.Sprintf("target:BENCH%08d", j), Source: "target", Name: fmt.Sprintf("Objetivo Prueba %d", j),
				DOB: fmt.Sprintf("19%02d-%02d-%02d", 50+j%50, 1+j%12, 1+j%28), Passport: fmt.Sprintf("T%08d", j), PassportCountry: "USA"})
		}
		if _, err := match.Of(us).Import(ctx, subs); err != nil {
			return nil, err
		}
	}
	logf("waiting for the US filter on MX")
	deadline := time.Now().Add(20 * time.Minute)
	for {
		u, err := match.Of(mx).TodayUsage(ctx)
		if err != nil {
			return nil, err
		}
		done, err := match.Of(us).Published(ctx)
		if err != nil {
			return nil, err
		}
		if done && u.PartnerKeys >= int64(o.Targets) {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the US filter never arrived")
		}
		time.Sleep(200 * time.Millisecond)
	}
	var lat []time.Duration
	for i := range o.Lookups + 20 {
		j := (i * 7919) % o.Targets
		sub := match.Subject{Name: fmt.Sprintf("Objetivo Prueba %d", j), DOB: fmt.Sprintf("19%02d-%02d-%02d", 50+j%50, 1+j%12, 1+j%28), Passport: fmt.Sprintf("T%08d", j), PassportCountry: "USA"}
		t := time.Now()
		r, err := match.Of(mx).Lookup(ctx, "bench", sub)
		if err != nil {
			return nil, err
		}
		if !r.Hit {
			return nil, fmt.Errorf("the lookup of target %d did not hit", j)
		}
		if i >= 20 { // the first warm the caches
			lat = append(lat, time.Since(t))
		}
	}
	res.LookupP50 = float64(quantile(lat, 0.5).Microseconds()) / 1e3
	res.LookupP99 = float64(quantile(lat, 0.99).Microseconds()) / 1e3
	return res, nil
}
