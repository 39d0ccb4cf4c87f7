package link

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"puente/internal/live"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// Run is the delivery worker: it sends the outbox to the partner in order,
// in batches, until ctx ends. While the partner is down it retries with
// capped exponential backoff; nothing is dropped.
//
// Delivery is pipelined by one batch: while the receipts of batch N are
// being verified and stored, batch N+1 (the pending rows after N's last
// id) is already on its way. The partner has applied N before it answers,
// so stream order holds. Any error, deferral or idle moment drains the
// pipeline and starts again from the oldest pending row; a batch whose
// receipts were never stored (or did not verify) is simply sent again, and
// the partner answers a replay with the receipt it gave the first time.
func (l *Link) Run(ctx context.Context) error {
	failures := 0
	heartbeat := time.NewTimer(0)
	defer heartbeat.Stop()
	var inflight chan storeResult // receipts being stored, or nil
	var after int64               // send only rows after this id
	wake, done := l.cfg.Hub.Wakes(WakeName)
	defer done()
	// Carry on from the state the last worker (perhaps on another
	// replica) left.
	if st, err := l.readState(ctx); err == nil {
		l.mu.Lock()
		l.state = st
		l.mu.Unlock()
	}
	drain := func() (storeResult, bool) {
		if inflight == nil {
			return storeResult{}, false
		}
		r := <-inflight
		inflight, after = nil, 0
		return r, true
	}
	for {
		if !store.Leading(ctx) {
			// This replica's lease may have run out (it was paused, say):
			// send nothing until it is renewed or the work stops.
			drain()
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		var err error
		progress, pending := 0, 0
		rows, receipts, sendErr := l.send(ctx, after)
		switch {
		case sendErr != nil || len(rows) == 0:
			// Nothing more to send past the cursor: wait for the batch
			// in flight, then look again from the start.
			err = sendErr
			if r, ok := drain(); ok {
				progress, pending = r.progress, r.pending
				if err == nil {
					err = r.err
				}
				if err == nil {
					if progress > 0 {
						failures = 0
						l.markUp(ctx)
					}
					continue
				}
			}
		default:
			prev, hadPrev := drain()
			ch := make(chan storeResult, 1)
			go func() { ch <- l.settle(ctx, rows, receipts) }()
			inflight, after = ch, rows[len(rows)-1].id
			if hadPrev && prev.err != nil {
				err = prev.err
				drain()
			} else if deferred(receipts) {
				// The partner wants earlier envelopes first: settle this
				// batch, then restart from the oldest pending row.
				r, _ := drain()
				progress, pending, err = r.progress, len(rows), r.err
			} else {
				failures = 0
				l.markUp(ctx)
				continue
			}
		}
		if ctx.Err() != nil {
			drain()
			return nil
		}
		var wait time.Duration
		switch {
		case err != nil:
			failures++
			l.markDown(ctx, err)
			wait = backoff(failures, l.cfg.MaxBackoff)
		case progress > 0:
			failures = 0
			l.markUp(ctx)
			continue
		case pending > 0:
			// Everything left was deferred by the partner: give it a moment.
			wait = 500 * time.Millisecond
		default:
			wait = -1 // idle: wait for work or the heartbeat
		}
		var timer <-chan time.Time
		var t *time.Timer
		if wait >= 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-timer:
		case <-heartbeat.C:
			heartbeat.Reset(l.cfg.Heartbeat)
			if err := l.Hello(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				failures++
				l.markDown(ctx, err)
			} else {
				failures = 0
				l.markUp(ctx)
			}
		}
		if t != nil {
			t.Stop()
		}
	}
}

// deferred reports whether the partner deferred any envelope of a batch.
// The receipts are not verified yet: this only decides to drain the
// pipeline, and draining waits for the verification.
func deferred(receipts []*Receipt) bool {
	for _, rc := range receipts {
		if rc == nil || rc.Status == StatusDeferred {
			return true
		}
	}
	return false
}

// storeResult is what storing one batch's receipts came to: how many
// envelopes got a final receipt, out of how many sent.
type storeResult struct {
	progress, pending int
	err               error
}

func backoff(failures int, max time.Duration) time.Duration {
	d := 250 * time.Millisecond << min(failures-1, 10)
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}

