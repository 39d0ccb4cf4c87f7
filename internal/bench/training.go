package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/extradition"
	"puente/internal/operations"
	"puente/internal/seizures"
	"puente/internal/store"
	"puente/internal/traces"
	"puente/internal/training"
	"puente/internal/trustlog"
)

// TrainingResult is "puente bench training"'s one JSON line.
type TrainingResult struct {
	Facts          int            `json:"facts"`
	ByArea         map[string]int `json:"facts_by_area"`
	Runs           int            `json:"scorecard_runs"`
	ColdMs         float64        `json:"scorecard_first_ms"`
	P50Ms          float64        `json:"scorecard_p50_ms"`
	P95Ms          float64        `json:"scorecard_ms"` // p95, with traffic between scorecards
	SlowestArea    string         `json:"slowest_area"`
	SlowestAreaMs  float64        `json:"slowest_area_ms"`
	Verified       int            `json:"certificates_verified"`
	VerifyPerS     float64        `json:"certificate_verify_per_s"` // one goroutine
	CryptoFloor    float64        `json:"crypto_floor_envelopes_per_s"`
	CPUs           int            `json:"cpus"`
	GoVersion      string         `json:"go"`
	VerifyPerFloor float64        `json:"verify_per_crypto_floor"`
}

// Print writes the result as one JSON line.
func (r *TrainingResult) Print(w io.Writer) error { return printJSON(w, r) }

// TrainingOptions size the run.
type TrainingOptions struct {
	Facts    int // about this many facts over a year, across the areas
	Runs     int // scorecards timed
	Verifies int // certificates verified
	Log      io.Writer
}

