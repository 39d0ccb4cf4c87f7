package trustlog

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	fmtlog "github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"puente/internal/store"
)

// Origin is the checkpoint origin line (and note key name) of party
// code's log.
func Origin(code string) string { return "puente.log/" + code }

// Keys are the note keys of one party, derived from its Ed25519 signing
// key from the agreement.
type Keys struct {
	Origin   string
	Verifier note.Verifier // checkpoint signatures (Ed25519, note alg 0x01)
	Cosigner note.Verifier // witness cosignatures (C2SP cosignature/v1, alg 0x04)
	VKey     string        // the note verifier key, for offline tools
}

// PartyKeys builds the verifiers for party code's public key.
func PartyKeys(code string, pub ed25519.PublicKey) (*Keys, error) {
	vkey, err := note.NewEd25519VerifierKey(Origin(code), pub)
	if err != nil {
		return nil, fmt.Errorf("building the note key of %s: %w", code, err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("building the note verifier of %s: %w", code, err)
	}
	cv, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		return nil, fmt.Errorf("building the cosignature verifier of %s: %w", code, err)
	}
	return &Keys{Origin: Origin(code), Verifier: v, Cosigner: cv, VKey: vkey}, nil
}

// Log is one node's log in its store.
type Log struct {
	db       *store.DB
	self     *Keys
	signer   note.Signer
	cosigner note.Signer
	// tails are stored hashes of committed records that appends build on.
	tails hashCache
}

// New opens code's log in db, signing with key.
func New(db *store.DB, code string, key ed25519.PrivateKey) (*Log, error) {
	keys, err := PartyKeys(code, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	// The signer key string is vkey's name and hash with the private seed:
	// the format note.NewSigner reads.
	parts := strings.Split(keys.VKey, "+")
	skey := "PRIVATE+KEY+" + parts[0] + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("building the checkpoint signer: %w", err)
	}
	cs, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		return nil, fmt.Errorf("building the cosigner: %w", err)
	}
	// Every write transaction learns the log's size in its first round
	// trip: most append.
	db.ReadAtBegin(sizeKey{}, sizeQuery)
	return &Log{db: db, self: keys, signer: s, cosigner: cs}, nil
}

// Keys returns this log's own keys.
func (l *Log) Keys() *Keys { return l.self }

// DB is the store the log lives in.
func (l *Log) DB() *store.DB { return l.db }

// Record appends one entry in tx: what happened (kind) to object, now,
// by the request's actor (ActorOf), with a short detail.
func (l *Log) Record(ctx context.Context, tx *store.Tx, kind, object, detail string) error {
	_, err := l.Append(ctx, tx, Entry{At: time.Now(), Kind: kind, Actor: ActorOf(ctx), Object: object, Detail: detail})
	return err
}

// Append adds entries at the end of the log inside tx and returns their
// indexes. Appenders never interleave: on SQLite writers are serial, and
// on PostgreSQL every write transaction first takes the store's writers'
// lock (store.WriterLock), whichever process it comes from.
func (l *Log) Append(ctx context.Context, tx *store.Tx, entries ...Entry) ([]int64, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	// Within one transaction, appends after the first know the size and
	// the hashes they build on.
	t, _ := tx.Memo(tailKey{}).(*tail)
	if t == nil {
		size, err := SizeIn(ctx, tx)
		if err != nil {
			return nil, err
		}
		t = &tail{size: size, blobs: map[int64][]byte{}}
		tx.SetMemo(tailKey{}, t)
	}
	size, overlay := t.size, t.blobs
	read := map[int64][]byte{}
	r := hashReader(ctx, tx, overlay, &l.tails, read)
	type row struct {
		idx    int64
		e      Entry
		data   []byte
		hashes []byte
	}
	rows := make([]row, len(entries))
	for i, e := range entries {
		n := size + int64(i)
		e.At = e.At.UTC().Truncate(1e6)
		data := e.Encode()
		hs, err := tlog.StoredHashes(n, data, r)
		if err != nil {
			return nil, fmt.Errorf("hashing log entry %d: %w", n, err)
		}
		blob := make([]byte, 0, len(hs)*tlog.HashSize)
		for _, h := range hs {
			blob = append(blob, h[:]...)
		}
		overlay[n] = blob
		rows[i] = row{n, e, data, blob}
	}
	const chunk = 100
	out := make([]int64, len(rows))
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		q := `INSERT INTO log_entries (idx, at, kind, actor, object, data, hashes) VALUES ` +
			store.Tuples(len(part), 7)
		args := make([]any, 0, 7*len(part))
		for i, rw := range part {
			out[start+i] = rw.idx
			args = append(args, rw.idx, rw.e.At.UnixMilli(), clean(rw.e.Kind), clean(rw.e.Actor), clean(rw.e.Object), rw.data, rw.hashes)
		}
		// Nothing reads the rows back in this transaction (the tail
		// holds their hashes), so on PostgreSQL they travel with the
		// transaction's next statement or its commit.
		if err := tx.ExecDeferred(ctx, q, args...); err != nil {
			tx.SetMemo(tailKey{}, nil)
			return nil, fmt.Errorf("appending to the log: %w", err)
		}
	}
	t.size += int64(len(entries))
	// Once committed, the records are the log's for good: later appends,
	// in this process, need not read their hashes back. (What a
	// transaction wrote and then undid never reaches the cache: its hook
	// goes with it.)
	for _, rw := range rows {
		read[rw.idx] = rw.hashes
	}
	tx.AfterCommit(func() { l.tails.put(read) })
	return out, nil
}

