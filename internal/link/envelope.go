// Package link carries signed envelopes between the two nodes: the outbox
// written in the same transaction as the change that causes it, the
// delivery worker, the receiving side that verifies, de-duplicates, applies
// and answers with signed receipts, and the quarantine of everything it
// refuses. docs/protocol.md is the specification; this package is one
// implementation of it.
package link

import (
	"golang.org/x/mod/sumdb/tlog"

	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Envelope is one signed message between the nodes.
type Envelope struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Version   int    `json:"v"`
	Stream    string `json:"stream"`
	Seq       int64  `json:"seq"`
	From      string `json:"from"`
	To        string `json:"to"`
	Created   string `json:"created"`
	Agreement string `json:"agreement"`
	Caveats   []byte `json:"caveats"`
	Body      []byte `json:"body"`
	Sig       []byte `json:"sig"`
}

const envelopeTag = "puente/envelope/v1"

// MaxFieldLen bounds every header field; bodies have their own limit from
// the agreement.
const MaxFieldLen = 256

// The field rules of protocol.md §3, written out rather than as regular
// expressions: every envelope is checked when it is built and again when
// it arrives, and the regexp engine cost more than the rest of the check.
// fields_test.go holds the rules as regular expressions and compares.

// ValidID reports whether s is a well-formed envelope id: 16 to 64
// characters of [A-Za-z0-9_-]. Other ids that cross the link (threads,
// messages) follow the same rule.
func ValidID(s string) bool {
	return len(s) >= 16 && len(s) <= 64 && all(s, func(c byte) bool { return isAlnum(c) || c == '_' || c == '-' })
}

// validKind: dotted lower-case words, at least two, each starting with a
// letter: [a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+.
func validKind(s string) bool {
	words := 0
	for w := range strings.SplitSeq(s, ".") {
		if w == "" || w[0] < 'a' || w[0] > 'z' || !all(w, func(c byte) bool { return isLower(c) || isDigit(c) || c == '_' }) {
			return false
		}
		words++
	}
	return words >= 2
}

// validStream: 1 to 200 characters of [A-Za-z0-9_.:-].
func validStream(s string) bool {
	return len(s) >= 1 && len(s) <= 200 && all(s, func(c byte) bool { return isAlnum(c) || strings.IndexByte("_.:-", c) >= 0 })
}

// validParty: two capital letters.
func validParty(s string) bool {
	return len(s) == 2 && all(s, func(c byte) bool { return c >= 'A' && c <= 'Z' })
}

// validHash: 64 lower-case hex digits.
func validHash(s string) bool {
	return len(s) == 64 && all(s, func(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'f') })
}

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlnum(c byte) bool { return isDigit(c) || isLower(c) || (c >= 'A' && c <= 'Z') }

// ErrMalformed is wrapped by every decoding failure.
var ErrMalformed = errors.New("malformed envelope")

// appendField appends a length-prefixed field: 4-byte big-endian length,
// then the bytes.
func appendField[T string | []byte](b []byte, f T) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}

// fieldsLen is the encoded length of fields, each length-prefixed.
func fieldsLen(fields ...string) int {
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	return n
}

// SigningInput is the canonical encoding that the signature covers: the
// tag "puente/envelope/v1" and then id, kind, version, stream, seq, from,
// to, created, agreement, caveats and body, each length-prefixed.
func (e *Envelope) SigningInput() []byte {
	// Every envelope is hashed, signed or verified several times on its
	// way: build the input in one allocation.
	fields := [...]string{envelopeTag, e.ID, e.Kind, strconv.Itoa(e.Version), e.Stream, strconv.FormatInt(e.Seq, 10), e.From, e.To, e.Created, e.Agreement}
	b := make([]byte, 0, fieldsLen(fields[:]...)+4+len(e.Caveats)+4+len(e.Body))
	for _, f := range fields {
		b = appendField(b, f)
	}
	b = appendField(b, e.Caveats)
	return appendField(b, e.Body)
}

// Hash is the SHA-256 of the signing input, in hex. Receipts name the
// envelope they answer by it.
func (e *Envelope) Hash() string {
	s := sha256.Sum256(e.SigningInput())
	return hex.EncodeToString(s[:])
}

// Sign sets Sig.
func (e *Envelope) Sign(sk ed25519.PrivateKey) { e.Sig = ed25519.Sign(sk, e.SigningInput()) }

// VerifySig checks Sig against pk.
func (e *Envelope) VerifySig(pk ed25519.PublicKey) bool {
	return len(e.Sig) == ed25519.SignatureSize && ed25519.Verify(pk, e.SigningInput(), e.Sig)
}

// CreatedTime parses Created.
func (e *Envelope) CreatedTime() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.Created)
	return t
}

