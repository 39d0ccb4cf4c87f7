package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"puente/internal/link"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// LogOptions configure "puente bench log".
type LogOptions struct {
	Entries    int // log size for the append and proof figures
	Batch      int // entries per transaction
	Proofs     int // inclusion proofs to time
	RoundTrips int // checkpoint round trips to time
	Log        io.Writer
}

// LogResult is the log benchmark's one JSON line.
type LogResult struct {
	Store                 string  `json:"store"`
	Entries               int     `json:"entries"`
	Batch                 int     `json:"batch"`
	AppendsPerS           float64 `json:"appends_per_s"`
	InclusionProofUS      float64 `json:"inclusion_proof_us"`
	InclusionProofP99US   float64 `json:"inclusion_proof_p99_us"`
	ProofHashes           int     `json:"proof_hashes"`
	CheckpointRoundtripMS float64 `json:"checkpoint_roundtrip_ms"`
	CheckpointP99MS       float64 `json:"checkpoint_roundtrip_p99_ms"`
	CPUs                  int     `json:"cpus"`
	GoVersion             string  `json:"go"`
}

// Print writes the result as one JSON line.
func (r *LogResult) Print(w io.Writer) error { return printJSON(w, r) }

// TrustLog measures the transparency log: batched appends into SQLite,
// inclusion proofs at the resulting size, and the checkpoint round trip
// (sign, send, partner verifies the consistency proof and cosigns, store)
// between two nodes on loopback.
func TrustLog(ctx context.Context, o LogOptions) (*LogResult, error) {
	if o.Entries <= 0 {
		o.Entries = 1_000_000
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Proofs <= 0 {
		o.Proofs = 2000
	}
	if o.RoundTrips <= 0 {
		o.RoundTrips = 100
	}
	logf := logger(o.Log)
	dir, err := os.MkdirTemp("", "puente-bench-log-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	res := &LogResult{Store: "sqlite", Entries: o.Entries, Batch: o.Batch, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}

	db, err := store.Open(ctx, filepath.Join(dir, "log.db"), store.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	l, err := trustlog.New(db, "MX", key)
	if err != nil {
		return nil, err
	}
	logf("appending %d entries in batches of %d", o.Entries, o.Batch)
	batch := make([]trustlog.Entry, 0, o.Batch)
	digest := make([]byte, 32)
	start := time.Now()
	for done := 0; done < o.Entries; {
		batch = batch[:0]
		for range min(o.Batch, o.Entries-done) {
			_, _ = rand.Read(digest)
			batch = append(batch, trustlog.Entry{At: time.Now(), Kind: trustlog.KindEnvelopeSent, Actor: "node:MX",
				Object: "envelope:" + link.NewID(), Digest: hex.EncodeToString(digest), Detail: "kind=liaison.message"})
		}
		err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := l.Append(ctx, tx, batch...)
			return err
		})
		if err != nil {
			return nil, err
		}
		done += len(batch)
		if done%(100*o.Batch) == 0 {
			logf("  %d entries, %.0f/s", done, float64(done)/time.Since(start).Seconds())
		}
	}
	res.AppendsPerS = round(float64(o.Entries) / time.Since(start).Seconds())

	logf("timing %d inclusion proofs at %d entries", o.Proofs, o.Entries)
	q := db.Read()
	size := int64(o.Entries)
	root, err := l.TreeHash(ctx, q, size)
	if err != nil {
		return nil, err
	}
	var proofT []time.Duration
	for range o.Proofs {
		idx := mrand.Int64N(size)
		t0 := time.Now()
		p, err := l.ProveRecord(ctx, q, size, idx)
		if err != nil {
			return nil, err
		}
		proofT = append(proofT, time.Since(t0))
		var data []byte
		if err := q.QueryRow(ctx, `SELECT data FROM log_entries WHERE idx = ?`, idx).Scan(&data); err != nil {
			return nil, err
		}
		if err := tlog.CheckRecord(p, size, root, idx, tlog.RecordHash(data)); err != nil {
			return nil, fmt.Errorf("a proof failed: %w", err)
		}
		res.ProofHashes = len(p)
	}
	res.InclusionProofUS = round(float64(quantile(proofT, 0.5).Nanoseconds()) / 1e3)
	res.InclusionProofP99US = round(float64(quantile(proofT, 0.99).Nanoseconds()) / 1e3)

	logf("timing %d checkpoint round trips between two nodes", o.RoundTrips)
	p, done, err := startPair(ctx, "log", "")
	if err != nil {
		return nil, err
	}
	defer done()
	mx := p.Nodes["MX"]
	var rtT []time.Duration
	for i := range o.RoundTrips {
		err := mx.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := mx.TrustLog.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: "bench", Actor: "node:MX", Object: fmt.Sprint("bench:", i)})
			return err
		})
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		cp, err := mx.Trust.Checkpoint(ctx)
		if err != nil {
			return nil, err
		}
		if err := mx.Trust.Witness(ctx); err != nil {
			return nil, err
		}
		rtT = append(rtT, time.Since(t0))
		c, err := trustlog.LatestCosigned(ctx, mx.DB.Read())
		if err != nil || c == nil || (cp != nil && c.Size < cp.Size) {
			return nil, fmt.Errorf("checkpoint %d was not cosigned: %v", i, err)
		}
	}
	res.CheckpointRoundtripMS = round(float64(quantile(rtT, 0.5).Microseconds()) / 1e3)
	res.CheckpointP99MS = round(float64(quantile(rtT, 0.99).Microseconds()) / 1e3)
	return res, nil
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
