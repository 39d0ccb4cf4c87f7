package match

import (
	"puente/internal/agreement"

	"golang.org/x/sync/errgroup"

	"puente/internal/fault"

	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudflare/circl/oprf"

	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// PathEvaluate is the federation route where the partner's blinded keys
// are evaluated.
const PathEvaluate = "/fed/v1/match/evaluate"

// KindFilter is the envelope that carries a node's match filter.
const KindFilter = "match.filter"

// Entry kinds this package logs.
const (
	KindLookup    = "match.lookup"
	KindEvaluated = "match.evaluated"
	KindImported  = "subjects.imported"
	KindRotated   = "match.key_rotated"
)

// MaxKeys bounds the keys of one lookup.
const MaxKeys = 32

var suite = oprf.SuiteRistretto255

// Errors a lookup can end with.
var (
	ErrNoKeys    = fault.New(fault.ErrInvalid, "no_keys", "the subject has no identifier and no name with a birth year to look up")
	ErrNoFilter  = fault.New(fault.ErrConflict, "no_filter", "the partner has not published its match filter yet")
	ErrStale     = fault.New(fault.ErrConflict, "stale_filter", "the partner rotated its key and its new filter has not arrived yet; try again shortly")
	ErrQuota     = fault.New(fault.ErrUnavailable, "quota", "the partner's daily quota of blind evaluations is used up")
	ErrUnchecked = errors.New("the partner's answer does not fit the request")
)

// Config is what the service needs.
type Config struct {
	DB   *store.DB
	Link *link.Link
	Hub  *live.Hub
	// Agreement gives each side's committed quota, for the figures.
	Agreement *agreement.Agreement
	Logger    *slog.Logger
	// Quota is how many evaluations this node answers for the partner per
	// UTC day (the agreement's commitment, or an operator's lower cap).
	Quota int
	// BulkQuota is how many evaluations of bulk cross-matches this node
	// answers for the partner per UTC day. Default 1,000,000.
	BulkQuota int
	// ProbeQuota is how many evaluations of operation probes this node
	// answers for the partner per UTC day (default
	// agreement.DefaultDeconflictPerDay).
	ProbeQuota int
	// RotateEvery is how old the OPRF key may get. Default 24 h.
	RotateEvery time.Duration
	// BulkAlarmPercent: the share of BulkQuota that, used by the partner
	// within one hour, raises Alarm (0: none).
	BulkAlarmPercent int
	// Alarm, if set, raises an alarm on both sides (trust.Service.Raise).
	Alarm func(ctx context.Context, kind, detail string)
	// Inspect, if set, sees every request and answer body of a lookup as
	// it crosses the link (tests use it to show nothing leaks).
	Inspect func(what string, body []byte)
}

// Service is one node's side of blind matching.
type Service struct {
	cfg    Config
	db     *store.DB
	link   *link.Link
	log    *trustlog.Log
	logger *slog.Logger
	evalMu sync.Mutex

	jobWake chan struct{}

	filterMu sync.Mutex
	filter   cachedFilter // the partner's newest filter, kept in memory
}

type cachedFilter struct {
	epoch, at int64
	fps       []byte
}

// partnerFilter returns the partner's newest filter, reading the blob only
// when a new one has arrived.
func (s *Service) partnerFilter(ctx context.Context) (int64, []byte, error) {
	var epoch, at int64
	err := s.db.Read().QueryRow(ctx, `SELECT epoch, received_at FROM match_filters ORDER BY epoch DESC LIMIT 1`).Scan(&epoch, &at)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, ErrNoFilter
	}
	if err != nil {
		return 0, nil, fmt.Errorf("reading the partner's filter: %w", err)
	}
	s.filterMu.Lock()
	defer s.filterMu.Unlock()
	if s.filter.epoch == epoch && s.filter.at == at {
		return epoch, s.filter.fps, nil
	}
	var fps []byte
	if err := s.db.Read().QueryRow(ctx, `SELECT fingerprints FROM match_filters WHERE epoch = ?`, epoch).Scan(&fps); err != nil {
		return 0, nil, fmt.Errorf("reading the partner's filter: %w", err)
	}
	s.filter = cachedFilter{epoch: epoch, at: at, fps: fps}
	return epoch, fps, nil
}

