package link

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"puente/internal/live"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// maxQuarantineRaw bounds how much of a refused envelope is kept verbatim;
// the quarantine row always records the full size and SHA-256.
const maxQuarantineRaw = 4 << 20

// incoming is one wire envelope on its way through receive.
type incoming struct {
	raw       []byte
	env       *Envelope
	authentic bool // signed by the partner's key, from the partner, to us
	reject    *RejectError
	receipt   *Receipt
	// receiptJSON is the receipt as stored, once it is final: the answer
	// to the sender reuses it rather than encoding the receipt again.
	receiptJSON []byte
	// Where the envelope was logged, and the row that keeps its receipt,
	// once it has been applied or quarantined in this batch.
	logged   bool // entry is to be appended to the log with the batch
	entry    trustlog.Entry
	logIndex int64
	logEntry []byte
	table    string
	rowID    int64
	// receivedAt is when an applied envelope was received, for its inbox
	// row.
	receivedAt int64
}

// receiptsJSON is the answer to a delivery, {"receipts":[…]}, built from
// the stored receipts.
func receiptsJSON(items []*incoming) ([]byte, error) {
	parts := make([][]byte, len(items))
	for i, it := range items {
		parts[i] = it.receiptJSON
		if parts[i] == nil {
			var err error
			if parts[i], err = json.Marshal(it.receipt); err != nil {
				return nil, fmt.Errorf("encoding a receipt: %w", err)
			}
		}
	}
	return joinJSON(`{"receipts":[`, parts, `]}`), nil
}

// receive verifies and applies a batch of wire envelopes from the partner
// and gives each its signed receipt, in order. Authentic envelopes are
// applied in one transaction, in stream order; everything refused is
// quarantined in the same transaction. Handlers run one after another
// first; if one fails, the batch runs again with each handler in its own
// savepoint, so that the failing one is quarantined alone (two statements
// fewer per envelope in the common case, each a round trip on
// PostgreSQL).
//
// An error means nothing was applied and the sender should retry.
func (l *Link) receive(ctx context.Context, batch []json.RawMessage) ([]*incoming, error) {
	items := make([]*incoming, len(batch))
	parallel(len(batch), func(i int) { items[i] = l.precheck(batch[i]) })
	var st *batchState
	apply := func(isolate bool) func(ctx context.Context, tx *store.Tx) error {
		return func(ctx context.Context, tx *store.Tx) error {
			var err error
			if st, err = loadBatch(ctx, tx, items); err != nil {
				return err
			}
			for _, it := range items {
				it.receipt, it.receiptJSON, it.table, it.logged, it.logEntry = nil, nil, "", false, nil
				if err := l.receiveOne(ctx, tx, it, st, isolate); err != nil {
					return err
				}
			}
			if err := st.saveStreams(ctx, tx); err != nil {
				return err
			}
			return l.prove(ctx, tx, items)
		}
	}
	err := l.cfg.DB.ReadWrite(ctx, apply(false))
	if errors.Is(err, errHandlerFailed) {
		err = l.cfg.DB.ReadWrite(ctx, apply(true))
	}
	if err != nil {
		return nil, fmt.Errorf("applying a batch from %s: %w", l.partner.Code, err)
	}
	quarantined := false
	for _, it := range items {
		l.metrics.received.WithLabelValues(it.receipt.Status).Inc()
		if it.receipt.Status == StatusRejected {
			quarantined = true
			l.log.Warn("envelope rejected", "envelope", it.receipt.EnvelopeID, "code", it.receipt.Code, "reason", it.receipt.Reason)
		}
	}
	for s := range st.touched {
		l.cfg.Hub.Publish(live.Event{Topic: "stream", Key: s})
	}
	if quarantined {
		l.cfg.Hub.Publish(live.Event{Topic: "quarantine"})
	}
	return items, nil
}

