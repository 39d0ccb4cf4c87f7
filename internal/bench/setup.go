package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"

	"puente/internal/demo"
)

// logger returns a printf to w, or to nowhere when w is nil: every
// benchmark reports its progress this way.
func logger(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		if w != nil {
			fmt.Fprintf(w, format+"\n", args...)
		}
	}
}

// startPair starts two nodes in a fresh temporary folder named after the
// benchmark (on PostgreSQL when pg is set), whose agreement lets each side
// cross-match ten million keys a day (the benchmarks' indexes); done stops
// them and removes the folder.
func startPair(ctx context.Context, name, pg string) (p *demo.Pair, done func(), err error) {
	dir, err := os.MkdirTemp("", "puente-bench-"+name+"-")
	if err != nil {
		return nil, nil, err
	}
	p, err = demo.StartPairWith(ctx, filepath.Join(dir, "pair"), pg, slog.New(slog.NewTextHandler(io.Discard, nil)), demo.PairOptions{BulkEvaluations: 10_000_000})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return p, func() { p.Close(); os.RemoveAll(dir) }, nil
}

// StartProfile writes a CPU profile to path until stop is called; an
// empty path profiles nothing.
func StartProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
