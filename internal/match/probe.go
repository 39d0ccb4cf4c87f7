package match

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cloudflare/circl/oprf"

	"puente/internal/link"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// PathProbe is the federation route where the partner's blinded probe
// keys (an operation's space-time cells and targets) are evaluated.
const PathProbe = "/fed/v1/match/probe"

// MaxProbeKeys bounds the keys of one probe.
const MaxProbeKeys = 4096

// Entry kinds of probes.
const (
	KindProbe  = "match.probe"  // we probed the partner's index
	KindProbed = "match.probed" // the partner probed ours
)

// IndexKeysTx puts raw keys under ref in this node's index, replacing
// what ref had, for areas whose records are not persons: an operation's
// cells ("opcell:…") and targets ("target:…"). The keys reach the
// partner only as fingerprints in the filter. The area logs its own
// entry; the filter is republished by Run.
func IndexKeysTx(ctx context.Context, tx *store.Tx, ref, source, label string, keys []string) error {
	if err := RemoveTx(ctx, tx, ref); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	id, err := tx.InsertID(ctx, `INSERT INTO subjects (ref, source, label, created_at) VALUES (?, ?, ?, ?)`, ref, source, label, store.Now())
	if err != nil {
		return fmt.Errorf("indexing %s: %w", ref, err)
	}
	for _, k := range keys {
		if _, err := tx.Exec(ctx, `INSERT INTO subject_keys (subject_id, key) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, k); err != nil {
			return fmt.Errorf("indexing %s: %w", ref, err)
		}
	}
	return nil
}

// RemoveTx takes ref out of this node's index.
func RemoveTx(ctx context.Context, tx *store.Tx, ref string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM subjects WHERE ref = ?`, ref); err != nil {
		return fmt.Errorf("removing %s from the index: %w", ref, err)
	}
	return bump(ctx, tx, "version")
}

// ProbeHit is one probed key the partner's filter holds, with the OPRF
// output that proves the partner evaluated it.
type ProbeHit struct {
	Key    string `json:"key"`
	Output []byte `json:"output"`
}

// ProbeResult is what a probe found.
type ProbeResult struct {
	Epoch int64      `json:"partner_epoch"`
	Keys  int        `json:"keys"`
	Hits  []ProbeHit `json:"hits"`
}

// Probe checks keys against the partner's index blind, as Lookup does,
// under the partner's deconfliction quota: only blinded elements leave
// the node. object names what was probed, for the log.
func (s *Service) Probe(ctx context.Context, actor, object string, keys []string) (*ProbeResult, error) {
	if len(keys) == 0 {
		return &ProbeResult{}, nil
	}
	if len(keys) > MaxProbeKeys {
		return nil, fmt.Errorf("a probe has at most %d keys, this one %d", MaxProbeKeys, len(keys))
	}
	epoch, fps, err := s.partnerFilter(ctx)
	if err != nil {
		return nil, err
	}
	outs, err := s.evaluateBlind(ctx, PathProbe, epoch, asInputs(keys))
	if err != nil {
		return nil, err
	}
	res := &ProbeResult{Epoch: epoch, Keys: len(keys)}
	for i, out := range outs {
		if inFilter(fps, binary.BigEndian.Uint64(out)) {
			res.Hits = append(res.Hits, ProbeHit{Key: keys[i], Output: out})
		}
	}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := addUsage(ctx, tx, "probe_asked", len(keys)); err != nil {
			return err
		}
		_, err := s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: KindProbe, Actor: actor,
			Object: object, Detail: fmt.Sprintf("keys=%d hits=%d partner_epoch=%d", len(keys), len(res.Hits), epoch)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Confirm checks a partner's claim that key hit our index: output must be
// our OPRF output for key under our key of epoch, which the partner can
// only have by asking us to evaluate it (within the quota), and key must
// be in our index. It returns the refs that hold key.
func (s *Service) Confirm(ctx context.Context, q store.Querier, epoch int64, key string, output []byte) ([]string, error) {
	k, err := keyOf(ctx, q, epoch)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("our match key of epoch %d is retired", epoch)
	}
	want, err := oprf.NewServer(suite, k).FullEvaluate([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("evaluating a claimed key: %w", err)
	}
	if subtle.ConstantTimeCompare(want, output) != 1 {
		return nil, errors.New("the claimed output is not our evaluation of the key")
	}
	rows, err := q.Query(ctx, `SELECT s.ref FROM subjects s JOIN subject_keys k ON k.subject_id = s.id WHERE k.key = ? ORDER BY s.ref`, key)
	if err != nil {
		return nil, fmt.Errorf("reading the index: %w", err)
	}
	return store.Collect(rows, func(r store.Scanner) (string, error) {
		var ref string
		return ref, r.Scan(&ref)
	})
}

func (s *Service) serveProbe(w http.ResponseWriter, r *http.Request) {
	s.evaluate(w, r, MaxProbeKeys, "probe_served", s.cfg.ProbeQuota, KindProbed)
}

// evaluateBlind blinds inputs, has the partner evaluate them under its
// key of epoch at path, and returns the unblinded outputs in order: the
// one round trip of lookups, probes and cross-match batches. A refusal
// for a retired key is ErrStale, for the quota ErrQuota.
func (s *Service) evaluateBlind(ctx context.Context, path string, epoch int64, inputs [][]byte) ([][]byte, error) {
	client := oprf.NewClient(suite)
	fin, req, err := client.Blind(inputs)
	if err != nil {
		return nil, fmt.Errorf("blinding: %w", err)
	}
	er := evalRequest{Epoch: epoch}
	for _, e := range req.Elements {
		b, err := e.MarshalBinary()
		if err != nil {
			return nil, err
		}
		er.Elements = append(er.Elements, b)
	}
	if s.cfg.Inspect != nil {
		b, _ := json.Marshal(er)
		s.cfg.Inspect(path+" request", b)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	var resp evalResponse
	err = s.link.Call(cctx, path, er, &resp)
	cancel()
	var ce *link.CallError
	if errors.As(err, &ce) {
		var ref evalRefusal
		_ = json.Unmarshal(ce.Body, &ref)
		switch ref.Error {
		case "epoch":
			return nil, ErrStale
		case "quota":
			return nil, ErrQuota
		}
		return nil, fmt.Errorf("the partner refused the evaluation: %s %s", ref.Error, strings.TrimSpace(ref.Message))
	}
	if err != nil {
		return nil, err
	}
	if s.cfg.Inspect != nil {
		b, _ := json.Marshal(resp)
		s.cfg.Inspect(path+" response", b)
	}
	if resp.Epoch != epoch || len(resp.Elements) != len(inputs) {
		return nil, ErrUnchecked
	}
	g := suite.Group()
	ev := &oprf.Evaluation{}
	for _, b := range resp.Elements {
		e := g.NewElement()
		if err := e.UnmarshalBinary(b); err != nil {
			return nil, ErrUnchecked
		}
		ev.Elements = append(ev.Elements, e)
	}
	outs, err := client.Finalize(fin, ev)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnchecked, err)
	}
	return outs, nil
}

// asInputs are keys as OPRF inputs.
func asInputs(keys []string) [][]byte {
	inputs := make([][]byte, len(keys))
	for i, k := range keys {
		inputs[i] = []byte(k)
	}
	return inputs
}