// hashCache keeps the stored hashes of committed log records that the
// next appends will read: the last record of each complete subtree on the
// log's right edge, and the newest records. A committed record never
// changes, so an entry never goes stale, whichever process of the node
// appended it.
type hashCache struct {
	mu   sync.Mutex
	m    map[int64][]byte
	last int64
}

// maxCached bounds the cache; past it, only what the next appends need
// is kept.
const maxCached = 1024

func (c *hashCache) get(rec int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[rec]
	return b, ok
}

func (c *hashCache) put(blobs map[int64][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64][]byte{}
	}
	for rec, b := range blobs {
		c.m[rec] = b
		c.last = max(c.last, rec)
	}
	if len(c.m) <= maxCached {
		return
	}
	keep := rightEdge(c.last + 1)
	for rec := range c.m {
		if !keep[rec] && rec < c.last-64 {
			delete(c.m, rec)
		}
	}
}

// rightEdge is the last record of each complete subtree that a log of
// size records splits into: the records whose stored hashes an append at
// size reads.
func rightEdge(size int64) map[int64]bool {
	out := map[int64]bool{}
	start := int64(0)
	for k := 62; k >= 0; k-- {
		if size&(1<<k) != 0 {
			out[start+1<<k-1] = true
			start += 1 << k
		}
	}
	return out
}

// tail is what a transaction's appends remember about the log's end: its
// size, and the stored hashes of records written or read so far.
type tail struct {
	size  int64
	blobs map[int64][]byte // record index → its stored hashes
}

type tailKey struct{}

// sizeKey names the log's size as a write transaction began
// (store.ReadAtBegin).
type sizeKey struct{}

const sizeQuery = `SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries`

// SizeIn is the number of entries in the log as write transaction tx
// leaves it so far: what its appends made it, else what it began with,
// else read.
func SizeIn(ctx context.Context, tx *store.Tx) (int64, error) {
	if t, _ := tx.Memo(tailKey{}).(*tail); t != nil {
		return t.size, nil
	}
	if n, ok := tx.AtBegin(sizeKey{}); ok {
		return n, nil
	}
	return Size(ctx, tx)
}

// Size is the number of entries in the log as q sees it.
func Size(ctx context.Context, q store.Querier) (int64, error) {
	var n int64
	if err := q.QueryRow(ctx, sizeQuery).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading the log size: %w", err)
	}
	return n, nil
}

