// Package audit writes a node's transparency log as a self-contained
// bundle and verifies such a bundle offline, with nothing but the public
// keys in the agreement.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"puente/internal/store"
	"puente/internal/trustlog"
)

// Format names the bundle format.
const Format = "puente-audit-bundle/v1"

// Bundle is everything needed to check a stretch of a node's log offline.
type Bundle struct {
	Format    string    `json:"format"`
	Party     string    `json:"party"`
	Partner   string    `json:"partner"`
	Agreement string    `json:"agreement_hash"`
	CreatedAt time.Time `json:"created_at"`
	Since     time.Time `json:"since,omitzero"`
	// First is the index of the first entry; entries run on without gaps.
	First   int64   `json:"first_index"`
	Entries []Entry `json:"entries"`
	// PrefixHashes are the tlog stored hashes (by stored-hash index) of
	// entries before First that recomputing the tree needs. The signed
	// checkpoints vouch for them: a wrong one changes every root.
	PrefixHashes map[int64]tlog.Hash `json:"prefix_hashes,omitempty"`
	// Checkpoints are this node's signed checkpoints of at least First
	// entries, with the partner's cosignature where it witnessed them.
	Checkpoints []Note `json:"checkpoints"`
	// PartnerCheckpoints are the partner's checkpoints this node witnessed.
	PartnerCheckpoints []Note `json:"partner_checkpoints"`
	// Envelopes are the envelopes sent and received in the period, each
	// with its receipt.
	Envelopes []Envelope `json:"envelopes"`
}

// Entry is one log row as stored: the columns, the canonical entry text and
// the stored hashes.
type Entry struct {
	Index  int64  `json:"index"`
	At     int64  `json:"at_ms"`
	Kind   string `json:"kind"`
	Actor  string `json:"actor"`
	Object string `json:"object"`
	Data   []byte `json:"data"`
	Hashes []byte `json:"hashes"`
}

// Note is a signed checkpoint.
type Note struct {
	Size int64  `json:"size"`
	Note string `json:"note"`
}

// Envelope is an envelope as it crossed, and its receipt.
type Envelope struct {
	ID        string          `json:"id"`
	Direction string          `json:"direction"` // "sent" or "received"
	Envelope  json.RawMessage `json:"envelope"`
	Receipt   json.RawMessage `json:"receipt"`
}

