// Package trust makes the transparency log mutual: it signs checkpoints of
// this node's log and has the partner witness them, witnesses the
// partner's checkpoints in turn, raises alarms on forks, rollbacks, bad
// signatures and a stalled partner log, and reports back to the partner
// how our users used the data it sent.
package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/tlog"

	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// PathWitness is the federation route where the partner's checkpoints are
// witnessed.
const PathWitness = "/fed/v1/witness"

// Envelope kinds this package sends and applies, on stream "trust".
const (
	KindAlarm  = "trust.alarm"
	KindAccess = "trust.access"
	stream     = "trust"
)

// Config is what the service needs.
type Config struct {
	DB       *store.DB
	Link     *link.Link
	Hub      *live.Hub
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// Caveats travel on the alarm and access-report envelopes.
	Caveats any
	// Interval: a growing log is checkpointed at least this often.
	// Default 3 s.
	Interval time.Duration
	// GrowBy: or as soon as it has grown by this many entries. Default 1000.
	GrowBy int64
	// StallAfter: the partner's log is reported stalled when envelopes
	// keep arriving but no newer checkpoint has come for this long.
	// Default 60 s.
	StallAfter time.Duration
}

// Service is one node's side of the mutual log.
type Service struct {
	cfg     Config
	db      *store.DB
	link    *link.Link
	log     *trustlog.Log
	self    *trustlog.Keys
	partner *trustlog.Keys
	logger  *slog.Logger
	started time.Time

	mu        sync.Mutex
	stallFor  time.Time // the witnessed time a stall alarm was raised for
	lastError string

	alarms    *prometheus.CounterVec
	roundTrip prometheus.Histogram
}

// New returns the service and registers its envelope kinds and federation
// route on the link.
func New(cfg Config) *Service {
	if cfg.Interval == 0 {
		cfg.Interval = 3 * time.Second
	}
	if cfg.GrowBy == 0 {
		cfg.GrowBy = 1000
	}
	if cfg.StallAfter == 0 {
		cfg.StallAfter = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{
		cfg: cfg, db: cfg.DB, link: cfg.Link, log: cfg.Link.TrustLog(), logger: cfg.Logger, started: time.Now(),
		self: cfg.Link.TrustLog().Keys(), partner: cfg.Link.PartnerLogKeys(),
		alarms: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "puente_trustlog_alarms_total",
			Help: "Transparency-log alarms raised on this node, by kind."}, []string{"kind"}),
		roundTrip: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "puente_trustlog_checkpoint_roundtrip_seconds",
			Help:    "From signing a checkpoint to storing the partner's cosignature.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
	}
	if cfg.Registry != nil {
		gauge := func(name, help string, f func(ctx context.Context) (float64, error)) prometheus.GaugeFunc {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				v, err := f(ctx)
				if err != nil {
					return -1
				}
				return v
			})
		}
		cfg.Registry.MustRegister(s.alarms, s.roundTrip,
			gauge("puente_trustlog_size", "Entries in this node's transparency log.", func(ctx context.Context) (float64, error) {
				n, err := trustlog.Size(ctx, s.db.Read())
				return float64(n), err
			}),
			gauge("puente_trustlog_witnessed_size", "Size of our newest checkpoint the partner has cosigned.", func(ctx context.Context) (float64, error) {
				c, err := trustlog.LatestCosigned(ctx, s.db.Read())
				if c == nil {
					return 0, err
				}
				return float64(c.Size), err
			}),
			gauge("puente_trustlog_partner_size", "Size of the partner's newest checkpoint we witnessed.", func(ctx context.Context) (float64, error) {
				w, err := trustlog.LatestWitnessed(ctx, s.db.Read())
				if w == nil {
					return 0, err
				}
				return float64(w.Size), err
			}),
			gauge("puente_trustlog_alarms_open", "Alarms not yet acknowledged.", func(ctx context.Context) (float64, error) {
				a, err := trustlog.Alarms(ctx, s.db.Read(), true, 1000)
				return float64(len(a)), err
			}),
		)
	}
	cfg.Link.Handle(KindAlarm, 1, link.HandlerFunc(s.applyAlarm))
	cfg.Link.Handle(KindAccess, 1, link.HandlerFunc(s.applyAccess))
	cfg.Link.HandleFederation("POST "+PathWitness, http.HandlerFunc(s.serveWitness))
	return s
}

