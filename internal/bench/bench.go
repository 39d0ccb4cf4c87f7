// Package bench measures the link end to end: from the JSON API call on one
// node to the applied row on the partner and back to the stored receipt.
// "puente bench link" runs it and prints one JSON line.
package bench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"puente/internal/demo"
	"puente/internal/liaison"
	"puente/internal/link"
	"puente/internal/store"
)

// Options configure a run.
type Options struct {
	// Postgres, if set, is a server URL: each node gets its own schema.
	Postgres string
	N        int
	Rate     int
	LatencyN int
	// Clients is how many API clients send at once in the throughput run.
	Clients int
	Log     io.Writer
}

// Result is the benchmark's one JSON line.
type Result struct {
	Store           string  `json:"store"`
	Clients         int     `json:"clients"`
	Envelopes       int     `json:"envelopes"`
	EnvelopesPerS   float64 `json:"envelopes_per_s"`
	LatencyRate     int     `json:"latency_rate_per_s"`
	P50ms           float64 `json:"p50_ms"`
	P99ms           float64 `json:"p99_ms"`
	CryptoFloorPerS float64 `json:"crypto_floor_per_s"`
	// CPUMicrosPerEnvelope is the CPU time of the whole process (both
	// nodes and the clients) during the throughput run, per envelope: the
	// noise of a shared machine moves it less than envelopes_per_s.
	CPUMicrosPerEnvelope float64 `json:"cpu_us_per_envelope,omitempty"`
	// DBCPUMicrosPerEnvelope is, on PostgreSQL running on this machine,
	// the server's CPU time (every backend and helper) during the
	// throughput run, per envelope: with the line above, the whole cost
	// of an envelope on the machine's cores, which the throughput of a
	// CPU-bound run follows.
	DBCPUMicrosPerEnvelope float64 `json:"db_cpu_us_per_envelope,omitempty"`
	CPUs                   int     `json:"cpus"`
	GoVersion              string  `json:"go"`
}

// Print writes the result as one JSON line.
func (r *Result) Print(w io.Writer) error { return printJSON(w, r) }

func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// Link runs the benchmark.
func Link(ctx context.Context, o Options) (*Result, error) {
	if o.N < 1 || o.LatencyN < 1 || o.Rate < 1 || o.Clients < 1 {
		return nil, fmt.Errorf("--n, --latency-n, --rate and --clients must be 1 or more (got %d, %d, %d, %d)", o.N, o.LatencyN, o.Rate, o.Clients)
	}
	p, done, err := startPair(ctx, "link", o.Postgres)
	if err != nil {
		return nil, err
	}
	defer done()
	res := &Result{Store: string(p.Nodes["MX"].DB.Dialect()), Clients: o.Clients, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LatencyRate: o.Rate}
	res.CryptoFloorPerS = cryptoFloor(4000)
	say := logger(o.Log)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: max(o.Clients, 64)}}
	threads, err := openThreads(ctx, client, p, 32)
	if err != nil {
		return nil, err
	}
	if err := waitDelivered(ctx, p, 30*time.Second); err != nil {
		return nil, err
	}
	say("throughput: %d envelopes from MX to US through the API…", o.N)
	base := sent(ctx, p)
	dbCPU := dbCPUMeter(ctx, p.Nodes["MX"].DB)
	start, cpu0 := time.Now(), processCPU()
	err = fanOut(o.Clients, o.N, func(i int64) error {
		_, err := post(ctx, client, p, threads[int(i)%len(threads)], i)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := waitDelivered(ctx, p, 5*time.Minute); err != nil {
		return nil, err
	}
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	res.Envelopes = sent(ctx, p) - base
	res.EnvelopesPerS = float64(res.Envelopes) / elapsed.Seconds()
	if cpu > 0 && res.Envelopes > 0 {
		res.CPUMicrosPerEnvelope = round(float64(cpu.Microseconds()) / float64(res.Envelopes))
		if d, ok := dbCPU(); ok {
			res.DBCPUMicrosPerEnvelope = round(float64(d.Microseconds()) / float64(res.Envelopes))
		}
	}
	say("throughput: %.0f envelopes/s", res.EnvelopesPerS)

	say("latency: %d envelopes at %d/s…", o.LatencyN, o.Rate)
	type sample struct {
		env   string
		start time.Time
	}
	samples := make([]sample, o.LatencyN)
	tick := time.NewTicker(time.Second / time.Duration(max(o.Rate, 1)))
	var lwg sync.WaitGroup
	var firstErr atomic.Value
	for i := range o.LatencyN {
		<-tick.C
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			t0 := time.Now()
			env, err := post(ctx, client, p, threads[i%len(threads)], int64(i))
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			samples[i] = sample{env, t0}
		}()
	}
	tick.Stop()
	lwg.Wait()
	if e := firstErr.Load(); e != nil {
		return nil, e.(error)
	}
	if err := waitDelivered(ctx, p, 2*time.Minute); err != nil {
		return nil, err
	}
	var lat []float64
	q := p.Nodes["MX"].DB.Read()
	for _, s := range samples {
		var done int64
		if err := q.QueryRow(ctx, `SELECT done_at FROM outbox WHERE envelope_id = ?`, s.env).Scan(&done); err != nil {
			return nil, fmt.Errorf("reading receipt time: %w", err)
		}
		lat = append(lat, float64(time.UnixMilli(done).Sub(s.start).Microseconds())/1000)
	}
	slices.Sort(lat)
	res.P50ms = round(lat[len(lat)/2])
	res.P99ms = round(lat[len(lat)*99/100])
	res.EnvelopesPerS = round(res.EnvelopesPerS)
	res.CryptoFloorPerS = round(res.CryptoFloorPerS)
	return res, nil
}