// Training times the two figures of issue 16 on one node of a loopback
// pair: the scorecard (every area's reciprocity table, as an auditor
// asks for it) over a year of traffic written straight into the tables
// as the areas would have left them, and the offline verification of a
// certificate signed by the node's key.
func Training(ctx context.Context, o TrainingOptions) (*TrainingResult, error) {
	logf := logger(o.Log)
	p, done, err := startPair(ctx, "training", "")
	if err != nil {
		return nil, err
	}
	defer done()
	mx := p.Nodes["MX"]
	ctx = trustlog.WithActor(ctx, "system:bench")
	res := &TrainingResult{Runs: o.Runs, ByArea: map[string]int{}, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), CryptoFloor: round(cryptoFloor(2000))}

	// The year's facts, in the proportions a year might hold: seizures
	// most, then disclosures and traces, training nominations, few
	// operations, targets and cases.
	share := func(pct int) int { return o.Facts * pct / 100 }
	now := time.Now().UTC()
	day := func(i, n int) time.Time {
		return now.Add(-time.Duration(i%n) * 365 * 24 * time.Hour / time.Duration(n))
	}
	side := func(i int) (string, string) {
		if i%2 == 0 {
			return "MX", "US"
		}
		return "US", "MX"
	}
	write := func(name string, n int, insert func(ctx context.Context, tx *store.Tx, i int) error) error {
		logf("writing %d %s", n, name)
		const batch = 2000
		for i := 0; i < n; i += batch {
			if err := mx.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				for j := i; j < min(n, i+batch); j++ {
					if err := insert(ctx, tx, j); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return fmt.Errorf("writing %s: %w", name, err)
			}
		}
		res.ByArea[name] += n
		res.Facts += n
		return nil
	}
	doc := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	// Seizures: the released ones of both sides, in the totals the area
	// keeps as it writes (one row per side, month, pair, metric).
	nSeiz := share(35)
	totals := map[[4]string]int64{}
	for i := range nSeiz {
		s, _ := side(i)
		m := day(i, nSeiz).Format("2006-01")
		totals[[4]string{s, m, seizures.MetricSeizures, ""}]++
		totals[[4]string{s, m, seizures.MetricDrugG, seizures.Drugs[i%len(seizures.Drugs)]}] += int64(1000 + i%5000)
		totals[[4]string{s, m, seizures.MetricFirearms, "rifle"}] += int64(i % 3)
	}
	keys := make([][4]string, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	if err := write("seizures_totals_rows", len(keys), func(ctx context.Context, tx *store.Tx, i int) error {
		k := keys[i]
		_, err := tx.Exec(ctx, `INSERT INTO seizure_totals (scope, side, month, pair, metric, category, value) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			seizures.ScopeShared, k[0], k[1], "tca-son", k[2], k[3], totals[k])
		return err
	}); err != nil {
		return nil, err
	}
	delete(res.ByArea, "seizures_totals_rows")
	res.Facts -= len(keys)
	res.ByArea["seizures"] = nSeiz
	res.Facts += nSeiz

	// Disclosures released both ways, with consents and a few recalls.
	nDisc := share(20)
	if err := write("disclosures", nDisc, func(ctx context.Context, tx *store.Tx, i int) error {
		o, _ := side(i)
		at := day(i, nDisc).UnixMilli()
		var recalled int64
		if i%50 == 0 {
			recalled = at + 1000
		}
		_, err := tx.Exec(ctx, `INSERT INTO disclosures (id, origin, from_agency, to_agency, status, title, caveats, content, created_by, created_at, updated_at,
			released_by, released_at, local_agencies, recalled_at) VALUES (?, ?, 'UIF', 'FinCEN', 'released', 'bench', '{}', '{}', 'bench', ?, ?, 'bench', ?, '[]', ?)`,
			fmt.Sprintf("BENCHDISC%016d", i), o, at, at, at, recalled)
		return err
	}); err != nil {
		return nil, err
	}

	// Firearm traces from MX to the US, most completed.
	nTr := share(20)
	if err := write("traces", nTr, func(ctx context.Context, tx *store.Tx, i int) error {
		sub := day(i, nTr)
		t := traces.Trace{ID: fmt.Sprintf("BENCHTRACE%016d", i), Origin: "MX", Tracer: "US", Status: traces.StatusCompleted, Priority: traces.Routine, CrimeCode: "firearms_trafficking",
			Agency: []string{"FGR", "SSP-SON", "GN"}[i%3], Firearm: traces.Firearm{Serial: fmt.Sprintf("B%07d", i), Manufacturer: "Colt", Type: "rifle", Country: "US"},
			Recovery: traces.Recovery{Date: sub.Format(time.DateOnly), Place: "Sonora"}, SubmittedAt: sub, Due: sub.AddDate(0, 0, 10), AnsweredAt: sub.AddDate(0, 0, 1+i%12),
			Result: &traces.Result{Source: "Colt", Dealer: &traces.Dealer{Licence: fmt.Sprintf("9-86-%d", i%200), Name: "Dealer", City: "Tucson", State: "AZ"}, TimeToCrimeDays: 200 + i%2000}}
		if i%7 == 0 {
			t.Status, t.Result = traces.StatusNotCompleted, nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO traces (id, origin, status, agency, gun, submitted_at, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Origin, t.Status, t.Agency, t.Firearm.Key(), sub.UnixMilli(), store.Now(), doc(t))
		return err
	}); err != nil {
		return nil, err
	}

	// Training: offers of both sides with ten nominations each (a
	// nomination, its vetting, attendance and result are its facts).
	nNom := share(20)
	nOff := max(1, nNom/10)
	if err := write("training_offers", nOff, func(ctx context.Context, tx *store.Tx, i int) error {
		o, n := side(i)
		start := day(i, nOff)
		off := training.Offer{ID: fmt.Sprintf("BENCHOFFER%016d", i), Origin: o, Nominee: n, Status: training.StatusCompleted, Title: "bench", Type: training.TypeCourse,
			Subject: training.Subjects[i%len(training.Subjects)], Language: "es_en", Place: "x", Start: start.Format(time.DateOnly), End: start.AddDate(0, 0, 2).Format(time.DateOnly),
			Seats: 12, Hours: 24, Vetting: true, VettingDays: 30, PublishedAt: start.AddDate(0, 0, -40)}
		for j := range 10 {
			nom := &training.Nomination{ID: fmt.Sprintf("BENCHNOM%08d%02d", i, j), Participant: training.Participant{Name: "P", Agency: "FGR"}, Status: training.NomConfirmed,
				NominatedAt: start.AddDate(0, 0, -35), VettingDue: start.AddDate(0, 0, -5), Vetting: &training.Vetting{Status: training.VetApproved, At: start.AddDate(0, 0, -20)},
				Result: training.ResultPassed, Hours: 24}
			if j == 9 {
				nom.Status, nom.Vetting.Status, nom.Result, nom.Hours = training.NomNominated, training.VetDenied, "", 0
			}
			off.Nominations = append(off.Nominations, nom)
		}
		_, err := tx.Exec(ctx, `INSERT INTO training_offers (id, origin, status, start_day, published_at, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			off.ID, off.Origin, off.Status, off.Start, off.PublishedAt.UnixMilli(), store.Now(), doc(off))
		return err
	}); err != nil {
		return nil, err
	}
	delete(res.ByArea, "training_offers")
	res.Facts += nOff*10 - nOff
	res.ByArea["training_nominations"] = nOff * 10

	// Mirror operations, priority targets.
	nOps := share(3)
	if err := write("operations", nOps, func(ctx context.Context, tx *store.Tx, i int) error {
		o, _ := side(i)
		st := day(i, nOps)
		op := operations.Operation{ID: fmt.Sprintf("BENCHOP%016d", i), Origin: o, Kind: operations.Mirror, Status: operations.StatusReported, Title: "bench", Pair: "tca-son",
			Start: st, End: st.Add(6 * time.Hour), ReleasedAt: st.Add(-48 * time.Hour), AnswerDue: st.Add(-24 * time.Hour), AnsweredAt: st.Add(-30 * time.Hour), Sides: map[string]*operations.Side{}}
		_, err := tx.Exec(ctx, `INSERT INTO operations (id, origin, kind, status, pair, starts_at, ends_at, local_agencies, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)`,
			op.ID, op.Origin, op.Kind, op.Status, op.Pair, op.Start.UnixMilli(), op.End.UnixMilli(), store.Now(), doc(op))
		return err
	}); err != nil {
		return nil, err
	}
	nTg := share(2)
	if err := write("targets", nTg, func(ctx context.Context, tx *store.Tx, i int) error {
		o, _ := side(i)
		stage := extradition.StageReleased
		if o == "US" {
			stage = extradition.StageReceived
		}
		tg := extradition.Target{ID: fmt.Sprintf("BENCHTG%016d", i), Origin: o, Agency: "FGR", Name: fmt.Sprintf("Objetivo %d", i), Status: extradition.AtLarge, Stage: stage,
			ReleasedAt: day(i, nTg)}
		_, err := tx.Exec(ctx, `INSERT INTO targets (id, origin, stage, status, agency, name, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			tg.ID, tg.Origin, tg.Stage, tg.Status, tg.Agency, tg.Name, store.Now(), doc(tg))
		return err
	}); err != nil {
		return nil, err
	}

	// The scorecard, as an auditor asks for it.
	aud, err := mx.Auth.Create(ctx, auth.NewUser{Username: "bench-auditor", DisplayName: "bench", Role: auth.Auditor, Agency: "SRE", Password: "bench-password-123"})
	if err != nil {
		return nil, err
	}
	logf("timing %d scorecards over %d facts", o.Runs, res.Facts)
	// Traffic goes on between scorecards: before each, ten traces and two
	// offers change (their documents are decoded again).
	var ms []float64
	for i := range o.Runs + 1 {
		if i > 0 {
			if err := mx.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				for j := range 10 {
					if _, err := tx.Exec(ctx, `UPDATE traces SET updated_at = updated_at + 1 WHERE id = ?`, fmt.Sprintf("BENCHTRACE%016d", (i*10+j)%nTr)); err != nil {
						return err
					}
				}
				for j := range 2 {
					if _, err := tx.Exec(ctx, `UPDATE training_offers SET updated_at = updated_at + 1 WHERE id = ?`, fmt.Sprintf("BENCHOFFER%016d", (i*2+j)%nOff)); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return nil, err
			}
		}
		t0 := time.Now()
		tables, err := area.Reciprocity(ctx, mx, aud)
		if err != nil {
			return nil, err
		}
		if len(tables) < 6 {
			return nil, fmt.Errorf("the scorecard has %d tables", len(tables))
		}
		d := float64(time.Since(t0).Microseconds()) / 1000
		if i == 0 {
			res.ColdMs = round(d)
			continue
		}
		ms = append(ms, d)
	}
	slices.Sort(ms)
	res.P50Ms, res.P95Ms = round(ms[len(ms)/2]), round(ms[min(len(ms)-1, len(ms)*95/100)])
	for _, a := range mx.Areas() {
		f, ok := a.(area.Figures)
		if !ok {
			continue
		}
		t0 := time.Now()
		if _, err := f.Reciprocity(ctx, aud); err != nil {
			return nil, err
		}
		d := float64(time.Since(t0).Microseconds()) / 1000
		logf("%s: %.1f ms", a.Name(), d)
		if d > res.SlowestAreaMs {
			res.SlowestArea, res.SlowestAreaMs = a.Name(), round(d)
		}
	}

	// Offline verification of a certificate, one goroutine.
	certKeys, err := training.KeysOf(mx.Agreement)
	if err != nil {
		return nil, err
	}
	c := &training.Certificate{ID: "BENCHCERTIFICATE0000000000", Agreement: mx.Agreement.HashHex(), Issuer: "MX", IssuedAt: now.Truncate(time.Second),
		Course:      training.CertCourse{ID: "BENCHOFFER", Title: "Operaciones fronterizas", Type: training.TypeCourse, Subject: "border_operations", Agency: "GN", Place: "Nogales", Start: "2026-03-02", End: "2026-03-06", Hours: 32},
		Participant: training.CertPerson{Nomination: "BENCHNOM", Name: "Kevin O'Brien", Rank: "CBP Officer", Unit: "Port of Nogales", Agency: "CBP", IDDigest: training.IDDigest("BENCHCERTIFICATE0000000000", "passport", "USA:A40211501")},
		Result:      training.ResultPassed, Hours: 32, Instructors: []training.Instructor{{Name: "Cmte. Alberto Fuentes", Agency: "GN"}}}
	raw, err := training.Sign(mx.Identity, c)
	if err != nil {
		return nil, err
	}
	logf("verifying %d certificates", o.Verifies)
	t0 := time.Now()
	for range o.Verifies {
		v, err := training.VerifyCertificate(raw, certKeys)
		if err != nil || len(v.Problems) > 0 {
			return nil, fmt.Errorf("the bench certificate does not verify: %v %v", err, v.Problems)
		}
	}
	res.Verified = o.Verifies
	res.VerifyPerS = round(float64(o.Verifies) / time.Since(t0).Seconds())
	res.VerifyPerFloor = round(res.VerifyPerS / res.CryptoFloor)
	return res, nil
}