// precheck decodes and authenticates one envelope without touching the
// store.
func (l *Link) precheck(raw []byte) *incoming {
	it := &incoming{raw: raw}
	env, err := DecodeEnvelope(raw, l.maxBody)
	it.env = env
	switch {
	case errors.Is(err, ErrTooLarge):
		it.reject = &RejectError{Code: CodeTooLarge, Reason: err.Error()}
	case err != nil:
		it.reject = &RejectError{Code: CodeMalformed, Reason: err.Error()}
	case env.From != l.partner.Code || env.To != l.self.Code:
		it.reject = &RejectError{Code: CodeWrongParty, Reason: fmt.Sprintf("envelope is from %s to %s, this link is from %s to %s", env.From, env.To, l.partner.Code, l.self.Code)}
	case !env.VerifySig(l.partnerKey):
		it.reject = &RejectError{Code: CodeBadSignature, Reason: "the signature does not verify with the partner's key from the agreement"}
	default:
		it.authentic = true
		if env.Agreement != l.cfg.Agreement.HashHex() {
			it.reject = &RejectError{Code: CodeWrongAgreement, Reason: fmt.Sprintf("envelope is under agreement %s, this node runs %s", short(env.Agreement), short(l.cfg.Agreement.HashHex()))}
		} else if _, ok := l.handlers[env.Kind+"/"+fmt.Sprint(env.Version)]; !ok {
			it.reject = &RejectError{Code: CodeUnknownKind, Reason: fmt.Sprintf("this node does not handle kind %s version %d", env.Kind, env.Version)}
		}
	}
	return it
}

// errHandlerFailed says a handler failed while a batch ran without
// savepoints: the batch is to run again with them.
var errHandlerFailed = errors.New("a handler failed outside a savepoint")

func (l *Link) receiveOne(ctx context.Context, tx *store.Tx, it *incoming, st *batchState, isolate bool) error {
	env := it.env
	if !it.authentic {
		return l.quarantine(ctx, tx, it, it.reject)
	}
	// A replay gets the receipt it had the first time; a copy later in the
	// same batch shares the first copy's receipt.
	if first, ok := st.here[env.ID]; ok && first.table != "" {
		it.receipt = first.receipt
		return nil
	}
	if prior, ok := st.applied[env.ID]; ok {
		return it.setStored(prior)
	}
	if prior, ok := st.quarantined[env.ID]; ok {
		if _, err := tx.Exec(ctx, `UPDATE quarantine SET times_seen = times_seen + 1 WHERE envelope_id = ?`, env.ID); err != nil {
			return fmt.Errorf("counting a replay: %w", err)
		}
		return it.setStored(prior)
	}
	st.here[env.ID] = it

	last := st.streams[env.Stream]
	switch {
	case env.Seq > last+1:
		it.receipt = l.receipt(env, StatusDeferred, CodeOutOfOrder, fmt.Sprintf("stream %s is at %d; send %d first", env.Stream, last, last+1), 0)
		return nil
	case env.Seq <= last:
		return l.quarantine(ctx, tx, it, &RejectError{Code: CodeSequenceConflict, Reason: fmt.Sprintf("stream %s already has envelope %d from another id", env.Stream, env.Seq)})
	}
	st.advance(env.Stream, env.Seq)
	if it.reject != nil {
		// Authentic but refused: it still takes its place in the stream, so
		// the envelopes after it are not held up.
		return l.quarantine(ctx, tx, it, it.reject)
	}
	h := l.handlers[env.Kind+"/"+fmt.Sprint(env.Version)]
	var err error
	if isolate {
		err = tx.Savepoint(ctx, func() error { return h.Apply(ctx, tx, env) })
	} else if err = h.Apply(ctx, tx, env); err != nil {
		return fmt.Errorf("%w: %s %s: %w", errHandlerFailed, env.Kind, env.ID, err)
	}
	if errors.Is(err, store.ErrRefused) {
		// A value this store can never hold: retrying would stop the
		// stream and every envelope after it for good, so refuse this one
		// (the detail stays in our log, not in the partner's receipt).
		l.log.Warn("the store refused an envelope's content", "kind", env.Kind, "envelope", env.ID, "err", err)
		err = &RejectError{Code: CodeInvalidContent, Reason: "the receiving node cannot store this content"}
	}
	var rej *RejectError
	if errors.As(err, &rej) {
		return l.quarantine(ctx, tx, it, rej)
	} else if err != nil {
		return fmt.Errorf("applying %s %s: %w", env.Kind, env.ID, err)
	}
	// The inbox row is written once, with its signed receipt, when the
	// batch is proved (prove reserves its id, the receipt's position).
	it.receipt = l.receipt(env, StatusApplied, "", "", 0)
	l.logReceived(it, trustlog.KindEnvelopeReceived, "status=applied")
	it.table, it.rowID, it.receivedAt = "inbox", 0, store.Now()
	st.touched[env.Stream] = true
	return nil
}

