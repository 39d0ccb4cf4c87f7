package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"puente/internal/auth"
	"puente/internal/match"
	"puente/internal/operations"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// OpsResult is "puente bench ops"'s one JSON line.
type OpsResult struct {
	Reports        int     `json:"board_reports"`
	Rate           int     `json:"board_rate_per_s"`
	Seen           int     `json:"board_updates_seen"` // reports that reached the partner's stream (a unit's older position may be overtaken)
	BoardP50       float64 `json:"board_update_p50_ms"`
	BoardP99       float64 `json:"board_update_p99_ms"`
	PartnerOps     int     `json:"deconflict_partner_operations"`
	PartnerKeys    int     `json:"deconflict_partner_keys"`
	DeconflictKeys int     `json:"deconflict_keys_per_operation"`
	DeconflictP50  float64 `json:"deconflict_p50_ms"`
	DeconflictMax  float64 `json:"deconflict_max_ms"`
	CotUnits       int     `json:"cot_units"`
	CotExportMs    float64 `json:"cot_export_ms"` // median of 20 GET /api/v1/operations/cot
	CotBytes       int     `json:"cot_bytes"`
	CPUs           int     `json:"cpus"`
	GoVersion      string  `json:"go"`
}

// Print writes the result as one JSON line.
func (r *OpsResult) Print(w io.Writer) error { return printJSON(w, r) }

// OpsOptions size the run.
type OpsOptions struct {
	Rate       int           // unit reports per second
	Duration   time.Duration // of the board run
	PartnerOps int           // operations registered on the partner
	CotUnits   int           // active units in the CoT document
	Log        io.Writer
}