// hashReader reads stored hashes through q, preferring overlay (record
// index → its stored hashes) for records not yet written or read before,
// and adds what it reads to overlay.
func hashReader(ctx context.Context, q store.Querier, overlay map[int64][]byte, cache *hashCache, read map[int64][]byte) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		type want struct{ i, level int }
		need := map[int64][]want{}
		for i, idx := range indexes {
			level, n := tlog.SplitStoredHashIndex(idx)
			rec := (n+1)<<level - 1
			blob, ok := overlay[rec]
			if !ok && cache != nil {
				blob, ok = cache.get(rec)
			}
			if ok {
				if err := pick(blob, level, &out[i]); err != nil {
					return nil, fmt.Errorf("record %d: %w", rec, err)
				}
				continue
			}
			need[rec] = append(need[rec], want{i, level})
		}
		recs := make([]int64, 0, len(need))
		for rec := range need {
			recs = append(recs, rec)
		}
		for start := 0; start < len(recs); start += 500 {
			part := recs[start:min(start+500, len(recs))]
			args := make([]any, len(part))
			for i, r := range part {
				args[i] = r
			}
			rows, err := q.Query(ctx, `SELECT idx, hashes FROM log_entries WHERE idx IN (`+store.Params(len(part))+`)`, args...)
			if err != nil {
				return nil, fmt.Errorf("reading log hashes: %w", err)
			}
			found := 0
			for rows.Next() {
				var rec int64
				var blob []byte
				if err := rows.Scan(&rec, &blob); err != nil {
					rows.Close()
					return nil, fmt.Errorf("reading log hashes: %w", err)
				}
				for _, w := range need[rec] {
					if err := pick(blob, w.level, &out[w.i]); err != nil {
						rows.Close()
						return nil, fmt.Errorf("record %d: %w", rec, err)
					}
				}
				if overlay != nil {
					overlay[rec] = blob
				}
				if read != nil {
					read[rec] = blob
				}
				found++
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("reading log hashes: %w", err)
			}
			if found != len(part) {
				return nil, errors.New("the log is missing records it needs for a hash")
			}
		}
		return out, nil
	})
}

// reader reads stored hashes through q: first what a transaction's
// appends wrote (when q is one), then this process's cache of committed
// records, then the store.
func (l *Log) reader(ctx context.Context, q store.Querier) tlog.HashReader {
	var overlay map[int64][]byte
	if tx, ok := q.(*store.Tx); ok {
		if t, _ := tx.Memo(tailKey{}).(*tail); t != nil {
			overlay = t.blobs
		}
	}
	return hashReader(ctx, q, overlay, &l.tails, nil)
}

func pick(blob []byte, level int, h *tlog.Hash) error {
	if len(blob) < (level+1)*tlog.HashSize {
		return fmt.Errorf("has %d stored hashes, level %d wanted", len(blob)/tlog.HashSize, level)
	}
	copy(h[:], blob[level*tlog.HashSize:])
	return nil
}

// TreeHash is the root of the first size entries.
func (l *Log) TreeHash(ctx context.Context, q store.Querier, size int64) (tlog.Hash, error) {
	h, err := tlog.TreeHash(size, l.reader(ctx, q))
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("computing the tree hash at %d: %w", size, err)
	}
	return h, nil
}

// ProveRecord proves that entry idx is in the tree of size entries.
func (l *Log) ProveRecord(ctx context.Context, q store.Querier, size, idx int64) (tlog.RecordProof, error) {
	return l.Prover(ctx, q).ProveRecord(size, idx)
}

// Prover proves many entries against trees read through q, reading each
// stored hash once: the proofs of neighbouring entries share most of
// their hashes.
type Prover struct {
	r    tlog.HashReader
	seen map[int64]tlog.Hash
}

// Prover returns a Prover reading through q. Use it for one batch; it
// keeps every hash it read.
func (l *Log) Prover(ctx context.Context, q store.Querier) *Prover {
	p := &Prover{seen: map[int64]tlog.Hash{}}
	base := l.reader(ctx, q)
	p.r = tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		var missing []int64
		for _, x := range idx {
			if _, ok := p.seen[x]; !ok {
				missing = append(missing, x)
			}
		}
		if len(missing) > 0 {
			hs, err := base.ReadHashes(missing)
			if err != nil {
				return nil, err
			}
			for i, x := range missing {
				p.seen[x] = hs[i]
			}
		}
		for i, x := range idx {
			out[i] = p.seen[x]
		}
		return out, nil
	})
	return p
}

// TreeHash is the root of the first size entries.
func (p *Prover) TreeHash(size int64) (tlog.Hash, error) {
	h, err := tlog.TreeHash(size, p.r)
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("computing the tree hash at %d: %w", size, err)
	}
	return h, nil
}

// ProveRecord proves that entry idx is in the tree of size entries.
func (p *Prover) ProveRecord(size, idx int64) (tlog.RecordProof, error) {
	pr, err := tlog.ProveRecord(size, idx, p.r)
	if err != nil {
		return nil, fmt.Errorf("proving entry %d in tree %d: %w", idx, size, err)
	}
	return pr, nil
}