// logReceived prepares the entry that records it; prove appends the
// batch's entries to the log together.
func (l *Link) logReceived(it *incoming, kind, detail string) {
	e := trustlog.Entry{At: time.Now().UTC().Truncate(time.Millisecond), Kind: kind, Actor: "node:" + l.partner.Code,
		Object: "envelope:" + it.receipt.EnvelopeID, Digest: it.receipt.EnvelopeHash, Detail: detail}
	if it.receipt.EnvelopeID == "" {
		e.Object = "request:" + strings.TrimPrefix(it.receipt.EnvelopeHash, "raw:")
	}
	it.entry, it.logged = e, true
}

// appendLogged appends the entries of items, in order, in one go, and
// remembers where each went.
func (l *Link) appendLogged(ctx context.Context, tx *store.Tx, items []*incoming) error {
	var entries []trustlog.Entry
	var owners []*incoming
	for _, it := range items {
		if it.logged {
			entries, owners = append(entries, it.entry), append(owners, it)
		}
	}
	idx, err := l.cfg.Log.Append(ctx, tx, entries...)
	if err != nil {
		return err
	}
	for i, it := range owners {
		it.logIndex, it.logEntry, it.logged = idx[i], it.entry.Encode(), false
	}
	return nil
}

// prove signs the batch's new receipts, on every core (a stored receipt
// of a replay is signed already), and one checkpoint for the log as this
// batch leaves it; it attaches an inclusion proof to every receipt whose
// envelope was logged, and stores those receipts.
func (l *Link) prove(ctx context.Context, tx *store.Tx, items []*incoming) error {
	if err := l.appendLogged(ctx, tx, items); err != nil {
		return err
	}
	// The applied envelopes' inbox positions, which their receipts carry.
	var applied []*incoming
	for _, it := range items {
		if it.table == "inbox" {
			applied = append(applied, it)
		}
	}
	ids, err := tx.NextIDs(ctx, "inbox", len(applied))
	if err != nil {
		return err
	}
	for i, it := range applied {
		it.rowID, it.receipt.InboxPos = ids[i], ids[i]
	}
	var unsigned []*Receipt
	seen := map[*Receipt]bool{}
	for _, it := range items {
		// Copies of one envelope in a batch share a receipt: sign it once.
		if rc := it.receipt; rc.Sig == nil && !seen[rc] {
			seen[rc] = true
			unsigned = append(unsigned, rc)
		}
	}
	parallel(len(unsigned), func(i int) { unsigned[i].Sign(l.cfg.Identity.Signing) })
	var cp *trustlog.Checkpoint
	var prover *trustlog.Prover
	for _, it := range items {
		if it.table == "" {
			continue
		}
		if cp == nil {
			prover = l.cfg.Log.Prover(ctx, tx)
			size, err := trustlog.SizeIn(ctx, tx)
			if err != nil {
				return err
			}
			root, err := prover.TreeHash(size)
			if err != nil {
				return err
			}
			if cp, err = l.cfg.Log.Sign(size, root); err != nil {
				return err
			}
		}
		proof, err := prover.ProveRecord(cp.Size, it.logIndex)
		if err != nil {
			return err
		}
		it.receipt.Log = &LogProof{Index: it.logIndex, Entry: it.logEntry, Checkpoint: cp.Note, Proof: proof}
		it.receiptJSON, _ = json.Marshal(it.receipt)
	}
	return writeReceipts(ctx, tx, items)
}