type outRow struct {
	id      int64
	stream  string
	created int64
	raw     []byte
	ref     envelopeRef
}

// envelopeRef names an envelope the way its receipt does.
type envelopeRef struct{ id, hash string }

func (e *Envelope) ref() envelopeRef { return envelopeRef{e.ID, e.Hash()} }

// send posts the oldest pending envelopes after id after and returns them
// with the partner's receipts, one for each, not yet verified: settle
// verifies them off the path of the next batch. No rows means nothing to
// send.
func (l *Link) send(ctx context.Context, after int64) ([]outRow, []*Receipt, error) {
	rows, err := l.nextBatch(ctx, after)
	if err != nil || len(rows) == 0 {
		return nil, nil, err
	}
	raws := make([][]byte, len(rows))
	for i, r := range rows {
		raws[i] = r.raw
	}
	receipts, err := l.post(ctx, raws)
	if err != nil {
		return nil, nil, err
	}
	return rows, receipts, nil
}

// settle verifies every receipt of a batch and, if all verify, stores
// them. A receipt that does not verify means the answer cannot be trusted
// at all, so none is stored and the batch will be sent again.
func (l *Link) settle(ctx context.Context, rows []outRow, receipts []*Receipt) storeResult {
	bad := make([]error, len(receipts))
	parallel(len(receipts), func(i int) { bad[i] = l.checkReceipt(receipts[i], rows[i].ref) })
	if err := errors.Join(bad...); err != nil {
		return storeResult{pending: len(rows), err: err}
	}
	return l.storeReceipts(ctx, rows, receipts)
}

// CheckReceipt verifies the partner's receipt for env as the delivery
// worker does before it takes it as final: signed by the partner's key,
// answering exactly env, and, unless deferred, proving that the partner
// logged env in its transparency log.
func (l *Link) CheckReceipt(rc *Receipt, env *Envelope) error { return l.checkReceipt(rc, env.ref()) }

func (l *Link) checkReceipt(rc *Receipt, env envelopeRef) error {
	switch {
	case rc == nil || !rc.VerifySig(l.partnerKey):
		return fmt.Errorf("receipt for %s is not signed by the partner's key", env.id)
	case rc.EnvelopeID != env.id || rc.EnvelopeHash != env.hash || rc.From != l.partner.Code || rc.To != l.self.Code:
		return fmt.Errorf("receipt for %s does not answer that envelope", env.id)
	case rc.Status != StatusDeferred:
		if _, err := verifyLogProof(rc, env, l.partnerLog, l.openCheckpoint); err != nil {
			return fmt.Errorf("receipt for %s: %w", env.id, err)
		}
	}
	return nil
}

// ErrNotLogged means a receipt does not prove that the partner logged the
// envelope; such a receipt is not taken as delivery.
var ErrNotLogged = errors.New("the receipt does not prove the partner logged the envelope")

// openCheckpoint verifies a partner checkpoint, remembering the last few:
// every receipt of a batch carries the same one.
func (l *Link) openCheckpoint(note []byte, k *trustlog.Keys) (*trustlog.Checkpoint, error) {
	key := string(note)
	l.cpMu.Lock()
	for _, c := range l.cpSeen {
		if string(c.Note) == key {
			l.cpMu.Unlock()
			return c, nil
		}
	}
	l.cpMu.Unlock()
	c, err := trustlog.OpenCheckpoint(note, k)
	if err != nil {
		return nil, err
	}
	l.cpMu.Lock()
	l.cpSeen = append(l.cpSeen, c)
	if len(l.cpSeen) > 8 {
		l.cpSeen = l.cpSeen[1:]
	}
	l.cpMu.Unlock()
	return c, nil
}

// VerifyLogProof verifies a final receipt's log proof: the entry records
// env with the receipt's outcome, and it is included in a checkpoint signed
// with the receiver's log keys. It returns that checkpoint.
func VerifyLogProof(rc *Receipt, env *Envelope, receiver *trustlog.Keys) (*trustlog.Checkpoint, error) {
	return verifyLogProof(rc, env.ref(), receiver, trustlog.OpenCheckpoint)
}

