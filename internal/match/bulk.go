package match

import (
	"puente/internal/fault"

	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"puente/internal/live"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// PathBulk is the federation route for the batches of a bulk cross-match.
const PathBulk = "/fed/v1/match/bulk"

// MaxBulkBatch bounds one batch of a bulk cross-match.
const MaxBulkBatch = 512

// Log entry kinds of bulk cross-matches.
const (
	KindBulkStarted   = "match.bulk_started"
	KindBulkFinished  = "match.bulk_finished"
	KindBulkEvaluated = "match.bulk_evaluated"
)

// Job states.
const (
	JobRunning   = "running"
	JobDone      = "done"
	JobCancelled = "cancelled"
)

// ErrNoJob is an unknown cross-match, another agency's, or (to cancel)
// one that is no longer running.
var ErrNoJob = fault.New(fault.ErrNotFound, "no_job", "no such cross-match running for your agency")

// Job is one bulk cross-match of this node's subjects against the
// partner's index. It is a private set intersection: this node learns
// which of its own subjects the partner knows, the partner learns only how
// many keys were evaluated.
type Job struct {
	ID     int64  `json:"id"`
	Source string `json:"source"` // "index" or "list"
	State  string `json:"state"`
	Total  int64  `json:"total_keys"`
	Done   int64  `json:"done_keys"`
	Hits   int64  `json:"hit_keys"`
	// HitSubjects are our subjects with at least one key that hit: the
	// rows of the job's hits.
	HitSubjects int64     `json:"hit_subjects"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Error       string    `json:"error,omitempty"`
}

// Percent is the job's progress.
func (j *Job) Percent() int {
	if j.Total == 0 {
		return 100
	}
	return int(j.Done * 100 / j.Total)
}

// JobHit is one of our subjects the partner knows, with the key types
// that hit.
type JobHit struct {
	Ref   string   `json:"ref"`
	Types []string `json:"hit_key_types"`
	// Label and Source are our subject's, from our index ("" for a row of
	// a list that is not in it).
	Label  string `json:"label,omitempty"`
	Source string `json:"source,omitempty"`
}

// Sent reports whether the subject is one this side itself sent to the
// partner (a released priority target): a hit on it is no discovery.
func (h JobHit) Sent() bool { return h.Source == "target" }

// StartJob starts a cross-match of subjects against the partner's index,
// or of this node's whole index when subjects is nil. A malformed
// identifier stops it before anything is stored or sent.
func (s *Service) StartJob(ctx context.Context, actor string, subjects []Subject) (*Job, error) {
	type item struct{ ref, key string }
	var items []item
	source := "list"
	if subjects == nil {
		source = "index"
		rows, err := s.db.Read().Query(ctx, `SELECT s.ref, k.key FROM subject_keys k JOIN subjects s ON s.id = k.subject_id ORDER BY s.id, k.key`)
		if err != nil {
			return nil, fmt.Errorf("reading the index: %w", err)
		}
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.ref, &it.key); err != nil {
				rows.Close()
				return nil, err
			}
			items = append(items, it)
		}
		rows.Close()
	} else {
		for i, sub := range subjects {
			keys, err := sub.Keys()
			if err != nil {
				var fe *fault.FieldError
				if errors.As(err, &fe) {
					return nil, &fault.FieldError{Field: fmt.Sprintf("subject %d (%s): %s", i+1, sub.Ref, fe.Field), Code: fe.Code, Err: fe.Err}
				}
				return nil, err
			}
			ref := strings.TrimSpace(sub.Ref)
			if ref == "" {
				ref = fmt.Sprint(i + 1)
			}
			for _, k := range keys {
				items = append(items, item{ref, k})
			}
		}
	}
	if len(items) == 0 {
		return nil, ErrNoKeys
	}
	var id int64
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		now := store.Now()
		id, err = tx.InsertID(ctx, `INSERT INTO match_jobs (source, state, total, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			source, JobRunning, len(items), actor, now, now)
		if err != nil {
			return fmt.Errorf("starting a cross-match: %w", err)
		}
		const chunk = 200
		for start := 0; start < len(items); start += chunk {
			part := items[start:min(start+chunk, len(items))]
			q := `INSERT INTO match_job_items (job_id, seq, subject_ref, key) VALUES ` + store.Tuples(len(part), 4)
			args := make([]any, 0, 4*len(part))
			for i, it := range part {
				args = append(args, id, start+i, it.ref, it.key)
			}
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return fmt.Errorf("starting a cross-match: %w", err)
			}
		}
		_, err = s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: KindBulkStarted, Actor: actor,
			Object: fmt.Sprintf("crossmatch:%d", id), Detail: fmt.Sprintf("source=%s keys=%d", source, len(items))})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.wakeJobs()
	return s.Job(ctx, id)
}