// writeReceipts writes the applied envelopes' inbox rows with their
// receipts, a hundred rows to a statement, and each quarantined
// envelope's receipt into its row. On PostgreSQL one statement per table
// carries the whole batch (each statement is a round trip there); on
// SQLite, in-process, one per row costs less.
func writeReceipts(ctx context.Context, tx *store.Tx, items []*incoming) error {
	var rows []*incoming
	for _, it := range items {
		if it.table == "inbox" {
			rows = append(rows, it)
		}
	}
	for start := 0; start < len(rows); start += 100 {
		part := rows[start:min(start+100, len(rows))]
		args := make([]any, 0, 9*len(part))
		for _, it := range part {
			e := it.env
			args = append(args, it.rowID, e.ID, e.Stream, e.Seq, e.Kind, e.From, it.raw, it.receivedAt, it.receiptJSON)
		}
		if err := tx.ExecDeferred(ctx, `INSERT INTO inbox (id, envelope_id, stream, seq, kind, sender, raw, received_at, receipt) VALUES `+store.Tuples(len(part), 9), args...); err != nil {
			return fmt.Errorf("recording %d envelopes in the inbox: %w", len(part), err)
		}
	}
	var ids []int64
	var receipts [][]byte
	for _, it := range items {
		if it.table == "quarantine" && it.receiptJSON != nil {
			ids, receipts = append(ids, it.rowID), append(receipts, it.receiptJSON)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if tx.Dialect() == store.Postgres {
		if err := tx.ExecDeferred(ctx, `UPDATE quarantine SET receipt = v.r FROM unnest(?::bigint[], ?::bytea[]) AS v(id, r) WHERE quarantine.id = v.id`, ids, receipts); err != nil {
			return fmt.Errorf("storing %d receipts: %w", len(ids), err)
		}
		return nil
	}
	for i, id := range ids {
		if _, err := tx.Exec(ctx, `UPDATE quarantine SET receipt = ? WHERE id = ?`, receipts[i], id); err != nil {
			return fmt.Errorf("storing a receipt: %w", err)
		}
	}
	return nil
}

func (it *incoming) setStored(raw []byte) error {
	var r Receipt
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("reading a stored receipt: %w", err)
	}
	it.receipt, it.receiptJSON = &r, raw
	return nil
}

func (l *Link) quarantine(ctx context.Context, tx *store.Tx, it *incoming, rej *RejectError) error {
	env := it.env
	if env == nil {
		env = &Envelope{}
	}
	var hash string
	if it.env == nil || rej.Code == CodeMalformed {
		// Not a well-formed envelope: name it by the bytes received.
		sum := sha256.Sum256(it.raw)
		hash = "raw:" + hex.EncodeToString(sum[:])
		env = &Envelope{}
	}
	it.receipt = l.receiptFor(env, hash, StatusRejected, rej.Code, rej.Reason, 0)
	raw := it.raw
	if len(raw) > maxQuarantineRaw {
		raw = raw[:maxQuarantineRaw]
	}
	rb, _ := json.Marshal(it.receipt)
	kind := env.Kind
	if len(kind) > MaxFieldLen {
		kind = kind[:MaxFieldLen]
	}
	id, err := tx.InsertID(ctx, `INSERT INTO quarantine (envelope_id, kind, reason_code, reason, raw, received_at, receipt) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		it.receipt.EnvelopeID, kind, rej.Code, rej.Reason, raw, store.Now(), rb)
	if err != nil {
		return fmt.Errorf("quarantining an envelope: %w", err)
	}
	l.logReceived(it, trustlog.KindEnvelopeRejected, "code="+rej.Code)
	it.table, it.rowID = "quarantine", id
	return nil
}

// receipt builds a receipt for a well-formed env; prove signs it.
func (l *Link) receipt(env *Envelope, status, code, reason string, pos int64) *Receipt {
	return l.receiptFor(env, env.Hash(), status, code, reason, pos)
}

func (l *Link) receiptFor(env *Envelope, hash, status, code, reason string, pos int64) *Receipt {
	r := &Receipt{
		EnvelopeID: env.ID, EnvelopeHash: hash, Status: status, Code: code, Reason: reason,
		From: l.self.Code, To: l.partner.Code, At: timestamp(time.Now()),
		InboxPos: pos, Agreement: l.cfg.Agreement.HashHex(),
	}
	return r
}

// parallel runs f(0) … f(n-1) on every core; signature checks dominate a
// batch's CPU time.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/8+1)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		}()
	}
	wg.Wait()
}
