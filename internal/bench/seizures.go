package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"puente/internal/auth"
	"puente/internal/live"
	"puente/internal/traces"
	"puente/internal/trustlog"
)

// SeizuresResult is "puente bench seizures"'s one JSON line.
type SeizuresResult struct {
	CSVRows       int     `json:"seizure_csv_rows"`
	CSVRowsPerS   float64 `json:"seizure_csv_rows_per_s"`
	CSVPeakHeapMB float64 `json:"seizure_csv_peak_heap_mb"` // the node's heap (the bench runs it in-process)
	Items         int     `json:"dashboard_items"`
	DashboardP50  float64 `json:"dashboard_p50_ms"`
	DashboardP95  float64 `json:"dashboard_ms"` // p95 of GET /seizures/dashboard?scope=all
	Traces        int     `json:"trace_roundtrips"`
	TraceP50      float64 `json:"trace_roundtrip_p50_ms"`
	TraceP95      float64 `json:"trace_roundtrip_p95_ms"`
	CryptoFloor   float64 `json:"crypto_floor_envelopes_per_s"`
	CPUs          int     `json:"cpus"`
	GoVersion     string  `json:"go"`
}

// Print writes the result as one JSON line.
func (r *SeizuresResult) Print(w io.Writer) error { return printJSON(w, r) }

// SeizuresOptions size the run.
type SeizuresOptions struct {
	Rows   int // rows of the timed CSV import
	Items  int // seizure items on the node when the dashboard is timed
	Traces int // trace round trips
	Log    io.Writer
}

