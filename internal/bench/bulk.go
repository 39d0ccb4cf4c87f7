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

// BulkResult is "puente bench bulk"'s one JSON line.
type BulkResult struct {
	Subjects   int     `json:"subjects_each_side"`
	Common     int64   `json:"common_found"`
	BulkS      float64 `json:"bulk_s"`
	FloorS     float64 `json:"bulk_floor_s"`
	Ratio      float64 `json:"bulk_over_floor"`
	KeysPerSec float64 `json:"keys_per_s"`
	CPUs       int     `json:"cpus"`
	GoVersion  string  `json:"go"`
}

// Print writes the result as one JSON line.
func (r *BulkResult) Print(w io.Writer) error { return printJSON(w, r) }

// Bulk times an n × n blind cross-match: both nodes index n subjects (one
// phone each, a tenth in common), and the US cross-matches its whole index
// against MX's. The floor is the OPRF work of the same n keys (blind,
// evaluate, finalize) in one process, in batches of the same size.
func Bulk(ctx context.Context, n int, log io.Writer) (*BulkResult, error) {
	logf := logger(log)
	p, done, err := startPair(ctx, "bulk", "")
	if err != nil {
		return nil, err
	}
	defer done()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	phone := func(j int) string {
		return fmt.Sprintf("+52 1%02d %03d %04d", j/10000000%100, j/10000%1000, j%10000)
	}
	logf("indexing %d subjects on each side", n)
	for i := 0; i < n; i += 5000 {
		var a, b []match.Subject
		for j := i; j < min(n, i+5000); j++ {
			a = append(a, match.Subject{Ref: fmt.Sprint("mx", j), Phone: phone(j)})
			// A tenth of the US subjects are MX's; the rest are not.
			k := j + n
			if j%10 == 0 {
				k = j
			}
			b = append(b, match.Subject{Ref: fmt.Sprint("us", j), Phone: phone(k)})
		}
		if _, err := match.Of(mx).Import(ctx, a); err != nil {
			return nil, err
		}
		if _, err := match.Of(us).Import(ctx, b); err != nil {
			return nil, err
		}
	}
	logf("waiting for MX's filter")
	for {
		done, err := match.Of(mx).Published(ctx)
		if err != nil {
			return nil, err
		}
		u, err := match.Of(us).TodayUsage(ctx)
		if err != nil {
			return nil, err
		}
		pending, _ := mx.Link.Pending(ctx)
		if done && pending == 0 && u.PartnerKeys >= int64(n) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	logf("cross-matching")
	t0 := time.Now()
	job, err := match.Of(us).StartJob(ctx, "bench", nil)
	if err != nil {
		return nil, err
	}
	for {
		j, err := match.Of(us).Job(ctx, job.ID)
		if err != nil {
			return nil, err
		}
		if j.State == match.JobDone {
			job = j
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	res := &BulkResult{Subjects: n, Common: job.Hits, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	res.BulkS = round(time.Since(t0).Seconds())
	if want := int64((n + 9) / 10); job.Hits != want {
		return nil, fmt.Errorf("the cross-match found %d in common, want %d", job.Hits, want)
	}
	logf("measuring the floor")
	key, _ := oprf.GenerateKey(oprf.SuiteRistretto255, rand.Reader)
	srv := oprf.NewServer(oprf.SuiteRistretto255, key)
	cl := oprf.NewClient(oprf.SuiteRistretto255)
	t1 := time.Now()
	for i := 0; i < n; i += match.MaxBulkBatch {
		var in [][]byte
		for j := i; j < min(n, i+match.MaxBulkBatch); j++ {
			in = append(in, []byte("phone:"+phone(j)))
		}
		fin, req, err := cl.Blind(in)
		if err != nil {
			return nil, err
		}
		ev, err := srv.Evaluate(req)
		if err != nil {
			return nil, err
		}
		if _, err := cl.Finalize(fin, ev); err != nil {
			return nil, err
		}
	}
	res.FloorS = round(time.Since(t1).Seconds())
	res.Ratio = round(res.BulkS / res.FloorS)
	res.KeysPerSec = round(float64(n) / res.BulkS)
	return res, nil
}