func (s *Service) wakeJobs() {
	select {
	case s.jobWake <- struct{}{}:
	default:
	}
}

const jobCols = `id, source, state, total, done, hits, created_by, created_at, updated_at, error`

func scanJob(r store.Scanner) (*Job, error) {
	var j Job
	var c, u int64
	if err := r.Scan(&j.ID, &j.Source, &j.State, &j.Total, &j.Done, &j.Hits, &j.CreatedBy, &c, &u, &j.Error); err != nil {
		return nil, err
	}
	j.CreatedAt, j.UpdatedAt = store.Time(c), store.Time(u)
	return &j, nil
}

// Job reads one cross-match.
func (s *Service) Job(ctx context.Context, id int64) (*Job, error) {
	j, err := scanJob(s.db.Read().QueryRow(ctx, `SELECT `+jobCols+` FROM match_jobs WHERE id = ?`, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoJob
	}
	if err != nil {
		return nil, fmt.Errorf("reading cross-match %d: %w", id, err)
	}
	return j, nil
}

// jobsOf lists the newest cross-matches started by users of agency
// (created_by is "user:<name>@<agency>"; the pattern is built in SQL so
// the statement is prepared once).
func (s *Service) jobsOf(ctx context.Context, agency string, limit int) ([]Job, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT `+jobCols+` FROM match_jobs WHERE created_by LIKE '%@' || ? ORDER BY id DESC LIMIT ?`, agency, limit)
	if err != nil {
		return nil, fmt.Errorf("listing cross-matches: %w", err)
	}
	jobs, err := store.Collect(rows, func(r store.Scanner) (Job, error) {
		j, err := scanJob(r)
		if err != nil {
			return Job{}, err
		}
		return *j, nil
	})
	if err != nil {
		return nil, err
	}
	for i := range jobs {
		if jobs[i].Hits == 0 {
			continue
		}
		if err := s.db.Read().QueryRow(ctx, `SELECT COUNT(DISTINCT subject_ref) FROM match_job_items WHERE job_id = ? AND hit = 1`, jobs[i].ID).Scan(&jobs[i].HitSubjects); err != nil {
			return nil, fmt.Errorf("counting a cross-match's subjects: %w", err)
		}
	}
	return jobs, nil
}

// JobHits lists our subjects that hit, so far.
func (s *Service) JobHits(ctx context.Context, id int64) ([]JobHit, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT i.subject_ref, i.key, COALESCE(s.label, ''), COALESCE(s.source, '') FROM match_job_items i
		LEFT JOIN subjects s ON s.ref = i.subject_ref WHERE i.job_id = ? AND i.hit = 1 ORDER BY i.seq`, id)
	if err != nil {
		return nil, fmt.Errorf("reading cross-match hits: %w", err)
	}
	defer rows.Close()
	byRef := map[string]map[string]bool{}
	about := map[string][2]string{}
	var order []string
	for rows.Next() {
		var ref, key, label, source string
		if err := rows.Scan(&ref, &key, &label, &source); err != nil {
			return nil, err
		}
		if byRef[ref] == nil {
			byRef[ref] = map[string]bool{}
			order = append(order, ref)
			about[ref] = [2]string{label, source}
		}
		byRef[ref][KeyType(key)] = true
	}
	out := make([]JobHit, 0, len(order))
	for _, ref := range order {
		h := JobHit{Ref: ref, Label: about[ref][0], Source: about[ref][1]}
		for t := range byRef[ref] {
			h.Types = append(h.Types, t)
		}
		sort.Strings(h.Types)
		out = append(out, h)
	}
	return out, rows.Err()
}