// New returns the service; the node registers its Kinds and
// FederationRoutes.
func New(cfg Config) *Service {
	if cfg.RotateEvery == 0 {
		cfg.RotateEvery = 24 * time.Hour
	}
	if cfg.Quota <= 0 {
		cfg.Quota = 5000
	}
	if cfg.BulkQuota <= 0 {
		cfg.BulkQuota = agreement.DefaultBulkEvaluations
	}
	if cfg.ProbeQuota <= 0 {
		cfg.ProbeQuota = agreement.DefaultDeconflictPerDay
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, db: cfg.DB, link: cfg.Link, log: cfg.Link.TrustLog(), logger: cfg.Logger, jobWake: make(chan struct{}, 1)}
	return s
}

// Quota is the daily number of evaluations this node answers.
func (s *Service) Quota() int { return s.cfg.Quota }

// Import adds or replaces subjects (by ref) in the index, in one
// transaction: a subject with a malformed identifier stops the import and
// nothing is stored. The filter is republished by Run.
func (s *Service) Import(ctx context.Context, subjects []Subject) (int, error) {
	return Import(ctx, s.db, s.log, subjects)
}

// Import adds or replaces subjects in the index of the node whose store is
// db and whose log is tl, for tools that run beside a node ("puente
// subjects import"): the running node republishes its filter.
func Import(ctx context.Context, db *store.DB, tl *trustlog.Log, subjects []Subject) (int, error) {
	keys, err := subjectKeys(subjects)
	if err != nil {
		return 0, err
	}
	err = db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		return importTx(ctx, tx, tl, subjects, keys)
	})
	if err != nil {
		return 0, err
	}
	return len(subjects), nil
}

// ImportTx adds or replaces subjects inside tx, for domain services that
// index their own records in the transaction that changes them.
func ImportTx(ctx context.Context, tx *store.Tx, tl *trustlog.Log, subjects []Subject) error {
	keys, err := subjectKeys(subjects)
	if err != nil {
		return err
	}
	return importTx(ctx, tx, tl, subjects, keys)
}

// subjectKeys derives every subject's keys before anything is written: a
// subject with a malformed identifier stops the import.
func subjectKeys(subjects []Subject) ([][]string, error) {
	keys := make([][]string, len(subjects))
	for i, sub := range subjects {
		sub.Ref = strings.TrimSpace(sub.Ref)
		if sub.Ref == "" || len(sub.Ref) > 200 {
			return nil, &fault.FieldError{Field: fmt.Sprintf("subject %d: ref", i+1), Code: "invalid_ref", Err: errors.New("each subject needs a reference of 1 to 200 characters")}
		}
		k, err := sub.Keys()
		if err != nil {
			var fe *fault.FieldError
			if errors.As(err, &fe) {
				return nil, &fault.FieldError{Field: fmt.Sprintf("subject %d (%s): %s", i+1, sub.Ref, fe.Field), Code: fe.Code, Err: fe.Err}
			}
			return nil, err
		}
		keys[i] = k
	}
	return keys, nil
}