// Run checkpoints, witnesses and watches the partner until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	// Remember the stall the node last raised, perhaps on the replica
	// that led before: a handover must not report the same stall twice.
	last := s.lastStall(ctx)
	s.mu.Lock()
	s.stallFor = last
	s.mu.Unlock()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.mu.Lock()
			changed := s.lastError != err.Error()
			s.lastError = err.Error()
			s.mu.Unlock()
			if changed {
				s.logger.Warn("transparency log: witnessing did not complete", "err", err)
			}
		} else {
			s.mu.Lock()
			s.lastError = ""
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick does one round: sign a checkpoint if one is due, have the partner
// witness our newest one, and check that the partner's log keeps up.
func (s *Service) Tick(ctx context.Context) error {
	if _, err := s.checkpointIfDue(ctx, false); err != nil {
		return err
	}
	if err := s.checkStall(ctx); err != nil {
		return err
	}
	return s.Witness(ctx)
}

// Checkpoint signs and stores a checkpoint of the log as it is now, unless
// the newest one already covers it.
func (s *Service) Checkpoint(ctx context.Context) (*trustlog.Checkpoint, error) {
	return s.checkpointIfDue(ctx, true)
}

func (s *Service) checkpointIfDue(ctx context.Context, force bool) (*trustlog.Checkpoint, error) {
	q := s.db.Read()
	size, err := trustlog.Size(ctx, q)
	if err != nil {
		return nil, err
	}
	latest, err := trustlog.LatestCheckpoint(ctx, q)
	if err != nil {
		return nil, err
	}
	if latest != nil {
		if size <= latest.Size {
			return nil, nil
		}
		if !force && size-latest.Size < s.cfg.GrowBy && time.Since(latest.CreatedAt) < s.cfg.Interval {
			return nil, nil
		}
	}
	root, err := s.log.TreeHash(ctx, q, size)
	if err != nil {
		return nil, err
	}
	cp, err := s.log.Sign(size, root)
	if err != nil {
		return nil, err
	}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return trustlog.SaveCheckpoint(ctx, tx, cp) })
	if err != nil {
		return nil, err
	}
	return cp, nil
}

type witnessRequest struct {
	Checkpoint []byte         `json:"checkpoint"`
	OldSize    int64          `json:"old_size"`
	Proof      tlog.TreeProof `json:"proof"`
}

type witnessResponse struct {
	Cosignature []byte `json:"cosignature"`
}

type witnessRefusal struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Size    int64  `json:"size,omitempty"`
}