// Export reads the log of the node in db from the first entry at or after
// since (everything when since is zero).
func Export(ctx context.Context, db *store.DB, party, partner, agreementHash string, since time.Time) (*Bundle, error) {
	q := db.Read()
	size, err := trustlog.Size(ctx, q)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Format: Format, Party: party, Partner: partner, Agreement: agreementHash, CreatedAt: time.Now().UTC(), Since: since}
	if !since.IsZero() {
		err := q.QueryRow(ctx, `SELECT COALESCE(MIN(idx), ?) FROM log_entries WHERE at >= ?`, size, since.UnixMilli()).Scan(&b.First)
		if err != nil {
			return nil, fmt.Errorf("finding the first entry since %s: %w", since, err)
		}
	}
	rows, err := trustlog.Rows(ctx, q, trustlog.Filter{From: b.First, Before: size})
	if err != nil {
		return nil, err
	}
	if size > 0 && int64(len(rows)) != size-b.First {
		return nil, fmt.Errorf("the log has gaps: %d rows from %d to %d", len(rows), b.First, size)
	}
	for _, r := range rows {
		b.Entries = append(b.Entries, Entry{Index: r.Index, At: r.At.UnixMilli(), Kind: r.Kind, Actor: r.Actor, Object: r.Object, Data: r.Data, Hashes: r.Hashes})
	}
	cps, err := trustlog.Checkpoints(ctx, q, max(b.First, 1))
	if err != nil {
		return nil, err
	}
	var latest int64
	for _, c := range cps {
		if c.Size > size {
			continue
		}
		n := c.Note
		if c.Cosigned != nil {
			n = c.Cosigned
		}
		b.Checkpoints = append(b.Checkpoints, Note{Size: c.Size, Note: string(n)})
		latest = c.Size
	}
	if b.First > 0 {
		if b.PrefixHashes, err = prefixHashes(ctx, db, b, latest); err != nil {
			return nil, err
		}
	}
	wrows, err := q.Query(ctx, `SELECT size, note FROM log_witnessed WHERE witnessed_at >= ? ORDER BY size`, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("reading witnessed checkpoints: %w", err)
	}
	for wrows.Next() {
		var n Note
		var note []byte
		if err := wrows.Scan(&n.Size, &note); err != nil {
			wrows.Close()
			return nil, fmt.Errorf("reading witnessed checkpoints: %w", err)
		}
		n.Note = string(note)
		b.PartnerCheckpoints = append(b.PartnerCheckpoints, n)
	}
	wrows.Close()
	for _, src := range []struct{ dir, q string }{
		{"sent", `SELECT envelope_id, raw, receipt FROM outbox WHERE created_at >= ? AND receipt IS NOT NULL ORDER BY id`},
		{"received", `SELECT envelope_id, raw, receipt FROM inbox WHERE received_at >= ? ORDER BY id`},
	} {
		rs, err := q.Query(ctx, src.q, since.UnixMilli())
		if err != nil {
			return nil, fmt.Errorf("reading %s envelopes: %w", src.dir, err)
		}
		for rs.Next() {
			e := Envelope{Direction: src.dir}
			var raw, rc []byte
			if err := rs.Scan(&e.ID, &raw, &rc); err != nil {
				rs.Close()
				return nil, fmt.Errorf("reading %s envelopes: %w", src.dir, err)
			}
			if len(rc) == 0 || !json.Valid(raw) || !json.Valid(rc) {
				continue
			}
			e.Envelope, e.Receipt = raw, rc
			b.Envelopes = append(b.Envelopes, e)
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s envelopes: %w", src.dir, err)
		}
	}
	return b, nil
}

// prefixHashes collects the stored hashes of entries before b.First that
// recomputing the entries' hashes, the checkpoints' roots and inclusion
// proofs up to latest will ask for.
func prefixHashes(ctx context.Context, db *store.DB, b *Bundle, latest int64) (map[int64]tlog.Hash, error) {
	firstStored := tlog.StoredHashIndex(0, b.First)
	out := map[int64]tlog.Hash{}
	from := readerOf(ctx, db.Read())
	rec := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		hs, err := from.ReadHashes(idx)
		if err != nil {
			return nil, err
		}
		for i, x := range idx {
			if x < firstStored {
				out[x] = hs[i]
			}
		}
		return hs, nil
	})
	for _, e := range b.Entries {
		if _, err := tlog.StoredHashes(e.Index, e.Data, rec); err != nil {
			return nil, fmt.Errorf("collecting hashes for entry %d: %w", e.Index, err)
		}
		if latest > e.Index && strings.HasPrefix(e.Object, "envelope:") {
			if _, err := tlog.ProveRecord(latest, e.Index, rec); err != nil {
				return nil, fmt.Errorf("collecting hashes for entry %d: %w", e.Index, err)
			}
		}
	}
	for _, c := range b.Checkpoints {
		if _, err := tlog.TreeHash(c.Size, rec); err != nil {
			return nil, fmt.Errorf("collecting hashes for checkpoint %d: %w", c.Size, err)
		}
	}
	return out, nil
}

// readerOf reads stored hashes from the log table.
func readerOf(ctx context.Context, q store.Querier) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			level, n := tlog.SplitStoredHashIndex(x)
			rec := (n+1)<<level - 1
			var blob []byte
			if err := q.QueryRow(ctx, `SELECT hashes FROM log_entries WHERE idx = ?`, rec).Scan(&blob); err != nil {
				return nil, fmt.Errorf("reading the hashes of entry %d: %w", rec, err)
			}
			if len(blob) < (level+1)*tlog.HashSize {
				return nil, errors.New("a stored hash is missing")
			}
			copy(out[i][:], blob[level*tlog.HashSize:])
		}
		return out, nil
	})
}