// ProveTree proves that the tree of old entries is a prefix of the tree of
// size entries.
func (l *Log) ProveTree(ctx context.Context, q store.Querier, size, old int64) (tlog.TreeProof, error) {
	p, err := tlog.ProveTree(size, old, l.reader(ctx, q))
	if err != nil {
		return nil, fmt.Errorf("proving tree %d extends tree %d: %w", size, old, err)
	}
	return p, nil
}

// Checkpoint is a parsed, verified checkpoint.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Note   []byte // the signed note as received or made
}

// Sign makes a signed checkpoint for the tree of size entries with root.
func (l *Log) Sign(size int64, root tlog.Hash) (*Checkpoint, error) {
	body := fmtlog.Checkpoint{Origin: l.self.Origin, Size: uint64(size), Hash: root[:]}.Marshal()
	msg, err := note.Sign(&note.Note{Text: string(body)}, l.signer)
	if err != nil {
		return nil, fmt.Errorf("signing checkpoint %d: %w", size, err)
	}
	return &Checkpoint{Origin: l.self.Origin, Size: size, Root: root, Note: msg}, nil
}

// SignAt signs a checkpoint for the log's current size as q sees it.
func (l *Log) SignAt(ctx context.Context, q store.Querier) (*Checkpoint, error) {
	size, err := Size(ctx, q)
	if err != nil {
		return nil, err
	}
	root, err := l.TreeHash(ctx, q, size)
	if err != nil {
		return nil, err
	}
	return l.Sign(size, root)
}

// OpenCheckpoint verifies msg as a checkpoint of the log whose keys are k
// and parses it. Extra signatures by other keys are allowed.
func OpenCheckpoint(msg []byte, k *Keys) (*Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(k.Verifier))
	if err != nil {
		return nil, fmt.Errorf("the checkpoint is not signed by %s: %w", k.Origin, err)
	}
	var c fmtlog.Checkpoint
	rest, err := c.Unmarshal([]byte(n.Text))
	if err != nil {
		return nil, fmt.Errorf("reading the checkpoint: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("the checkpoint has extension lines, which puente does not use")
	}
	if c.Origin != k.Origin {
		return nil, fmt.Errorf("the checkpoint is for log %q, not %q", c.Origin, k.Origin)
	}
	if len(c.Hash) != tlog.HashSize || c.Size > 1<<62 {
		return nil, errors.New("the checkpoint's size or root hash is malformed")
	}
	out := &Checkpoint{Origin: c.Origin, Size: int64(c.Size), Note: msg}
	copy(out.Root[:], c.Hash)
	return out, nil
}

// Cosign returns the C2SP cosignature/v1 of a verified checkpoint as a
// note holding only that signature.
func (l *Log) Cosign(c *Checkpoint) ([]byte, error) {
	body := fmtlog.Checkpoint{Origin: c.Origin, Size: uint64(c.Size), Hash: c.Root[:]}.Marshal()
	msg, err := note.Sign(&note.Note{Text: string(body)}, l.cosigner)
	if err != nil {
		return nil, fmt.Errorf("cosigning: %w", err)
	}
	return msg, nil
}

// AddCosignature checks that cosigned carries witness's cosignature over
// the same text as c, and returns c's note with that cosignature added.
func AddCosignature(c *Checkpoint, own, witness *Keys, cosigned []byte) ([]byte, error) {
	cn, err := note.Open(cosigned, note.VerifierList(witness.Cosigner))
	if err != nil {
		return nil, fmt.Errorf("the witness cosignature does not verify: %w", err)
	}
	on, err := note.Open(c.Note, note.VerifierList(own.Verifier, witness.Cosigner))
	if err != nil {
		return nil, fmt.Errorf("reading our checkpoint: %w", err)
	}
	if cn.Text != on.Text {
		return nil, errors.New("the witness cosigned a different checkpoint")
	}
	have := map[string]bool{}
	for _, s := range on.Sigs {
		have[s.Base64] = true
	}
	for _, s := range cn.Sigs {
		if !have[s.Base64] {
			on.Sigs = append(on.Sigs, s)
		}
	}
	msg, err := note.Sign(on)
	if err != nil {
		return nil, fmt.Errorf("encoding the cosigned checkpoint: %w", err)
	}
	return msg, nil
}

// Cosigned reports whether msg carries a valid cosignature by witness.
func Cosigned(msg []byte, witness *Keys) bool {
	n, err := note.Open(msg, note.VerifierList(witness.Cosigner))
	return err == nil && len(n.Sigs) > 0
}
