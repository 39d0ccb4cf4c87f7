package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"puente/internal/agreement"
	"puente/internal/identity"
	"puente/internal/link"
	"puente/internal/trustlog"
)

// Problem is where a bundle fails verification.
type Problem struct {
	Index  int64  // the entry concerned, or -1
	Reason string // a sentence
}

func (p *Problem) Error() string {
	if p.Index >= 0 {
		return fmt.Sprintf("entry %d: %s", p.Index, p.Reason)
	}
	return p.Reason
}

// Verdict is the outcome of Verify.
type Verdict struct {
	Problem     *Problem // nil when everything checks
	Entries     int
	First, Last int64
	Checkpoints int
	Cosigned    int
	Latest      int64 // size of the newest checkpoint
	Unsealed    int   // entries after the newest checkpoint
	Partner     int   // partner checkpoints witnessed, all verified
	Envelopes   int   // receipts verified
	Lines       []string
}

func (v *Verdict) add(format string, args ...any) {
	v.Lines = append(v.Lines, fmt.Sprintf(format, args...))
}

// Options narrow what Verify reports.
type Options struct {
	// Envelope, when set, proves that envelope's entries and its receipt.
	Envelope string
}

// Verify checks b against the agreement ag, offline: the rows agree with
// their signed entry text, every entry's hash and stored hashes recompute,
// every checkpoint is signed by the party's key and its root recomputes
// from the entries, cosignatures are the partner's, witnessed partner
// checkpoints are signed by the partner, and receipts prove delivery.
func Verify(b *Bundle, ag *agreement.File, opt Options) (*Verdict, error) {
	v := &Verdict{First: b.First, Last: b.First - 1}
	fail := func(idx int64, format string, args ...any) (*Verdict, error) {
		v.Problem = &Problem{Index: idx, Reason: fmt.Sprintf(format, args...)}
		return v, nil
	}
	if b.Format != Format {
		return nil, fmt.Errorf("this is not a %s bundle (format %q)", Format, b.Format)
	}
	if err := ag.Verify(); err != nil {
		return nil, fmt.Errorf("the agreement: %w", err)
	}
	if b.Agreement != ag.HashHex() {
		return nil, fmt.Errorf("the bundle was made under agreement %.16s…, not this one (%.16s…)", b.Agreement, ag.HashHex())
	}
	own, err := keysOf(ag, b.Party)
	if err != nil {
		return nil, err
	}
	partner, err := keysOf(ag, b.Partner)
	if err != nil {
		return nil, err
	}

	// 1. Each row: columns agree with the entry text, the text with its hash.
	hashes := map[int64]tlog.Hash{}
	for k, h := range b.PrefixHashes {
		if k >= tlog.StoredHashIndex(0, b.First) {
			return fail(-1, "the bundle's prefix hashes reach into its own entries (stored hash %d)", k)
		}
		hashes[k] = h
	}
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			h, ok := hashes[x]
			if !ok {
				return nil, fmt.Errorf("stored hash %d is neither in the bundle nor computable from it", x)
			}
			out[i] = h
		}
		return out, nil
	})
	for i, e := range b.Entries {
		want := b.First + int64(i)
		if e.Index != want {
			return fail(want, "is missing: the bundle jumps from entry %d to %d", want-1, e.Index)
		}
		parsed, err := trustlog.ParseEntry(e.Data)
		if err != nil {
			return fail(e.Index, "its signed text is not a valid entry: %v", err)
		}
		for _, c := range [][3]string{{"kind", e.Kind, parsed.Kind}, {"actor", e.Actor, parsed.Actor}, {"object", e.Object, parsed.Object}} {
			if c[1] != c[2] {
				return fail(e.Index, "was changed after it was logged: the %s column says %q, the logged text says %q", c[0], c[1], c[2])
			}
		}
		if e.At != parsed.At.UnixMilli() {
			return fail(e.Index, "was changed after it was logged: the time column differs from the logged time %s", parsed.At.Format("2006-01-02T15:04:05.000Z"))
		}
		if len(e.Hashes) < tlog.HashSize || !bytes.Equal(e.Hashes[:tlog.HashSize], recordHash(e.Data)) {
			return fail(e.Index, "was changed after it was logged: its text no longer matches its stored hash")
		}
		computed, err := tlog.StoredHashes(e.Index, e.Data, r)
		if err != nil {
			return fail(e.Index, "its tree hashes cannot be recomputed: %v", err)
		}
		if len(e.Hashes) != len(computed)*tlog.HashSize {
			return fail(e.Index, "its stored tree hashes were changed (%d bytes, %d expected)", len(e.Hashes), len(computed)*tlog.HashSize)
		}
		for level, h := range computed {
			if !bytes.Equal(e.Hashes[level*tlog.HashSize:(level+1)*tlog.HashSize], h[:]) {
				from := max(b.First, e.Index>>uint(level)<<uint(level))
				return fail(from, "an entry from %d to %d was changed together with its own hash: entry %d's stored tree hash at level %d no longer recomputes", from, e.Index, e.Index, level)
			}
			hashes[tlog.StoredHashIndex(level, e.Index>>uint(level))] = h
		}
		v.Entries++
		v.Last = e.Index
	}
	end := b.First + int64(len(b.Entries))

	// 2. Checkpoints: signed by the party, roots recompute, cosigned by the
	// partner where witnessed.
	prevSize := b.First
	for _, c := range b.Checkpoints {
		cp, err := trustlog.OpenCheckpoint([]byte(c.Note), own)
		if err != nil {
			return fail(-1, "checkpoint %d: %v", c.Size, err)
		}
		if cp.Size != c.Size {
			return fail(-1, "checkpoint %d says it has %d entries", c.Size, cp.Size)
		}
		if cp.Size > end {
			return fail(-1, "checkpoint %d covers entries the bundle does not hold (it ends at %d)", cp.Size, end)
		}
		root, err := tlog.TreeHash(cp.Size, r)
		if err != nil {
			return fail(-1, "checkpoint %d: the root cannot be recomputed: %v", cp.Size, err)
		}
		if root != cp.Root {
			return fail(prevSize, "the entries do not add up to checkpoint %d signed by %s: an entry between %d and %d was changed or removed", cp.Size, b.Party, prevSize, cp.Size-1)
		}
		if trustlog.Cosigned([]byte(c.Note), partner) {
			v.Cosigned++
		}
		prevSize = cp.Size
		v.Checkpoints++
		v.Latest = cp.Size
	}
	v.Unsealed = int(end - max(v.Latest, b.First))
	if v.Checkpoints == 0 && len(b.Entries) > 0 {
		v.add("warning: no checkpoint covers these entries yet; they check against their own hashes only")
	}

	// 3. The partner's checkpoints this node witnessed are the partner's.
	for _, c := range b.PartnerCheckpoints {
		if _, err := trustlog.OpenCheckpoint([]byte(c.Note), partner); err != nil {
			return fail(-1, "witnessed partner checkpoint %d: %v", c.Size, err)
		}
		v.Partner++
	}

	// 4. Receipts: each proves the receiver logged the envelope.
	for _, e := range b.Envelopes {
		if opt.Envelope != "" && e.ID != opt.Envelope {
			continue
		}
		var env link.Envelope
		var rc link.Receipt
		if json.Unmarshal(e.Envelope, &env) != nil || json.Unmarshal(e.Receipt, &rc) != nil {
			return fail(-1, "envelope %s: the envelope or its receipt is not valid JSON", e.ID)
		}
		receiver := partner
		senderCode, receiverCode := b.Party, b.Partner
		if e.Direction == "received" {
			receiver = own
			senderCode, receiverCode = b.Partner, b.Party
		}
		spub, err := pubOf(ag, senderCode)
		if err != nil {
			return nil, err
		}
		rpub, err := pubOf(ag, receiverCode)
		if err != nil {
			return nil, err
		}
		if !env.VerifySig(spub) || env.ID != e.ID {
			return fail(-1, "envelope %s is not signed by %s", e.ID, senderCode)
		}
		if !rc.VerifySig(rpub) || rc.EnvelopeID != env.ID || rc.EnvelopeHash != env.Hash() {
			return fail(-1, "the receipt for envelope %s is not %s's signed answer to it", e.ID, receiverCode)
		}
		if rc.Status == link.StatusDeferred {
			continue
		}
		cp, err := link.VerifyLogProof(&rc, &env, receiver)
		if err != nil {
			return fail(-1, "envelope %s: %v", e.ID, err)
		}
		v.Envelopes++
		if opt.Envelope != "" {
			v.add("envelope %s (%s, %s): signed by %s", env.ID, env.Kind, e.Direction, senderCode)
			v.add("  receipt: %s, signed by %s at %s", rc.Status, receiverCode, rc.At)
			v.add("  logged by %s at index %d, proven included in its checkpoint of %d entries (root %s)", receiverCode, rc.Log.Index, cp.Size, cp.Root)
		}
	}
	if opt.Envelope != "" {
		found := 0
		for _, e := range b.Entries {
			if e.Object != "envelope:"+opt.Envelope {
				continue
			}
			found++
			if v.Latest > e.Index {
				p, err := tlog.ProveRecord(v.Latest, e.Index, r)
				if err != nil {
					return fail(e.Index, "cannot prove inclusion: %v", err)
				}
				root, _ := tlog.TreeHash(v.Latest, r)
				if err := tlog.CheckRecord(p, v.Latest, root, e.Index, tlog.RecordHash(e.Data)); err != nil {
					return fail(e.Index, "inclusion proof fails: %v", err)
				}
				v.add("  %s logged %s at index %d, proven included in checkpoint %d (%d proof hashes)", b.Party, e.Kind, e.Index, v.Latest, len(p))
			} else {
				v.add("  %s logged %s at index %d, not yet under a checkpoint", b.Party, e.Kind, e.Index)
			}
		}
		if found == 0 && v.Envelopes == 0 {
			return fail(-1, "envelope %s is not in this bundle", opt.Envelope)
		}
	}
	return v, nil
}