// Witness sends our newest checkpoint to the partner, with a consistency
// proof from the newest one it already cosigned, and stores its
// cosignature.
func (s *Service) Witness(ctx context.Context) error {
	q := s.db.Read()
	latest, err := trustlog.LatestCheckpoint(ctx, q)
	if err != nil || latest == nil {
		return err
	}
	cos, err := trustlog.LatestCosigned(ctx, q)
	if err != nil {
		return err
	}
	if cos != nil && cos.Size >= latest.Size {
		return nil
	}
	cp, err := trustlog.OpenCheckpoint(latest.Note, s.self)
	if err != nil {
		return fmt.Errorf("our own checkpoint %d: %w", latest.Size, err)
	}
	old := int64(0)
	if cos != nil {
		old = cos.Size
	}
	start := time.Now()
	for attempt := 0; ; attempt++ {
		req := witnessRequest{Checkpoint: cp.Note, OldSize: old}
		if old > 0 && old < cp.Size {
			if req.Proof, err = s.log.ProveTree(ctx, q, cp.Size, old); err != nil {
				return err
			}
		}
		var resp witnessResponse
		// A partner that hangs must not stop this loop for good.
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = s.link.Call(cctx, PathWitness, req, &resp)
		cancel()
		var ce *link.CallError
		if errors.As(err, &ce) {
			var ref witnessRefusal
			_ = json.Unmarshal(ce.Body, &ref)
			if ce.Status == http.StatusConflict && ref.Error == "old_size" && attempt == 0 {
				if ref.Size > cp.Size {
					s.Raise(ctx, &trustlog.Alarm{Kind: trustlog.AlarmRollback,
						Detail:   fmt.Sprintf("the partner has witnessed our log at %d entries, but our newest checkpoint has %d: this node's log was rolled back", ref.Size, cp.Size),
						Evidence: ce.Body}, false)
					return fmt.Errorf("the partner witnessed a larger log than ours")
				}
				old = ref.Size
				continue
			}
			return fmt.Errorf("the partner refused to witness checkpoint %d: %s %s", cp.Size, ref.Error, ref.Message)
		}
		if err != nil {
			return err
		}
		merged, err := trustlog.AddCosignature(cp, s.self, s.partner, resp.Cosignature)
		if err != nil {
			ev, _ := json.Marshal(map[string]any{"checkpoint": cp.Note, "cosignature": resp.Cosignature})
			s.Raise(ctx, &trustlog.Alarm{Kind: trustlog.AlarmBadSignature,
				Detail: "the partner's cosignature on our checkpoint " + fmt.Sprint(cp.Size) + " does not verify: " + err.Error(), Evidence: ev}, true)
			return err
		}
		err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return trustlog.SaveCosigned(ctx, tx, cp.Size, merged) })
		if err != nil {
			return err
		}
		s.roundTrip.Observe(time.Since(start).Seconds())
		s.cfg.Hub.Publish(live.Event{Topic: "trust"})
		return nil
	}
}

// serveWitness checks a partner checkpoint against the newest one we
// witnessed and cosigns it if the partner's log only grew.
func (s *Service) serveWitness(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	var req witnessRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || len(req.Checkpoint) == 0 || len(req.Proof) > 128 {
		refuse(w, http.StatusBadRequest, "malformed", "the request is not a witness request", 0)
		return
	}
	cp, err := trustlog.OpenCheckpoint(req.Checkpoint, s.partner)
	if err != nil {
		s.Raise(ctx, &trustlog.Alarm{Kind: trustlog.AlarmBadSignature,
			Detail: "the partner presented a checkpoint that does not verify: " + err.Error(), Evidence: body}, true)
		refuse(w, http.StatusUnprocessableEntity, trustlog.AlarmBadSignature, err.Error(), 0)
		return
	}
	// The decision reads the newest checkpoint witnessed and stores the
	// new one in one write transaction: writes are serial across the
	// node's replicas (store.WriterLock), so two requests that reach two
	// replicas at once are decided one after the other.
	var v witnessVerdict
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		v = witnessVerdict{}
		prev, err := trustlog.LatestWitnessed(ctx, tx)
		if err != nil {
			return err
		}
		if v = judge(prev, cp, req); v.status != 0 {
			return nil
		}
		if v.cosig, err = s.log.Cosign(cp); err != nil {
			return err
		}
		return trustlog.SaveWitnessed(ctx, tx, cp)
	})
	if err != nil {
		s.logger.Error("witnessing a partner checkpoint", "err", err)
		refuse(w, http.StatusServiceUnavailable, "temporary", "this node could not store the checkpoint; send it again", 0)
		return
	}
	if v.status != 0 {
		if v.alarm != "" {
			s.Raise(ctx, &trustlog.Alarm{Kind: v.alarm, Detail: v.msg, Evidence: v.evidence}, true)
		}
		refuse(w, v.status, v.code, v.msg, v.size)
		return
	}
	s.cfg.Hub.Publish(live.Event{Topic: "trust"})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(witnessResponse{Cosignature: v.cosig})
}

