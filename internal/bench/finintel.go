package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync/atomic"
	"time"

	"puente/internal/auth"
	"puente/internal/finintel"
	"puente/internal/trustlog"
)

// FinIntelResult is "puente bench finintel"'s one JSON line.
type FinIntelResult struct {
	GoAMLTx        int     `json:"goaml_tx"`
	GoAMLFileMB    float64 `json:"goaml_file_mb"`
	GoAMLTxPerS    float64 `json:"goaml_tx_per_s"`       // parse, check and store the draft
	GoAMLParsePerS float64 `json:"goaml_parse_tx_per_s"` // parse and check only
	GoAMLPeakHeap  float64 `json:"goaml_peak_heap_mb"`
	ReleaseTx      int     `json:"release_tx"`
	Release10kMs   float64 `json:"disclosure_10k_tx_ms"` // median of the runs
	Release10kMax  float64 `json:"disclosure_10k_tx_max_ms"`
	Runs           int     `json:"release_runs"`
	CPUs           int     `json:"cpus"`
	GoVersion      string  `json:"go"`
}

// Print writes the result as one JSON line.
func (r *FinIntelResult) Print(w io.Writer) error { return printJSON(w, r) }

// FinIntel times a goAML import of nTx transactions from a generated file
// (streamed from disk, with the heap sampled meanwhile), and the release of
// a disclosure of releaseTx transactions, from the supervisor's release to
// the partner's stored copy, over the loopback link.
func FinIntel(ctx context.Context, nTx, releaseTx, runs int, log io.Writer) (*FinIntelResult, error) {
	logf := logger(log)
	dir, err := os.MkdirTemp("", "puente-bench-finintel-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	res := &FinIntelResult{GoAMLTx: nTx, ReleaseTx: releaseTx, Runs: runs, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}

	// The goAML file, written to disk so the import streams it.
	path := filepath.Join(dir, "report.xml")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := finintel.WriteSampleGoAML(f, nTx, 1); err != nil {
		return nil, err
	}
	f.Close()
	st, _ := os.Stat(path)
	res.GoAMLFileMB = float64(st.Size()) / (1 << 20)
	logf("goAML file: %d transactions, %.1f MB", nTx, res.GoAMLFileMB)

	p, done, err := startPair(ctx, "finintel", "")
	if err != nil {
		return nil, err
	}
	defer done()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	ctx = trustlog.WithActor(ctx, "system:bench")
	users, err := mx.Auth.List(ctx)
	if err != nil {
		return nil, err
	}
	analyst := users[0]
	sup, err := mx.Auth.Create(ctx, auth.NewUser{Username: "bench-supervisor", DisplayName: "Bench supervisor", Role: auth.Supervisor, Agency: "UIF", Password: "bench-password-123"})
	if err != nil {
		return nil, err
	}

	// Parse only, then parse and store, each from the file on disk.
	parse := func() (*finintel.Draft, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return finintel.ImportGoAML(bufio.NewReaderSize(f, 1<<20), finintel.Of(mx).DefaultCaveats())
	}
	runtime.GC()
	start := time.Now()
	if _, err := parse(); err != nil {
		return nil, err
	}
	res.GoAMLParsePerS = float64(nTx) / time.Since(start).Seconds()
	runtime.GC()
	stop := sampleHeap()
	start = time.Now()
	d, err := parse()
	if err == nil {
		_, err = finintel.Of(mx).CreateDraft(ctx, analyst, *d)
	}
	took := time.Since(start)
	res.GoAMLPeakHeap = stop()
	if err != nil {
		return nil, err
	}
	res.GoAMLTxPerS = float64(nTx) / took.Seconds()
	logf("goAML import: %.0f tx/s (parse and check %.0f tx/s), peak heap %.0f MB", res.GoAMLTxPerS, res.GoAMLParsePerS, res.GoAMLPeakHeap)

	// Release of a disclosure of releaseTx transactions.
	var g bytesBuffer
	if err := finintel.WriteSampleGoAML(&g, releaseTx, 2); err != nil {
		return nil, err
	}
	var times []float64
	for i := 0; i < runs; i++ {
		dr, err := finintel.ImportGoAML(g.reader(), finintel.Of(mx).DefaultCaveats())
		if err != nil {
			return nil, err
		}
		dr.Title = fmt.Sprintf("bench %d", i)
		draft, err := finintel.Of(mx).CreateDraft(ctx, analyst, *dr)
		if err != nil {
			return nil, err
		}
		if err := finintel.Of(mx).Submit(ctx, analyst, draft.ID); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := finintel.Of(mx).Release(ctx, sup, draft.ID); err != nil {
			return nil, err
		}
		for {
			var n int
			if err := us.DB.Read().QueryRow(ctx, `SELECT COUNT(*) FROM disclosures WHERE id = ?`, draft.ID).Scan(&n); err != nil {
				return nil, err
			}
			if n == 1 {
				break
			}
			if time.Since(start) > time.Minute {
				return nil, fmt.Errorf("the %d-transaction disclosure did not reach the US within a minute", releaseTx)
			}
			time.Sleep(2 * time.Millisecond)
		}
		ms := float64(time.Since(start).Microseconds()) / 1000
		times = append(times, ms)
		logf("release %d: %.0f ms", i+1, ms)
	}
	slices.Sort(times)
	res.Release10kMs, res.Release10kMax = times[len(times)/2], times[len(times)-1]
	return res, nil
}

// sampleHeap samples the live heap every 5 ms until the returned function
// is called, which returns the peak in MB.
func sampleHeap() func() float64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		<-stopped
		return float64(peak.Load()) / (1 << 20)
	}
}

// bytesBuffer holds a generated file to read more than once.
type bytesBuffer struct{ b []byte }

func (b *bytesBuffer) Write(p []byte) (int, error) { b.b = append(b.b, p...); return len(p), nil }
func (b *bytesBuffer) reader() io.Reader           { return bytes.NewReader(b.b) }