func recordHash(data []byte) []byte {
	h := tlog.RecordHash(data)
	return h[:]
}

func pubOf(ag *agreement.File, code string) (ed25519.PublicKey, error) {
	p, ok := ag.Party(code)
	if !ok {
		return nil, fmt.Errorf("party %s is not in the agreement", code)
	}
	pub, err := identity.ParsePublicKey(p.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("the agreement's key for %s: %w", code, err)
	}
	return pub, nil
}

func keysOf(ag *agreement.File, code string) (*trustlog.Keys, error) {
	pub, err := pubOf(ag, code)
	if err != nil {
		return nil, err
	}
	return trustlog.PartyKeys(code, pub)
}

// Print writes the verdict for people.
func (v *Verdict) Print(w io.Writer, b *Bundle) {
	if v.Problem != nil {
		fmt.Fprintf(w, "FAIL: %s\n", v.Problem.Error())
		return
	}
	fmt.Fprintf(w, "OK: %d entries of %s's log (%d–%d) match %d checkpoints signed by %s", v.Entries, b.Party, v.First, v.Last, v.Checkpoints, b.Party)
	fmt.Fprintf(w, "; %d cosigned by %s\n", v.Cosigned, b.Partner)
	if v.Unsealed > 0 {
		fmt.Fprintf(w, "note: the last %d entries come after the newest checkpoint (%d entries) and are checked against their own hashes only\n", v.Unsealed, v.Latest)
	}
	fmt.Fprintf(w, "%d receipts prove delivery and logging; %d checkpoints of %s's log witnessed here verify\n", v.Envelopes, v.Partner, b.Partner)
	for _, l := range v.Lines {
		fmt.Fprintln(w, l)
	}
}

// Read decodes a bundle.
func Read(r io.Reader) (*Bundle, error) {
	var b Bundle
	dec := json.NewDecoder(r)
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("reading the bundle: %w", err)
	}
	if b.Format == "" {
		return nil, errors.New("reading the bundle: no format member; is this a puente audit bundle?")
	}
	if !strings.HasPrefix(b.Format, "puente-audit-bundle/") {
		return nil, fmt.Errorf("reading the bundle: unknown format %q", b.Format)
	}
	return &b, nil
}