// CancelJob stops a running cross-match; what was done stays.
func (s *Service) CancelJob(ctx context.Context, id int64, actor string) error {
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE match_jobs SET state = ?, updated_at = ? WHERE id = ? AND state = ?`, JobCancelled, store.Now(), id, JobRunning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoJob
		}
		_, err = s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: KindBulkFinished, Actor: actor,
			Object: fmt.Sprintf("crossmatch:%d", id), Detail: "state=cancelled"})
		return err
	})
}

// jobWorkers is how many batches of a cross-match are in flight: while the
// partner evaluates one, this node blinds or unblinds another.
const jobWorkers = 2

// runJobs works through running cross-matches, a batch at a time per
// worker, until ctx ends. Progress is in the store, so a restart resumes.
func (s *Service) runJobs(ctx context.Context) {
	for w := 1; w < jobWorkers; w++ {
		go s.jobLoop(ctx, w)
	}
	s.jobLoop(ctx, 0)
}

func (s *Service) jobLoop(ctx context.Context, slot int) {
	for {
		worked, err := s.jobStep(ctx, slot, jobWorkers)
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("match: cross-match", "err", err)
		}
		if worked && err == nil {
			continue
		}
		wait := time.Second
		if err != nil {
			wait = 5 * time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.jobWake:
			if slot == 0 {
				for w := 1; w < jobWorkers; w++ {
					select {
					case s.jobWake <- struct{}{}:
					default:
					}
				}
			}
		case <-t.C:
		}
		t.Stop()
	}
}

// JobStep evaluates one batch of the oldest running cross-match. It
// reports whether there was work.
func (s *Service) JobStep(ctx context.Context) (bool, error) { return s.jobStep(ctx, 0, 1) }

// jobStep takes the next pending batch of the slots-th share that is
// slot's: batches (seq / MaxBulkBatch) are dealt round the workers.
func (s *Service) jobStep(ctx context.Context, slot, slots int) (bool, error) {
	q := s.db.Read()
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM match_jobs WHERE state = ? ORDER BY id LIMIT 1`, JobRunning).Scan(&id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	rows, err := q.Query(ctx, `SELECT seq, key FROM match_job_items WHERE job_id = ? AND state = 0 AND (seq / ?) % ? = ? ORDER BY seq LIMIT ?`,
		id, MaxBulkBatch, slots, slot, MaxBulkBatch)
	if err != nil {
		return false, err
	}
	var seqs []int64
	var inputs [][]byte
	for rows.Next() {
		var seq int64
		var key string
		if err := rows.Scan(&seq, &key); err != nil {
			rows.Close()
			return false, err
		}
		seqs = append(seqs, seq)
		inputs = append(inputs, []byte(key))
	}
	rows.Close()
	if len(seqs) == 0 {
		var left int
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM match_job_items WHERE job_id = ? AND state = 0`, id).Scan(&left); err != nil {
			return false, err
		}
		if left > 0 {
			return false, nil // the other workers' batches remain
		}
		err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			var hits int64
			if err := tx.QueryRow(ctx, `SELECT hits FROM match_jobs WHERE id = ?`, id).Scan(&hits); err != nil {
				return err
			}
			res, err := tx.Exec(ctx, `UPDATE match_jobs SET state = ?, updated_at = ? WHERE id = ? AND state = ?`, JobDone, store.Now(), id, JobRunning)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // another worker finished it
			}
			_, err = s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: KindBulkFinished, Actor: "node:" + s.link.Self(),
				Object: fmt.Sprintf("crossmatch:%d", id), Detail: fmt.Sprintf("state=done hit_keys=%d", hits)})
			return err
		})
		s.cfg.Hub.Publish(live.Event{Topic: "match"})
		return true, err
	}
	epoch, fps, err := s.partnerFilter(ctx)
	if err != nil {
		return false, s.jobError(ctx, id, err)
	}
	outs, err := s.evaluateBlind(ctx, PathBulk, epoch, inputs)
	if err != nil {
		return false, s.jobError(ctx, id, err)
	}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		var state string
		if err := tx.QueryRow(ctx, `SELECT state FROM match_jobs WHERE id = ?`, id).Scan(&state); err != nil {
			return err
		}
		if state != JobRunning {
			return nil // cancelled meanwhile: the batch is not recorded
		}
		// Only items still pending count: another worker (a restarted
		// process, say) may have recorded this batch already.
		done, hits := 0, 0
		for i, out := range outs {
			hit := 0
			if inFilter(fps, binary.BigEndian.Uint64(out)) {
				hit = 1
			}
			res, err := tx.Exec(ctx, `UPDATE match_job_items SET state = 1, hit = ? WHERE job_id = ? AND seq = ? AND state = 0`, hit, id, seqs[i])
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				done++
				hits += hit
			}
		}
		if err := addUsage(ctx, tx, "bulk_asked", len(outs)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE match_jobs SET done = done + ?, hits = hits + ?, updated_at = ?, error = '' WHERE id = ?`, done, hits, store.Now(), id)
		return err
	})
	if err != nil {
		return false, err
	}
	s.cfg.Hub.Publish(live.Event{Topic: "match"})
	return true, nil
}

// jobError notes why a job is waiting; it stays running and retries.
func (s *Service) jobError(ctx context.Context, id int64, cause error) error {
	_ = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE match_jobs SET error = ?, updated_at = ? WHERE id = ?`, cause.Error(), store.Now(), id)
		return err
	})
	return cause
}

// serveBulk evaluates one batch of a partner's cross-match, against the
// bulk quota.
func (s *Service) serveBulk(w http.ResponseWriter, r *http.Request) {
	s.evaluate(w, r, MaxBulkBatch, "bulk_served", s.cfg.BulkQuota, KindBulkEvaluated)
}