func importTx(ctx context.Context, tx *store.Tx, tl *trustlog.Log, subjects []Subject, keys [][]string) error {
	for i, sub := range subjects {
		if _, err := tx.Exec(ctx, `DELETE FROM subjects WHERE ref = ?`, strings.TrimSpace(sub.Ref)); err != nil {
			return fmt.Errorf("replacing subject %s: %w", sub.Ref, err)
		}
		source := sub.Source
		if source == "" {
			source = "import"
		}
		id, err := tx.InsertID(ctx, `INSERT INTO subjects (ref, source, label, created_at) VALUES (?, ?, ?, ?)`,
			strings.TrimSpace(sub.Ref), source, sub.Name, store.Now())
		if err != nil {
			return fmt.Errorf("storing subject %s: %w", sub.Ref, err)
		}
		for _, k := range keys[i] {
			if _, err := tx.Exec(ctx, `INSERT INTO subject_keys (subject_id, key) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, k); err != nil {
				return fmt.Errorf("storing subject %s: %w", sub.Ref, err)
			}
		}
	}
	if err := bump(ctx, tx, "version"); err != nil {
		return err
	}
	_, err := tl.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: KindImported, Actor: trustlog.ActorOf(ctx),
		Object: "subjects", Detail: fmt.Sprintf("count=%d", len(subjects))})
	return err
}

func bump(ctx context.Context, tx *store.Tx, name string) error {
	_, err := tx.Exec(ctx, `INSERT INTO match_state (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = match_state.value + 1`, name)
	if err != nil {
		return fmt.Errorf("counting subject changes: %w", err)
	}
	return nil
}

func state(ctx context.Context, q store.Querier, name string) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, `SELECT value FROM match_state WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return v, err
}

// currentKey is the newest OPRF key.
func currentKey(ctx context.Context, q store.Querier) (int64, *oprf.PrivateKey, time.Time, error) {
	return keyWhere(ctx, q, `ORDER BY epoch DESC LIMIT 1`)
}

// keyOf is the key of epoch, if it is still kept.
func keyOf(ctx context.Context, q store.Querier, epoch int64) (*oprf.PrivateKey, error) {
	e, k, _, err := keyWhere(ctx, q, `WHERE epoch = ?`, epoch)
	if e == 0 {
		return nil, err
	}
	return k, err
}

func keyWhere(ctx context.Context, q store.Querier, cond string, args ...any) (int64, *oprf.PrivateKey, time.Time, error) {
	var epoch, created int64
	var raw []byte
	err := q.QueryRow(ctx, `SELECT epoch, private_key, created_at FROM match_keys `+cond, args...).Scan(&epoch, &raw, &created)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, time.Time{}, nil
	}
	if err != nil {
		return 0, nil, time.Time{}, fmt.Errorf("reading the match key: %w", err)
	}
	k := new(oprf.PrivateKey)
	if err := k.UnmarshalBinary(suite, raw); err != nil {
		return 0, nil, time.Time{}, fmt.Errorf("reading the match key: %w", err)
	}
	return epoch, k, store.Time(created), nil
}

// Rotate makes a new OPRF key and publishes a filter under it. The
// previous key still answers lookups made with the previous filter until
// the next rotation; older keys are deleted.
func (s *Service) Rotate(ctx context.Context) error {
	k, err := oprf.GenerateKey(suite, rand.Reader)
	if err != nil {
		return fmt.Errorf("making a match key: %w", err)
	}
	raw, err := k.MarshalBinary()
	if err != nil {
		return err
	}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		epoch, _, _, err := currentKey(ctx, tx)
		if err != nil {
			return err
		}
		epoch++
		if _, err := tx.Exec(ctx, `INSERT INTO match_keys (epoch, private_key, created_at) VALUES (?, ?, ?)`, epoch, raw, store.Now()); err != nil {
			return fmt.Errorf("storing the match key: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM match_keys WHERE epoch < ?`, epoch-1); err != nil {
			return fmt.Errorf("retiring old match keys: %w", err)
		}
		_, err = s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: KindRotated, Actor: "node:" + s.link.Self(),
			Object: fmt.Sprintf("match_key:%d", epoch)})
		return err
	})
	if err != nil {
		return err
	}
	return s.publish(ctx)
}

// filterBody is a match.filter envelope: the 64-bit fingerprints of the
// OPRF outputs of every key of every subject, sorted.
type filterBody struct {
	Epoch        int64  `json:"epoch"`
	Count        int    `json:"count"`
	Fingerprints []byte `json:"fingerprints"`
}