func verifyLogProof(rc *Receipt, env envelopeRef, receiver *trustlog.Keys, open func([]byte, *trustlog.Keys) (*trustlog.Checkpoint, error)) (*trustlog.Checkpoint, error) {
	if rc.Log == nil {
		return nil, fmt.Errorf("%w: it carries no log proof", ErrNotLogged)
	}
	cp, err := open(rc.Log.Checkpoint, receiver)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotLogged, err)
	}
	e, err := trustlog.ParseEntry(rc.Log.Entry)
	if err != nil {
		return nil, fmt.Errorf("%w: the entry: %w", ErrNotLogged, err)
	}
	want := trustlog.KindEnvelopeReceived
	if rc.Status == StatusRejected {
		want = trustlog.KindEnvelopeRejected
	}
	if e.Kind != want || e.Object != "envelope:"+env.id || e.Digest != env.hash {
		return nil, fmt.Errorf("%w: the entry records %s of %s, not %s of %s", ErrNotLogged, e.Kind, e.Object, want, "envelope:"+env.id)
	}
	if rc.Log.Index < 0 || rc.Log.Index >= cp.Size {
		return nil, fmt.Errorf("%w: entry %d is outside checkpoint %d", ErrNotLogged, rc.Log.Index, cp.Size)
	}
	if err := tlog.CheckRecord(rc.Log.Proof, cp.Size, cp.Root, rc.Log.Index, tlog.RecordHash(rc.Log.Entry)); err != nil {
		return nil, fmt.Errorf("%w: the inclusion proof: %w", ErrNotLogged, err)
	}
	return cp, nil
}

// storeReceipts records the partner's verified receipts for rows.
func (l *Link) storeReceipts(ctx context.Context, rows []outRow, receipts []*Receipt) (res storeResult) {
	progress := 0
	res.pending = len(rows)
	now := time.Now()
	streams := map[string]bool{}
	err := l.cfg.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		progress = 0
		clear(streams)
		var settle []settled
		for i, rc := range receipts {
			var state string
			switch rc.Status {
			case StatusApplied:
				state = "delivered"
			case StatusRejected:
				state = "rejected"
			default:
				if _, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?`, rc.Code+": "+rc.Reason, rows[i].id); err != nil {
					return fmt.Errorf("recording a deferral: %w", err)
				}
				continue
			}
			rb, _ := json.Marshal(rc)
			settle = append(settle, settled{id: rows[i].id, state: state, receipt: rb, rc: rc})
			progress++
			streams[rows[i].stream] = true
		}
		done, err := settleOutbox(ctx, tx, settle, now, store.EpochOf(ctx))
		if err != nil {
			return err
		}
		entries := make([]trustlog.Entry, 0, len(settle))
		for _, st := range settle {
			if !done[st.id] {
				continue // settled already, by an earlier attempt
			}
			sum := sha256.Sum256(st.receipt)
			entries = append(entries, trustlog.Entry{At: now, Kind: trustlog.KindReceipt, Actor: "node:" + l.partner.Code,
				Object: "envelope:" + st.rc.EnvelopeID, Digest: hex.EncodeToString(sum[:]),
				Detail: fmt.Sprintf("status=%s partner_index=%d", st.rc.Status, st.rc.Log.Index)})
		}
		if _, err := l.cfg.Log.Append(ctx, tx, entries...); err != nil {
			return err
		}
		if progress > 0 {
			_, err := tx.Exec(ctx, `INSERT INTO link_state (name, value) VALUES ('last_receipt', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, fmt.Sprint(now.UnixMilli()))
			return err
		}
		return nil
	})
	if err != nil {
		res.err = fmt.Errorf("storing receipts: %w", err)
		return res
	}
	for i, rc := range receipts {
		l.metrics.deliveries.WithLabelValues(rc.Status).Inc()
		if rc.Status != StatusDeferred {
			l.metrics.latency.Observe(now.Sub(store.Time(rows[i].created)).Seconds())
		}
		if rc.Status == StatusRejected {
			l.log.Warn("partner rejected an envelope", "envelope", rc.EnvelopeID, "code", rc.Code, "reason", rc.Reason)
		}
	}
	for s := range streams {
		l.cfg.Hub.Publish(live.Event{Topic: "stream", Key: s})
	}
	res.progress = progress
	return res
}