// DecodeEnvelope parses and checks the shape of one wire envelope. It does
// not check the signature or the agreement; the receiver does that.
func DecodeEnvelope(raw []byte, maxBody int) (*Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := e.check(maxBody); err != nil {
		return &e, err
	}
	return &e, nil
}

// ErrTooLarge is wrapped when the body exceeds the agreement's limit.
var ErrTooLarge = errors.New("envelope body is larger than the agreement allows")

func (e *Envelope) check(maxBody int) error {
	bad := func(field, val string) error {
		if len(val) > 40 {
			val = val[:40] + "…"
		}
		return fmt.Errorf("%w: field %s has the invalid value %q", ErrMalformed, field, val)
	}
	switch {
	case !ValidID(e.ID):
		return bad("id", e.ID)
	case !validKind(e.Kind) || len(e.Kind) > MaxFieldLen:
		return bad("kind", e.Kind)
	case e.Version < 1 || e.Version > 1000:
		return bad("v", strconv.Itoa(e.Version))
	case !validStream(e.Stream):
		return bad("stream", e.Stream)
	case e.Seq < 1:
		return bad("seq", strconv.FormatInt(e.Seq, 10))
	case !validParty(e.From):
		return bad("from", e.From)
	case !validParty(e.To):
		return bad("to", e.To)
	case !validHash(e.Agreement):
		return bad("agreement", e.Agreement)
	}
	if t, err := time.Parse(time.RFC3339Nano, e.Created); err != nil || t.Location() != time.UTC {
		return bad("created", e.Created)
	}
	if len(e.Caveats) > 64<<10 {
		return bad("caveats", "(too long)")
	}
	if len(e.Body) > maxBody {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(e.Body), maxBody)
	}
	return nil
}

// Receipt is the receiver's signed answer to one envelope.
type Receipt struct {
	EnvelopeID   string `json:"envelope_id"`
	EnvelopeHash string `json:"envelope_hash"`
	Status       string `json:"status"`
	Code         string `json:"code,omitempty"`
	Reason       string `json:"reason,omitempty"`
	From         string `json:"from"`
	To           string `json:"to"`
	At           string `json:"at"`
	InboxPos     int64  `json:"inbox_position"`
	Agreement    string `json:"agreement"`
	Sig          []byte `json:"sig"`
	// Log proves that the receiver logged the envelope: present on every
	// applied or rejected receipt for a well-formed envelope. It is not
	// covered by Sig; it authenticates itself (see LogProof).
	Log *LogProof `json:"log,omitempty"`
}

// LogProof shows where the receiver's transparency log recorded an
// envelope: the entry's canonical text at Index, and an inclusion proof
// against Checkpoint, a note signed by the receiver's log key.
type LogProof struct {
	Index      int64            `json:"index"`
	Entry      []byte           `json:"entry"`
	Checkpoint []byte           `json:"checkpoint"`
	Proof      tlog.RecordProof `json:"proof"`
}

// Receipt statuses.
const (
	// StatusApplied: the envelope was applied now, or had been before (a
	// replay gets the original receipt back).
	StatusApplied = "applied"
	// StatusRejected: refused for good and kept in quarantine.
	StatusRejected = "rejected"
	// StatusDeferred: not applied yet (an earlier envelope of its stream is
	// missing, or the receiver failed for a passing reason); send it again.
	StatusDeferred = "deferred"
)

// Rejection codes, stable across versions.
const (
	CodeMalformed        = "malformed"
	CodeBadSignature     = "bad_signature"
	CodeWrongAgreement   = "wrong_agreement"
	CodeWrongParty       = "wrong_party"
	CodeUnknownKind      = "unknown_kind"
	CodeTooLarge         = "too_large"
	CodeSequenceConflict = "sequence_conflict"
	CodeInvalidContent   = "invalid_content"
	CodeOutOfOrder       = "out_of_order"
	CodeTemporary        = "temporary"
)

const receiptTag = "puente/receipt/v1"

// SigningInput is the canonical encoding the receipt signature covers.
func (r *Receipt) SigningInput() []byte {
	fields := [...]string{receiptTag, r.EnvelopeID, r.EnvelopeHash, r.Status, r.Code, r.Reason, r.From, r.To, r.At, strconv.FormatInt(r.InboxPos, 10), r.Agreement}
	b := make([]byte, 0, fieldsLen(fields[:]...))
	for _, f := range fields {
		b = appendField(b, f)
	}
	return b
}

// Sign sets Sig.
func (r *Receipt) Sign(sk ed25519.PrivateKey) { r.Sig = ed25519.Sign(sk, r.SigningInput()) }

// VerifySig checks Sig against pk.
func (r *Receipt) VerifySig(pk ed25519.PublicKey) bool {
	return len(r.Sig) == ed25519.SignatureSize && ed25519.Verify(pk, r.SigningInput(), r.Sig)
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