// witnessVerdict is the answer to a witness request: a refusal (status,
// code, message, the size we witnessed, and the alarm it raises if any)
// or the cosignature.
type witnessVerdict struct {
	status    int
	code, msg string
	size      int64
	alarm     string
	evidence  []byte
	cosig     []byte
}

// judge decides whether cp, presented in req, may be witnessed after
// prev, the newest checkpoint of the partner's we witnessed (nil: none):
// a zero status means yes.
func judge(prev *trustlog.Witnessed, cp *trustlog.Checkpoint, req witnessRequest) witnessVerdict {
	if prev == nil {
		return witnessVerdict{}
	}
	var prevRoot tlog.Hash
	copy(prevRoot[:], prev.Root)
	evidence, _ := json.Marshal(map[string]any{"witnessed": prev.Note, "presented": req.Checkpoint, "old_size": req.OldSize, "proof": req.Proof})
	alarm := func(kind, msg string) witnessVerdict {
		return witnessVerdict{status: http.StatusUnprocessableEntity, code: kind, msg: msg, size: prev.Size, alarm: kind, evidence: evidence}
	}
	switch {
	case cp.Size < prev.Size:
		return alarm(trustlog.AlarmRollback, fmt.Sprintf("the partner's log shrank: it presented %d entries after we had witnessed %d", cp.Size, prev.Size))
	case cp.Size == prev.Size && cp.Root != prevRoot:
		return alarm(trustlog.AlarmFork, fmt.Sprintf("the partner presented two different checkpoints of %d entries", cp.Size))
	case req.OldSize != prev.Size:
		return witnessVerdict{status: http.StatusConflict, code: "old_size", msg: fmt.Sprintf("prove consistency from %d entries", prev.Size), size: prev.Size}
	case cp.Size > prev.Size:
		if err := tlog.CheckTree(req.Proof, cp.Size, cp.Root, prev.Size, prevRoot); err != nil {
			return alarm(trustlog.AlarmFork, fmt.Sprintf("the partner's checkpoint of %d entries does not extend the one of %d we witnessed: %v", cp.Size, prev.Size, err))
		}
	}
	return witnessVerdict{}
}

func refuse(w http.ResponseWriter, status int, code, msg string, size int64) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(witnessRefusal{Error: code, Message: msg, Size: size})
}