// settled is one outbox row to close with the partner's final receipt.
type settled struct {
	id      int64
	state   string
	receipt []byte
	rc      *Receipt
}

// settleOutbox stores the final receipts of rows still pending and
// returns which rows it closed. On PostgreSQL the whole batch is one
// statement (each statement is a round trip there); on SQLite, in-process,
// one per row costs less.
func settleOutbox(ctx context.Context, tx *store.Tx, rows []settled, now time.Time, epoch int64) (map[int64]bool, error) {
	done := make(map[int64]bool, len(rows))
	if len(rows) == 0 {
		return done, nil
	}
	if tx.Dialect() == store.Postgres {
		ids, states, receipts, reasons := make([]int64, len(rows)), make([]string, len(rows)), make([][]byte, len(rows)), make([]string, len(rows))
		for i, r := range rows {
			ids[i], states[i], receipts[i], reasons[i] = r.id, r.state, r.receipt, r.rc.Reason
		}
		rs, err := tx.Query(ctx, `UPDATE outbox SET state = v.s, attempts = attempts + 1, done_at = ?, receipt = v.r, last_error = v.e, settled_epoch = ?
			FROM unnest(?::bigint[], ?::text[], ?::bytea[], ?::text[]) AS v(id, s, r, e)
			WHERE outbox.id = v.id AND outbox.state = 'pending' RETURNING outbox.id`, now.UnixMilli(), epoch, ids, states, receipts, reasons)
		if err != nil {
			return nil, fmt.Errorf("storing %d receipts: %w", len(rows), err)
		}
		got, err := store.Collect(rs, func(sc store.Scanner) (int64, error) {
			var id int64
			return id, sc.Scan(&id)
		})
		if err != nil {
			return nil, fmt.Errorf("storing %d receipts: %w", len(rows), err)
		}
		for _, id := range got {
			done[id] = true
		}
		return done, nil
	}
	for _, r := range rows {
		res, err := tx.Exec(ctx, `UPDATE outbox SET state = ?, attempts = attempts + 1, done_at = ?, receipt = ?, last_error = ?, settled_epoch = ? WHERE id = ? AND state = 'pending'`,
			r.state, now.UnixMilli(), r.receipt, r.rc.Reason, epoch, r.id)
		if err != nil {
			return nil, fmt.Errorf("storing the receipt for %s: %w", r.rc.EnvelopeID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			done[r.id] = true
		}
	}
	return done, nil
}

// nextBatch reads the oldest pending envelopes after id after, in outbox order, up to the
// batch size and byte budget (always at least one).
func (l *Link) nextBatch(ctx context.Context, after int64) ([]outRow, error) {
	q := l.cfg.DB.Read()
	sizes, err := q.Query(ctx, `SELECT id, LENGTH(raw) FROM outbox WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?`, after, l.cfg.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	var first, last int64
	total := 0
	for sizes.Next() {
		var id int64
		var n int
		if err := sizes.Scan(&id, &n); err != nil {
			sizes.Close()
			return nil, fmt.Errorf("reading the outbox: %w", err)
		}
		if first != 0 && total+n > batchBytes {
			break
		}
		if first == 0 {
			first = id
		}
		last, total = id, total+n
	}
	sizes.Close()
	if first == 0 {
		return nil, nil
	}
	rs, err := q.Query(ctx, `SELECT id, stream, created_at, raw, envelope_id, envelope_hash FROM outbox WHERE state = 'pending' AND id >= ? AND id <= ? ORDER BY id`, first, last)
	if err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	defer rs.Close()
	var out []outRow
	for rs.Next() {
		var r outRow
		if err := rs.Scan(&r.id, &r.stream, &r.created, &r.raw, &r.ref.id, &r.ref.hash); err != nil {
			return nil, fmt.Errorf("reading the outbox: %w", err)
		}
		if r.ref.hash == "" {
			// Written before the outbox kept the hash.
			var e Envelope
			if err := json.Unmarshal(r.raw, &e); err != nil {
				return nil, fmt.Errorf("outbox row %d is corrupt: %w", r.id, err)
			}
			r.ref = e.ref()
		}
		out = append(out, r)
	}
	return out, rs.Err()
}
