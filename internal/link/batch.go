package link

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"puente/internal/store"
)

// batchState is what one receive transaction reads up front about its
// envelopes, in a few statements for the whole batch instead of several
// for each envelope: the receipts already given for any of them, and the
// position of each stream they belong to. It keeps the streams' new
// positions until saveStreams writes them.
type batchState struct {
	applied     map[string][]byte    // envelope id → its inbox receipt
	quarantined map[string][]byte    // envelope id → its first quarantine receipt
	here        map[string]*incoming // envelope id → the copy of it this batch took
	streams     map[string]int64     // stream → last applied seq
	advanced    map[string]bool      // streams to save
	touched     map[string]bool      // streams that got an applied envelope
}

// lookupChunk bounds the parameters of one IN list.
const lookupChunk = 400

func loadBatch(ctx context.Context, tx *store.Tx, items []*incoming) (*batchState, error) {
	st := &batchState{applied: map[string][]byte{}, quarantined: map[string][]byte{}, here: map[string]*incoming{},
		streams: map[string]int64{}, advanced: map[string]bool{}, touched: map[string]bool{}}
	var ids, streams []any
	seenStream := map[string]bool{}
	for _, it := range items {
		if !it.authentic {
			continue
		}
		ids = append(ids, it.env.ID)
		if !seenStream[it.env.Stream] {
			seenStream[it.env.Stream] = true
			streams = append(streams, it.env.Stream)
		}
	}
	load := func(what, q string, args []any, scan func(rows *sql.Rows) error) error {
		for start := 0; start < len(args); start += lookupChunk {
			part := args[start:min(start+lookupChunk, len(args))]
			rows, err := tx.Query(ctx, fmt.Sprintf(q, store.Params(len(part))), part...)
			if err != nil {
				return fmt.Errorf("looking up %s: %w", what, err)
			}
			for rows.Next() && err == nil {
				err = scan(rows)
			}
			err = errors.Join(err, rows.Err(), rows.Close())
			if err != nil {
				return fmt.Errorf("looking up %s: %w", what, err)
			}
		}
		return nil
	}
	receipts := func(into map[string][]byte) func(*sql.Rows) error {
		return func(rows *sql.Rows) error {
			var id string
			var rc []byte
			err := rows.Scan(&id, &rc)
			into[id] = rc
			return err
		}
	}
	if err := load("envelopes in the inbox", `SELECT envelope_id, receipt FROM inbox WHERE envelope_id IN (%s)`, ids, receipts(st.applied)); err != nil {
		return nil, err
	}
	// The first quarantine row of an id holds the receipt it was given:
	// read newest first, so the first one is kept.
	if err := load("envelopes in quarantine", `SELECT envelope_id, receipt FROM quarantine WHERE envelope_id IN (%s) ORDER BY id DESC`, ids, receipts(st.quarantined)); err != nil {
		return nil, err
	}
	err := load("streams", `SELECT stream, last_seq FROM inbox_stream WHERE stream IN (%s)`, streams, func(rows *sql.Rows) error {
		var s string
		var n int64
		err := rows.Scan(&s, &n)
		st.streams[s] = n
		return err
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (st *batchState) advance(stream string, seq int64) {
	st.streams[stream] = seq
	st.advanced[stream] = true
}

// saveStreams writes the streams' new positions.
func (st *batchState) saveStreams(ctx context.Context, tx *store.Tx) error {
	args := make([]any, 0, 2*len(st.advanced))
	for s := range st.advanced {
		args = append(args, s, st.streams[s])
	}
	for start := 0; start < len(args); start += 2 * lookupChunk {
		part := args[start:min(start+2*lookupChunk, len(args))]
		q := `INSERT INTO inbox_stream (stream, last_seq) VALUES ` + store.Tuples(len(part)/2, 2) +
			` ON CONFLICT (stream) DO UPDATE SET last_seq = excluded.last_seq`
		if _, err := tx.Exec(ctx, q, part...); err != nil {
			return fmt.Errorf("advancing streams: %w", err)
		}
	}
	return nil
}