// refresh computes, in batches and outside any long transaction, the
// fingerprints of the keys not yet evaluated under the key of epoch.
func (s *Service) refresh(ctx context.Context, epoch int64, key *oprf.PrivateKey) error {
	srv := oprf.NewServer(suite, key)
	type row struct {
		id  int64
		key string
		fp  uint64
	}
	for {
		rows, err := s.db.Read().Query(ctx, `SELECT subject_id, key FROM subject_keys WHERE fp_epoch < ? LIMIT 2000`, epoch)
		if err != nil {
			return fmt.Errorf("reading subject keys: %w", err)
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.key); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if len(batch) == 0 {
			return nil
		}
		for i := range batch {
			out, err := srv.FullEvaluate([]byte(batch[i].key))
			if err != nil {
				return fmt.Errorf("evaluating the index: %w", err)
			}
			batch[i].fp = binary.BigEndian.Uint64(out)
		}
		err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			for _, r := range batch {
				if _, err := tx.Exec(ctx, `UPDATE subject_keys SET fp = ?, fp_epoch = ? WHERE subject_id = ? AND key = ?`, int64(r.fp), epoch, r.id, r.key); err != nil {
					return fmt.Errorf("storing fingerprints: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// publish brings the fingerprints up to date under the current key and
// sends the filter to the partner.
func (s *Service) publish(ctx context.Context) error {
	q := s.db.Read()
	version, err := state(ctx, q, "version")
	if err != nil {
		return err
	}
	epoch, key, _, err := currentKey(ctx, q)
	if err != nil || key == nil {
		return err
	}
	if err := s.refresh(ctx, epoch, key); err != nil {
		return err
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT fp FROM subject_keys WHERE fp_epoch = ?`, epoch)
	if err != nil {
		return fmt.Errorf("reading fingerprints: %w", err)
	}
	var fps []uint64
	for rows.Next() {
		var f int64
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			return err
		}
		fps = append(fps, uint64(f))
	}
	rows.Close()
	slices.Sort(fps)
	fps = slices.Compact(fps)
	buf := make([]byte, 8*len(fps))
	for i, f := range fps {
		binary.BigEndian.PutUint64(buf[8*i:], f)
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindFilter, Version: 1, Stream: "match", Caveats: map[string]any{},
			Body: filterBody{Epoch: epoch, Count: len(fps), Fingerprints: buf}}); err != nil {
			return fmt.Errorf("publishing the match filter: %w", err)
		}
		for name, v := range map[string]int64{"published": version, "published_epoch": epoch} {
			if _, err := tx.Exec(ctx, `INSERT INTO match_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Run keeps the filter current: it makes the first key, republishes when
// the index changed, and rotates the key when it is older than
// RotateEvery.
// The cross-match jobs run beside it; Run returns once both have stopped.
func (s *Service) Run(ctx context.Context) error {
	var g errgroup.Group
	g.Go(func() error {
		s.runJobs(ctx)
		return nil
	})
	g.Go(func() error {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			if err := s.tick(ctx); err != nil && ctx.Err() == nil {
				s.logger.Warn("match: keeping the filter current", "err", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	return g.Wait()
}

func (s *Service) tick(ctx context.Context) error {
	q := s.db.Read()
	epoch, _, created, err := currentKey(ctx, q)
	if err != nil {
		return err
	}
	if epoch == 0 || time.Since(created) > s.cfg.RotateEvery {
		return s.Rotate(ctx)
	}
	v, err := state(ctx, q, "version")
	if err != nil {
		return err
	}
	p, err := state(ctx, q, "published")
	if err != nil {
		return err
	}
	pe, err := state(ctx, q, "published_epoch")
	if err != nil {
		return err
	}
	if v == p && pe == epoch {
		return nil
	}
	return s.publish(ctx)
}

// applyFilter stores the partner's filter; the two newest epochs are kept.
func (s *Service) applyFilter(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b filterBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if b.Epoch <= 0 || len(b.Fingerprints)%8 != 0 || b.Count != len(b.Fingerprints)/8 {
		return link.Reject("the match filter's epoch, count and fingerprints do not agree")
	}
	for i := 8; i < len(b.Fingerprints); i += 8 {
		if bytes.Compare(b.Fingerprints[i-8:i], b.Fingerprints[i:i+8]) >= 0 {
			return link.Reject("the match filter is not sorted")
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO match_filters (epoch, fingerprints, keys_count, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (epoch) DO UPDATE SET fingerprints = excluded.fingerprints, keys_count = excluded.keys_count, received_at = excluded.received_at`,
		b.Epoch, b.Fingerprints, b.Count, store.Now()); err != nil {
		return fmt.Errorf("storing the partner's match filter: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM match_filters WHERE epoch < ?`, b.Epoch-1); err != nil {
		return err
	}
	// Areas that check against the partner's index (operations) check
	// again at once.
	if s.cfg.Hub != nil {
		tx.AfterCommit(func() { s.cfg.Hub.Publish(live.Event{Topic: Name, Key: FilterEvent}) })
	}
	return nil
}

// FilterEvent is the key of the hub event published when a new filter
// of the partner's has been stored.
const FilterEvent = "filter"

type evalRequest struct {
	Epoch    int64    `json:"epoch"`
	Elements [][]byte `json:"elements"`
}

type evalResponse struct {
	Epoch    int64    `json:"epoch"`
	Elements [][]byte `json:"elements"`
}

type evalRefusal struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Epoch   int64  `json:"epoch,omitempty"`
}

func refuse(w http.ResponseWriter, status int, code, msg string, epoch int64) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(evalRefusal{Error: code, Message: msg, Epoch: epoch})
}

func day() string { return time.Now().UTC().Format("2006-01-02") }

// serveEvaluate evaluates the partner's blinded keys under our current
// key: it sees group elements only. Every evaluation counts against the
// daily quota and is logged.
func (s *Service) serveEvaluate(w http.ResponseWriter, r *http.Request) {
	s.evaluate(w, r, MaxKeys, "served", s.cfg.Quota, KindEvaluated)
}

// evaluate answers an evaluation request of at most max elements, counted
// against quota on usage row side and logged as kind.
func (s *Service) evaluate(w http.ResponseWriter, r *http.Request, max int, side string, quota int, kind string) {
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(max)*64+4096))
	var req evalRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || len(req.Elements) == 0 || len(req.Elements) > max {
		refuse(w, http.StatusBadRequest, "malformed", fmt.Sprintf("send 1 to %d blinded elements", max), 0)
		return
	}
	g := suite.Group()
	blinded := make([]oprf.Blinded, len(req.Elements))
	for i, e := range req.Elements {
		blinded[i] = g.NewElement()
		if err := blinded[i].UnmarshalBinary(e); err != nil {
			refuse(w, http.StatusBadRequest, "malformed", fmt.Sprintf("element %d is not a ristretto255 element", i), 0)
			return
		}
	}
	s.evalMu.Lock()
	defer s.evalMu.Unlock()
	current, _, _, err := currentKey(ctx, s.db.Read())
	if err != nil || current == 0 {
		refuse(w, http.StatusServiceUnavailable, "temporary", "this node has no match key yet", 0)
		return
	}
	epoch := req.Epoch
	key, err := keyOf(ctx, s.db.Read(), epoch)
	if err != nil || key == nil {
		refuse(w, http.StatusConflict, "epoch", "that key has been retired; use the newest filter", current)
		return
	}
	ev, err := oprf.NewServer(suite, key).Evaluate(&oprf.EvaluationRequest{Elements: blinded})
	if err != nil {
		refuse(w, http.StatusBadRequest, "malformed", "the elements cannot be evaluated", 0)
		return
	}
	var over bool
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		over = false
		var used int64
		err := tx.QueryRow(ctx, `SELECT evaluations FROM match_usage WHERE day = ? AND side = ?`, day(), side).Scan(&used)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if used+int64(len(blinded)) > int64(quota) {
			over = true
			_, err := s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: kind, Actor: "node:" + s.link.Partner(),
				Object: "match_key:" + fmt.Sprint(epoch), Detail: fmt.Sprintf("refused=quota keys=%d used=%d quota=%d", len(blinded), used, quota)})
			return err
		}
		if err := addUsage(ctx, tx, side, len(blinded)); err != nil {
			return err
		}
		if side == "bulk_served" {
			if err := s.watchBulkShare(ctx, tx, quota, len(blinded)); err != nil {
				return err
			}
		}
		_, err = s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: kind, Actor: "node:" + s.link.Partner(),
			Object: "match_key:" + fmt.Sprint(epoch), Detail: fmt.Sprintf("keys=%d", len(blinded))})
		return err
	})
	if err != nil {
		refuse(w, http.StatusServiceUnavailable, "temporary", "this node could not record the evaluation", 0)
		return
	}
	if over {
		refuse(w, http.StatusTooManyRequests, "quota", fmt.Sprintf("the daily quota of %d evaluations is used up", quota), epoch)
		return
	}
	resp := evalResponse{Epoch: epoch}
	for _, e := range ev.Elements {
		b, err := e.MarshalBinary()
		if err != nil {
			refuse(w, http.StatusServiceUnavailable, "temporary", "encoding failed", 0)
			return
		}
		resp.Elements = append(resp.Elements, b)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// watchBulkShare counts this hour's bulk evaluations for the partner and,
// the first time they pass BulkAlarmPercent of the daily quota within the
// hour, raises an alarm on both sides: a partner walking through
// low-entropy keys shows up within the hour, not at the end of the day.
func (s *Service) watchBulkShare(ctx context.Context, tx *store.Tx, quota, n int) error {
	if s.cfg.BulkAlarmPercent <= 0 || s.cfg.Alarm == nil {
		return nil
	}
	hour := fmt.Sprintf("bulk_served_h%02d", time.Now().UTC().Hour())
	var before int64
	err := tx.QueryRow(ctx, `SELECT evaluations FROM match_usage WHERE day = ? AND side = ?`, day(), hour).Scan(&before)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := addUsage(ctx, tx, hour, n); err != nil {
		return err
	}
	limit := int64(quota) * int64(s.cfg.BulkAlarmPercent) / 100
	if before <= limit && before+int64(n) > limit {
		detail := fmt.Sprintf("the partner asked %d bulk evaluations within this hour, over %d%% of the daily %d", before+int64(n), s.cfg.BulkAlarmPercent, quota)
		// After the commit, and on its own goroutine: raising writes to the
		// store, which an AfterCommit callback (on the writer) must not.
		actx := context.WithoutCancel(ctx)
		tx.AfterCommit(func() { go s.cfg.Alarm(actx, trustlog.AlarmBulkShare, detail) })
	}
	return nil
}

func addUsage(ctx context.Context, tx *store.Tx, side string, n int) error {
	_, err := tx.Exec(ctx, `INSERT INTO match_usage (day, side, evaluations, lookups) VALUES (?, ?, ?, 1)
		ON CONFLICT (day, side) DO UPDATE SET evaluations = match_usage.evaluations + excluded.evaluations, lookups = match_usage.lookups + 1`,
		day(), side, n)
	if err != nil {
		return fmt.Errorf("counting evaluations: %w", err)
	}
	return nil
}

// Result is what a lookup found.
type Result struct {
	Hit      bool     `json:"hit"`
	Strength string   `json:"strength"` // "strong": an identifier hit; "possible": only the name and year; "none"
	Hits     []string `json:"hit_key_types"`
	Asked    []string `json:"asked_key_types"`
	Keys     int      `json:"keys"` // keys asked (a type may have several)
	Epoch    int64    `json:"partner_epoch"`
	LogIndex int64    `json:"log_index"`
}

// Lookup asks whether the partner knows sub, blind: only blinded group
// elements leave the node, and the answer is checked against the
// partner's filter here. actor is who asked, for the log.
func (s *Service) Lookup(ctx context.Context, actor string, sub Subject) (*Result, error) {
	keys, err := sub.Keys()
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	if len(keys) > MaxKeys {
		return nil, fmt.Errorf("a lookup has at most %d keys", MaxKeys)
	}
	epoch, fps, err := s.partnerFilter(ctx)
	if err != nil {
		return nil, err
	}
	outs, err := s.evaluateBlind(ctx, PathEvaluate, epoch, asInputs(keys))
	if err != nil {
		return nil, err
	}
	res := &Result{Epoch: epoch, Strength: "none", Keys: len(keys)}
	hitSet := map[string]bool{}
	for i, out := range outs {
		t := KeyType(keys[i])
		if !slices.Contains(res.Asked, t) {
			res.Asked = append(res.Asked, t)
		}
		if inFilter(fps, binary.BigEndian.Uint64(out)) {
			hitSet[t] = true
		}
	}
	for _, t := range KeyTypes {
		if hitSet[t] {
			res.Hits = append(res.Hits, t)
		}
	}
	res.Hit = len(res.Hits) > 0
	switch {
	case res.Hit && !(len(res.Hits) == 1 && res.Hits[0] == "name_year"):
		res.Strength = "strong"
	case res.Hit:
		res.Strength = "possible"
	}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := addUsage(ctx, tx, "asked", len(keys)); err != nil {
			return err
		}
		idx, err := s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: KindLookup, Actor: actor,
			Object: "match_key:" + s.link.Partner() + ":" + fmt.Sprint(epoch),
			Detail: fmt.Sprintf("keys=%d hits=%s", len(keys), strings.Join(res.Hits, ","))})
		if err == nil {
			res.LogIndex = idx[0]
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func inFilter(fps []byte, f uint64) bool {
	n := len(fps) / 8
	i, j := 0, n
	for i < j {
		h := int(uint(i+j) >> 1)
		if binary.BigEndian.Uint64(fps[8*h:]) < f {
			i = h + 1
		} else {
			j = h
		}
	}
	return i < n && binary.BigEndian.Uint64(fps[8*i:]) == f
}

// Published reports whether the filter last sent to the partner reflects
// every change to the index under the current key.
func (s *Service) Published(ctx context.Context) (bool, error) {
	q := s.db.Read()
	epoch, _, _, err := currentKey(ctx, q)
	if err != nil {
		return false, err
	}
	v, err := state(ctx, q, "version")
	if err != nil {
		return false, err
	}
	p, err := state(ctx, q, "published")
	if err != nil {
		return false, err
	}
	pe, err := state(ctx, q, "published_epoch")
	return err == nil && epoch != 0 && v == p && pe == epoch, err
}

// Usage is today's figures for the reciprocity view.
type Usage struct {
	Day             string `json:"day"`
	AskedLookups    int64  `json:"asked_lookups"`
	AskedKeys       int64  `json:"asked_evaluations"`
	ServedLookups   int64  `json:"served_lookups"`
	ServedKeys      int64  `json:"served_evaluations"`
	Quota           int    `json:"quota_served_per_day"`
	Subjects        int64  `json:"subjects"`
	PartnerKeys     int64  `json:"partner_filter_keys"`
	PartnerEpoch    int64  `json:"partner_epoch"`
	PartnerFilterAt string `json:"partner_filter_at,omitempty"`
}

// Totals counts blind evaluations over every day: lookups and their keys,
// and the keys of bulk cross-matches.
type Totals struct {
	Lookups         int64 `json:"lookups"`
	Evaluations     int64 `json:"evaluations"`
	BulkEvaluations int64 `json:"bulk_evaluations"`
}

// TotalUsage returns what this node asked the partner to evaluate and
// what it evaluated for the partner, for the reciprocity figures.
func (s *Service) TotalUsage(ctx context.Context) (asked, served Totals, err error) {
	rows, err := s.db.Read().Query(ctx, `SELECT side, SUM(lookups), SUM(evaluations) FROM match_usage GROUP BY side`)
	if err != nil {
		return asked, served, fmt.Errorf("reading match usage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var side string
		var l, e int64
		if err := rows.Scan(&side, &l, &e); err != nil {
			return asked, served, err
		}
		switch side {
		case "asked":
			asked.Lookups, asked.Evaluations = l, e
		case "served":
			served.Lookups, served.Evaluations = l, e
		case "bulk_asked":
			asked.BulkEvaluations = e
		case "bulk_served":
			served.BulkEvaluations = e
		}
	}
	return asked, served, rows.Err()
}

// TodayUsage reads today's counts and the index sizes.
func (s *Service) TodayUsage(ctx context.Context) (*Usage, error) {
	q := s.db.Read()
	u := &Usage{Day: day(), Quota: s.cfg.Quota}
	for _, side := range []string{"asked", "served"} {
		var l, e int64
		err := q.QueryRow(ctx, `SELECT lookups, evaluations FROM match_usage WHERE day = ? AND side = ?`, u.Day, side).Scan(&l, &e)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if side == "asked" {
			u.AskedLookups, u.AskedKeys = l, e
		} else {
			u.ServedLookups, u.ServedKeys = l, e
		}
	}
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM subjects`).Scan(&u.Subjects); err != nil {
		return nil, err
	}
	var at int64
	err := q.QueryRow(ctx, `SELECT epoch, keys_count, received_at FROM match_filters ORDER BY epoch DESC LIMIT 1`).Scan(&u.PartnerEpoch, &u.PartnerKeys, &at)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if at != 0 {
		u.PartnerFilterAt = store.Time(at).UTC().Format(time.RFC3339)
	}
	return u, nil
}