// Ops times the three figures of mirror operations on a loopback pair:
// a unit report posted through the MX API until it arrives on the US's
// open CoT stream of the board; a new operation checked blind against a
// partner with PartnerOps registered operations; and the CoT document of
// CotUnits active units.
func Ops(ctx context.Context, o OpsOptions) (*OpsResult, error) {
	logf := logger(o.Log)
	p, done, err := startPair(ctx, "ops", "")
	if err != nil {
		return nil, err
	}
	defer done()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	omx, ous := operations.Of(mx), operations.Of(us)
	ctx = trustlog.WithActor(ctx, "system:bench")
	res := &OpsResult{Rate: o.Rate, PartnerOps: o.PartnerOps, CotUnits: o.CotUnits, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	mk := func(n interface {
		Create(context.Context, auth.NewUser) (*auth.User, error)
	}, name string, role auth.Role, agency string) (*auth.User, error) {
		return n.Create(ctx, auth.NewUser{Username: name, DisplayName: name, Role: role, Agency: agency, Password: "bench-password-123"})
	}
	gn, err := mk(mx.Auth, "bench-gn", auth.Coordinator, "GN")
	if err != nil {
		return nil, err
	}
	cbp, err := mk(us.Auth, "bench-cbp", auth.Coordinator, "CBP")
	if err != nil {
		return nil, err
	}
	sup, err := mk(us.Auth, "bench-watch", auth.Supervisor, "CBP")
	if err != nil {
		return nil, err
	}
	token := func(n interface {
		NewToken(context.Context, int64, string) (*auth.Token, string, error)
	}, u *auth.User) (string, error) {
		_, t, err := n.NewToken(ctx, u.ID, "bench")
		return t, err
	}
	gnTok, err := token(mx.Auth, gn)
	if err != nil {
		return nil, err
	}
	cbpTok, err := token(us.Auth, cbp)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	rfc := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }

	// 1. The board: a joint operation with ten MX units reporting.
	const units = 10
	var mxUnits []operations.Unit
	for i := range units {
		mxUnits = append(mxUnits, operations.Unit{Callsign: fmt.Sprintf("GN-%02d", i), Agency: "GN", Shared: true})
	}
	op, err := ous.Create(ctx, cbp, operations.Draft{Kind: operations.Mirror, Title: "bench board", Objective: "arms_trafficking", Pair: "tca-son",
		Start: rfc(10 * time.Minute), End: rfc(6 * time.Hour), Contact: "bench", Units: []operations.Unit{{Callsign: "CBP-1", Agency: "CBP", Shared: true}},
		Areas: []operations.Area{{Lat: 31.6, Lon: -111.3, RadiusM: 2000}}, Counterpart: []string{"GN"}})
	if err != nil {
		return nil, err
	}
	if _, err := ous.Release(ctx, sup, op.ID); err != nil {
		return nil, err
	}
	if err := waitUntil(30*time.Second, func() bool { _, err := omx.Get(ctx, gn, op.ID); return err == nil }); err != nil {
		return nil, fmt.Errorf("the bench operation did not reach MX: %w", err)
	}
	if _, err := omx.Take(ctx, gn, op.ID, operations.StepAccepted, operations.Answer{Contact: "bench", Units: mxUnits,
		Areas: []operations.Area{{Lat: 31.3, Lon: -111.3, RadiusM: 2000}}}); err != nil {
		return nil, err
	}
	if _, err := omx.Take(ctx, gn, op.ID, operations.StepStarted, operations.Answer{}); err != nil {
		return nil, err
	}
	if err := waitUntil(30*time.Second, func() bool {
		o, err := ous.Get(ctx, cbp, op.ID)
		return err == nil && o.Status == operations.StatusActive
	}); err != nil {
		return nil, fmt.Errorf("the bench operation did not start on the US: %w", err)
	}
	if err := boardRun(ctx, p.URL("MX"), p.URL("US"), gnTok, cbpTok, op.ID, mxUnits, o, res, logf); err != nil {
		return nil, err
	}

	// 2. Deconfliction against PartnerOps operations registered on the US,
	// over the next week, indexed in batches as registration indexes them.
	d := us.Agreement.Body().Deconfliction.WithDefaults()
	distinct := map[string]bool{}
	for start := 0; start < o.PartnerOps; start += 500 {
		err := us.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			for i := start; i < min(start+500, o.PartnerOps); i++ {
				lat, lon := 31.35+float64(i%100)*0.002, -110.0-float64(i/100%100)*0.02
				st := now.Add(time.Duration(i%84) * 2 * time.Hour)
				syn := &operations.Operation{ID: fmt.Sprintf("BENCH%08d", i), Start: st, End: st.Add(3 * time.Hour),
					Sides: map[string]*operations.Side{"US": {Areas: []operations.Area{{Lat: lat, Lon: lon, RadiusM: 300}}}}}
				ks := operations.KeysOf(syn, "US", d)
				for _, k := range ks {
					distinct[k] = true
				}
				if err := match.IndexKeysTx(ctx, tx, "operation:"+syn.ID, "operation", "bench", ks); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	keys := len(distinct)
	res.PartnerKeys = keys
	logf("partner: %d operations, %d keys indexed; waiting for its filter", o.PartnerOps, keys)
	if err := waitUntil(5*time.Minute, func() bool {
		var n int
		err := mx.DB.Read().QueryRow(ctx, `SELECT keys_count FROM match_filters ORDER BY epoch DESC LIMIT 1`).Scan(&n)
		return err == nil && n >= keys
	}); err != nil {
		return nil, fmt.Errorf("the partner's filter did not arrive: %w", err)
	}
	var times []float64
	for i := range 21 {
		o, err := omx.Create(ctx, gn, operations.Draft{Kind: operations.Unilateral, Title: fmt.Sprintf("bench deconflict %d", i), Objective: "drug_trafficking",
			Pair: "tca-son", Start: rfc(time.Duration(2+i) * time.Hour), End: rfc(time.Duration(8+i) * time.Hour), Contact: "bench",
			Units: []operations.Unit{{Callsign: fmt.Sprintf("GN-D%02d", i), Agency: "GN"}}, Areas: []operations.Area{{Lat: 31.30, Lon: -110.90 - float64(i)*0.05, RadiusM: 2000}}})
		if err != nil {
			return nil, err
		}
		res.DeconflictKeys = len(operations.KeysOf(o, "MX", d))
		start := time.Now()
		if _, err := omx.Check(ctx, o.ID); err != nil {
			return nil, err
		}
		if i > 0 { // the first warms the partner's filter cache
			times = append(times, float64(time.Since(start).Microseconds())/1000)
		}
	}
	slices.Sort(times)
	res.DeconflictP50, res.DeconflictMax = times[len(times)/2], times[len(times)-1]
	logf("deconflict: p50 %.1f ms, max %.1f ms (%d keys per operation)", res.DeconflictP50, res.DeconflictMax, res.DeconflictKeys)

	// 3. The CoT document of CotUnits active units on MX.
	for n := 0; n < o.CotUnits; n += operations.MaxUnits {
		var us []operations.Unit
		for i := n; i < min(n+operations.MaxUnits, o.CotUnits); i++ {
			us = append(us, operations.Unit{Callsign: fmt.Sprintf("COT-%04d", i), Agency: "GN"})
		}
		op, err := omx.Create(ctx, gn, operations.Draft{Kind: operations.Unilateral, Title: fmt.Sprintf("bench cot %d", n), Objective: "other", Pair: "tca-son",
			Start: rfc(10 * time.Minute), End: rfc(5 * time.Hour), Contact: "bench", Units: us, Areas: []operations.Area{{Lat: 30.5, Lon: -110.5, RadiusM: 5000}}})
		if err != nil {
			return nil, err
		}
		if _, err := omx.Take(ctx, gn, op.ID, operations.StepStarted, operations.Answer{}); err != nil {
			return nil, err
		}
		for i, u := range us {
			if _, err := omx.Report(ctx, gn, op.ID, operations.NewReport{Unit: u.Callsign, Lat: 30.5 + float64(i)*0.001, Lon: -110.5, Status: "in_position"}); err != nil {
				return nil, err
			}
		}
	}
	var cot []float64
	for range 21 {
		start := time.Now()
		body, err := get(ctx, p.URL("MX")+"/api/v1/operations/cot", gnTok)
		if err != nil {
			return nil, err
		}
		cot = append(cot, float64(time.Since(start).Microseconds())/1000)
		res.CotBytes = len(body)
		if n := bytes.Count(body, []byte("<event ")); n < o.CotUnits {
			return nil, fmt.Errorf("the CoT document has %d events, want at least %d", n, o.CotUnits)
		}
	}
	slices.Sort(cot)
	res.CotExportMs = cot[len(cot)/2]
	logf("cot: %d units, %.1f ms, %d bytes", o.CotUnits, res.CotExportMs, res.CotBytes)
	return res, nil
}

// boardRun posts reports at o.Rate through the MX API for o.Duration and
// times each until it appears on the US's CoT stream.
func boardRun(ctx context.Context, mxURL, usURL, mxTok, usTok, opID string, units []operations.Unit, o OpsOptions, res *OpsResult, logf func(string, ...any)) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, usURL+"/api/v1/operations/cot/stream", nil)
	req.Header.Set("Authorization", "Bearer "+usTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the board stream answered %s", resp.Status)
	}
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []float64
	go func() {
		dec := xml.NewDecoder(bufio.NewReader(resp.Body))
		for {
			var e operations.CotEvent
			if err := dec.Decode(&e); err != nil {
				return
			}
			at := time.Now()
			mu.Lock()
			if t0, ok := sent[e.Detail.Remarks]; ok {
				lat = append(lat, float64(at.Sub(t0).Microseconds())/1000)
				delete(sent, e.Detail.Remarks)
			}
			mu.Unlock()
		}
	}()
	total := int(o.Duration.Seconds()) * o.Rate
	tick := time.NewTicker(time.Second / time.Duration(o.Rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for i := 0; i < total; i++ {
		<-tick.C
		u := units[i%len(units)]
		note := fmt.Sprintf("bench %d", i)
		body, _ := json.Marshal(operations.NewReport{Unit: u.Callsign, Lat: 31.3 + float64(i%100)*0.0001, Lon: -111.3, Status: "moving", Note: note})
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			sent[note] = time.Now()
			mu.Unlock()
			r, _ := http.NewRequestWithContext(ctx, http.MethodPost, mxURL+"/api/v1/operations/"+opID+"/reports", bytes.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+mxTok)
			resp, err := http.DefaultClient.Do(r)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					err = fmt.Errorf("a report answered %s", resp.Status)
				}
			}
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	time.Sleep(2 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	res.Reports, res.Seen = total, len(lat)
	if len(lat) == 0 {
		return fmt.Errorf("no report reached the partner's board")
	}
	slices.Sort(lat)
	res.BoardP50, res.BoardP99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	logf("board: %d reports at %d/s, %d seen on the partner's stream, p50 %.1f ms, p99 %.1f ms", total, o.Rate, len(lat), res.BoardP50, res.BoardP99)
	return nil
}

func waitUntil(limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func get(ctx context.Context, url, token string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s answered %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, err
}