// checkStall raises an alarm when an envelope from the partner arrived
// more than StallAfter ago and the partner's log has not been witnessed
// since: every envelope the partner sends is in its log, so its log must
// have grown and been checkpointed by then.
func (s *Service) checkStall(ctx context.Context) error {
	q := s.db.Read()
	prev, err := trustlog.LatestWitnessed(ctx, q)
	if err != nil {
		return err
	}
	s.mu.Lock()
	since := s.started
	s.mu.Unlock()
	if prev != nil && prev.WitnessedAt.After(since) {
		since = prev.WitnessedAt
	}
	overdue := time.Now().Add(-s.cfg.StallAfter)
	if !overdue.After(since) {
		return nil
	}
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM inbox WHERE received_at > ? AND received_at <= ?`, since.UnixMilli(), overdue.UnixMilli()).Scan(&n); err != nil {
		return fmt.Errorf("counting envelopes from the partner: %w", err)
	}
	// A stall is known by its start to the second, as its alarm's
	// evidence gives it (lastStall); one raised since the partner's log
	// was last witnessed already reports this one.
	key := since.UTC().Truncate(time.Second)
	var witnessed time.Time
	if prev != nil {
		witnessed = prev.WitnessedAt.UTC().Truncate(time.Second)
	}
	s.mu.Lock()
	already := stallReported(s.stallFor, witnessed)
	if n > 0 && !already {
		s.stallFor = key
	}
	s.mu.Unlock()
	if n == 0 || already {
		return nil
	}
	size := int64(0)
	if prev != nil {
		size = prev.Size
	}
	s.Raise(ctx, &trustlog.Alarm{Kind: trustlog.AlarmStalled,
		Detail:   fmt.Sprintf("%d envelopes arrived from the partner since %s, more than %s ago, but its log has not been witnessed past %d entries", n, since.UTC().Format(time.RFC3339), s.cfg.StallAfter, size),
		Evidence: []byte(fmt.Sprintf(`{"witnessed_size":%d,"since":%q,"envelopes":%d}`, size, since.UTC().Format(time.RFC3339), n))}, true)
	return nil
}

// stallReported says whether the stall alarm last raised (since
// reported, zero for none) covers a stall that began after the partner's
// log was last witnessed at witnessed (zero: never): it does when it was
// raised for this same stretch without a witness, whichever replica's
// trust loop raised it.
func stallReported(reported, witnessed time.Time) bool {
	return !reported.IsZero() && !reported.Before(witnessed)
}

// lastStall is the "since" of the newest stall alarm this node raised, or
// zero.
func (s *Service) lastStall(ctx context.Context) time.Time {
	var ev []byte
	if err := s.db.Read().QueryRow(ctx, `SELECT evidence FROM log_alarms WHERE kind = ? AND origin = 'self' ORDER BY id DESC LIMIT 1`, trustlog.AlarmStalled).Scan(&ev); err != nil {
		return time.Time{}
	}
	var e struct {
		Since time.Time `json:"since"`
	}
	if json.Unmarshal(ev, &e) != nil {
		return time.Time{}
	}
	return e.Since
}

// alarmBody is a trust.alarm envelope: an alarm raised on the sender's
// node, shown on ours too.
type alarmBody struct {
	Kind     string    `json:"kind"`
	Detail   string    `json:"detail"`
	Evidence []byte    `json:"evidence"`
	RaisedAt time.Time `json:"raised_at"`
}

// Raise stores an alarm, logs it, counts it and, when notify is set, tells
// the partner so that both sides show it.
func (s *Service) Raise(ctx context.Context, a *trustlog.Alarm, notify bool) {
	a.Origin = "self"
	ctx = context.WithoutCancel(ctx)
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := trustlog.SaveAlarm(ctx, tx, a); err != nil {
			return err
		}
		if !notify {
			return nil
		}
		_, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindAlarm, Version: 1, Stream: stream, Caveats: s.cfg.Caveats,
			Body: alarmBody{Kind: a.Kind, Detail: a.Detail, Evidence: a.Evidence, RaisedAt: time.Now().UTC()}})
		return err
	})
	s.logger.Error("transparency log alarm", "kind", a.Kind, "detail", a.Detail, "stored", err == nil)
	s.alarms.WithLabelValues(a.Kind).Inc()
	s.cfg.Hub.Publish(live.Event{Topic: "alarm"})
}

var alarmKinds = map[string]bool{trustlog.AlarmFork: true, trustlog.AlarmRollback: true, trustlog.AlarmBadSignature: true, trustlog.AlarmStalled: true,
	trustlog.AlarmBulkShare: true}

func (s *Service) applyAlarm(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b alarmBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if !alarmKinds[b.Kind] || b.Detail == "" || len(b.Detail) > 4000 || len(b.Evidence) > 1<<20 {
		return link.Reject("the alarm has an unknown kind or an oversized detail")
	}
	a := &trustlog.Alarm{Kind: b.Kind, Origin: env.From, Detail: b.Detail, Evidence: b.Evidence}
	if err := trustlog.SaveAlarm(ctx, tx, a); err != nil {
		return err
	}
	tx.AfterCommit(func() {
		s.logger.Error("transparency log alarm raised by the partner", "kind", b.Kind, "detail", b.Detail)
		s.alarms.WithLabelValues(b.Kind).Inc()
		s.cfg.Hub.Publish(live.Event{Topic: "alarm"})
	})
	return nil
}