// dbCPUMeter starts measuring the CPU time of db's PostgreSQL server, when
// it runs on this machine: the function it returns gives the time used
// since, or false (SQLite, a server elsewhere).
func dbCPUMeter(ctx context.Context, db *store.DB) func() (time.Duration, bool) {
	none := func() (time.Duration, bool) { return 0, false }
	if db.Dialect() != store.Postgres {
		return none
	}
	var pid int
	if err := db.Read().QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		return none
	}
	pm, ok := postmaster(pid)
	if !ok {
		return none
	}
	start, ok := serverCPU(pm)
	if !ok {
		return none
	}
	return func() (time.Duration, bool) {
		now, ok := serverCPU(pm)
		return now - start, ok
	}
}

// fanOut calls do for 1 to n from clients goroutines at once, and returns
// the first failure (each goroutine stops at its own).
func fanOut(clients, n int, do func(i int64) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range max(clients, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if err := do(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return e.(error)
	}
	return nil
}

func round(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func sent(ctx context.Context, p *demo.Pair) int {
	c, _ := p.Nodes["MX"].Link.Counts(ctx)
	return c.Sent
}

func waitDelivered(ctx context.Context, p *demo.Pair, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		n, err := p.Nodes["MX"].Link.Pending(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		// Poll gently: the harness shares the cores with the two nodes.
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("envelopes still pending after %s", limit)
}

func openThreads(ctx context.Context, c *http.Client, p *demo.Pair, n int) ([]string, error) {
	var ids []string
	for i := range n {
		body, _ := json.Marshal(map[string]any{"subject": fmt.Sprintf("bench thread %d", i), "to_agency": "FinCEN", "body": "opening"})
		var t liaison.Thread
		if err := call(ctx, c, p.URL("MX")+"/api/v1/threads", p.Tokens["MX"], body, &t); err != nil {
			return nil, err
		}
		ids = append(ids, t.ID)
	}
	return ids, nil
}

func post(ctx context.Context, c *http.Client, p *demo.Pair, thread string, i int64) (string, error) {
	body, _ := json.Marshal(map[string]any{"body": "bench message " + strconv.FormatInt(i, 10)})
	var m liaison.Message
	if err := call(ctx, c, p.URL("MX")+"/api/v1/threads/"+thread+"/messages", p.Tokens["MX"], body, &m); err != nil {
		return "", err
	}
	return m.EnvelopeID, nil
}

func call(ctx context.Context, c *http.Client, url, token string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, rb)
	}
	return json.Unmarshal(rb, out)
}

// cryptoFloor measures, on this machine, how many envelopes per second the
// signatures alone allow: sign and verify the envelope, sign and verify its
// receipt.
func cryptoFloor(n int) float64 {
	_, sk, _ := ed25519.GenerateKey(rand.Reader)
	pk := sk.Public().(ed25519.PublicKey)
	e := &link.Envelope{ID: link.NewID(), Kind: "liaison.message", Version: 1, Stream: "liaison:x", Seq: 1, From: "MX", To: "US",
		Created: time.Now().UTC().Format(time.RFC3339Nano), Agreement: "00", Caveats: []byte(`{}`), Body: make([]byte, 200)}
	start := time.Now()
	for range n {
		e.Sign(sk)
		if !e.VerifySig(pk) {
			panic("bench: signature does not verify")
		}
		r := &link.Receipt{EnvelopeID: e.ID, EnvelopeHash: e.Hash(), Status: link.StatusApplied, From: "US", To: "MX", At: e.Created}
		r.Sign(sk)
		if !r.VerifySig(pk) {
			panic("bench: receipt does not verify")
		}
	}
	return float64(n) / time.Since(start).Seconds()
}