// Seizures times the three figures of the seizures and traces areas on a
// loopback pair: a CSV import of Rows seizures into the running MX node
// (rows per second, and the heap's peak meanwhile); the seizures
// dashboard with Items seizure items on the node; and a trace result
// posted on the US until MX has applied it.
func Seizures(ctx context.Context, o SeizuresOptions) (*SeizuresResult, error) {
	logf := logger(o.Log)
	p, done, err := startPair(ctx, "seizures", "")
	if err != nil {
		return nil, err
	}
	defer done()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	ctx = trustlog.WithActor(ctx, "system:bench")
	res := &SeizuresResult{CSVRows: o.Rows, Traces: o.Traces, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), CryptoFloor: round(cryptoFloor(2000))}
	mk := func(n interface {
		Create(context.Context, auth.NewUser) (*auth.User, error)
	}, name string, role auth.Role, agency string) (*auth.User, error) {
		return n.Create(ctx, auth.NewUser{Username: name, DisplayName: name, Role: role, Agency: agency, Password: "bench-password-123"})
	}
	gn, err := mk(mx.Auth, "bench-gn", auth.Coordinator, "GN")
	if err != nil {
		return nil, err
	}
	poli, err := mk(mx.Auth, "bench-poli", auth.Coordinator, "SSP-SON")
	if err != nil {
		return nil, err
	}
	fgr, err := mk(mx.Auth, "bench-fgr", auth.Legal, "FGR")
	if err != nil {
		return nil, err
	}
	atf, err := mk(us.Auth, "bench-atf", auth.Coordinator, "ATF")
	if err != nil {
		return nil, err
	}
	_, tok, err := mx.Auth.NewToken(ctx, gn.ID, "bench")
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 10 * time.Minute}
	imp := func(rows, offset int) (time.Duration, error) {
		body := csvRows(rows, offset)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL("MX")+"/api/v1/seizures/import", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "text/csv")
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return 0, fmt.Errorf("import: %s %s", resp.Status, raw)
		}
		return time.Since(start), nil
	}

	// 1. The timed import, with the heap sampled meanwhile.
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
			}
		}
	}()
	d, err := imp(o.Rows, 0)
	close(stop)
	if err != nil {
		return nil, err
	}
	res.CSVRowsPerS = round(float64(o.Rows) / d.Seconds())
	res.CSVPeakHeapMB = round(float64(peak.Load()) / (1 << 20))
	logf("imported %d rows in %s", o.Rows, d)

	// 2. The dashboard, once the node holds Items items.
	for have := o.Rows; have < o.Items; have += o.Rows {
		if _, err := imp(min(o.Rows, o.Items-have), have); err != nil {
			return nil, err
		}
		logf("%d items on the node", min(have+o.Rows, o.Items))
	}
	res.Items = max(o.Items, o.Rows)
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar, Timeout: time.Minute}
	form := url.Values{"username": {"bench-gn"}, "password": {"bench-password-123"}}
	lreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL("MX")+"/login", strings.NewReader(form.Encode()))
	lreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	lreq.Header.Set("Origin", p.URL("MX"))
	lresp, err := web.Do(lreq)
	if err != nil {
		return nil, err
	}
	lresp.Body.Close()
	var ms []float64
	for i := range 60 {
		start := time.Now()
		resp, err := web.Get(p.URL("MX") + "/seizures/dashboard?scope=all")
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`svg class="chart"`)) {
			return nil, fmt.Errorf("dashboard: %s", resp.Status)
		}
		if i >= 10 { // the first ten warm the caches
			ms = append(ms, float64(time.Since(start).Microseconds())/1000)
		}
	}
	slices.Sort(ms)
	res.DashboardP50, res.DashboardP95 = round(ms[len(ms)/2]), round(ms[len(ms)*95/100])

	// 3. Trace round trips: a result posted on the US until MX applied it.
	mxTr, usTr := traces.Of(mx), traces.Of(us)
	events, _, unsub := mx.Hub.Subscribe()
	defer unsub()
	var rt []float64
	rec := time.Now().UTC().AddDate(0, 0, -3).Format("2006-01-02")
	for i := range o.Traces {
		t, _, err := mxTr.Prepare(ctx, poli, traces.Trace{Priority: traces.Routine, CrimeCode: "firearms_trafficking", Officer: "bench", Case: fmt.Sprintf("B-%d", i),
			Firearm:  traces.Firearm{Serial: fmt.Sprintf("BN%06d", i), Manufacturer: "Colt", Model: "M4 Carbine", Type: "rifle", Calibre: "5.56x45", Country: "US"},
			Recovery: traces.Recovery{Date: rec, Place: "Caborca"}})
		if err != nil {
			return nil, err
		}
		if _, err := mxTr.Submit(ctx, fgr, t.ID); err != nil {
			return nil, err
		}
		if err := waitUntil(30*time.Second, func() bool { _, err := usTr.Get(ctx, atf, t.ID); return err == nil }); err != nil {
			return nil, fmt.Errorf("trace %d did not reach the US: %w", i, err)
		}
		for _, up := range []traces.Update{{Step: traces.StepAccept}, {Step: traces.StepProgress, Stage: "dealer"}} {
			if _, err := usTr.Step(ctx, atf, t.ID, up); err != nil {
				return nil, err
			}
		}
		if err := waitUntil(30*time.Second, func() bool {
			x, err := mxTr.Get(ctx, fgr, t.ID)
			return err == nil && x.Status == traces.StatusInProgress
		}); err != nil {
			return nil, err
		}
		drain(events)
		start := time.Now()
		if _, err := usTr.Step(ctx, atf, t.ID, traces.Update{Step: traces.StepComplete, Result: &traces.Result{Source: "Colt",
			Dealer: &traces.Dealer{Licence: "9-86-1", Name: "Bench Arms", City: "Tucson", State: "AZ"}, Purchaser: traces.Possessor{Name: "Straw"}, Purchase: "2025-01-02"}}); err != nil {
			return nil, err
		}
		if err := waitEvent(events, traces.Name, t.ID, 30*time.Second); err != nil {
			return nil, err
		}
		rt = append(rt, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(rt)
	if len(rt) > 0 {
		res.TraceP50, res.TraceP95 = round(rt[len(rt)/2]), round(rt[len(rt)*95/100])
	}
	return res, nil
}

// drain empties an event channel.
func drain(events <-chan live.Event) {
	for {
		select {
		case <-events:
		default:
			return
		}
	}
}

// waitEvent waits for the event topic/key on events.
func waitEvent(events <-chan live.Event, topic, key string, limit time.Duration) error {
	deadline := time.After(limit)
	for {
		select {
		case e := <-events:
			if e.Topic == topic && e.Key == key {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("no %s event for %s within %s", topic, key, limit)
		}
	}
}

// csvRows is a seizure CSV of n rows, one seizure of one item each,
// across the sector pairs and twelve months; offset varies the serials.
func csvRows(n, offset int) []byte {
	var b bytes.Buffer
	b.WriteString("ref,at,lat,lon,pair,place,conveyance,concealment,item,drug,quantity,unit_of_measure,test,firearm_type,make,serial,calibre,count\n")
	now := time.Now().UTC()
	pairs := []struct {
		id       string
		lat, lon float64
	}{{"sdc-bc", 32.5, -116.9}, {"tca-son", 31.3, -110.9}, {"ept-chih", 31.7, -106.4}, {"lrt-tamps", 27.5, -99.5}}
	drugs := []string{"cocaine", "methamphetamine", "fentanyl_powder", "cannabis", "heroin"}
	for i := range n {
		k := i + offset
		p := pairs[k%len(pairs)]
		at := now.Add(-time.Duration(k%8760) * time.Hour).Format(time.RFC3339)
		switch k % 3 {
		case 0:
			fmt.Fprintf(&b, ",%s,%.4f,%.4f,%s,Bench,vehicle,tires,firearm,,,,,pistol,Glock,BX%08d,9mm,\n", at, p.lat, p.lon, p.id, k)
		case 1:
			fmt.Fprintf(&b, ",%s,%.4f,%.4f,%s,Bench,vehicle,tires,ammunition,,,,,,,,9mm,%d\n", at, p.lat, p.lon, p.id, 50+k%500)
		default:
			fmt.Fprintf(&b, ",%s,%.4f,%.4f,%s,Bench,vehicle,tires,drug,%s,%d,kg,lab,,,,,\n", at, p.lat, p.lon, p.id, drugs[k%len(drugs)], 1+k%90)
		}
	}
	return b.Bytes()
}
