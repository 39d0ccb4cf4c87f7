// Package trustlog is the node's append-only Merkle log: every envelope
// sent and received, every receipt and rejection, every access to the
// partner's data and every change to users, tokens and the agreement is
// appended in the same transaction as the change it records.
//
// Hashing and proofs are golang.org/x/mod/sumdb/tlog; the stored hashes
// live in our own SQL table. Checkpoints are C2SP tlog-checkpoint signed
// notes (golang.org/x/mod/sumdb/note) and the partner's witness
// cosignatures are C2SP tlog-cosignature (github.com/transparency-dev/formats).
package trustlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// entryHeader opens every entry's canonical text.
const entryHeader = "puente-log-entry/v1"

// maxField bounds one field of an entry.
const maxField = 512

// Entry is one thing that happened: what, who, when and which object, and
// nothing more. Payloads appear only as digests.
type Entry struct {
	At     time.Time // when, kept to the millisecond
	Kind   string    // what happened, e.g. "envelope.received"
	Actor  string    // who did it, e.g. "node:US" or "user:analista@UIF"
	Object string    // what it concerns, e.g. "envelope:01J…"
	Digest string    // SHA-256 (hex) of the object's content, or ""
	Detail string    // a short qualifier such as "to=FGR", or ""
}

// Kinds of entries.
const (
	KindEnvelopeSent     = "envelope.sent"
	KindEnvelopeReceived = "envelope.received"
	KindEnvelopeRejected = "envelope.rejected"
	KindReceipt          = "receipt.received"
	KindDataRead         = "data.read"
	KindDataExported     = "data.exported"
	KindDataPassedOn     = "data.passed_on"
	// A use of the partner's data that its caveats did not allow and no
	// consent covered: refused, logged and reported to the originator.
	KindDataRefused = "data.refused"
	// The partner's data marked for evidential use.
	KindDataEvidential = "data.evidential"
	KindUserCreated    = "user.created"
	KindUserChanged    = "user.changed"
	KindTokenCreated   = "token.created"
	KindTokenRevoked   = "token.revoked"
	KindAgreement      = "agreement.installed"
	KindAlarmAcked     = "alarm.acknowledged"
)

// Encode returns the entry's canonical text, the bytes the log hashes:
//
//	puente-log-entry/v1
//	at 2026-11-25T10:00:00.123Z
//	kind envelope.received
//	actor node:US
//	object envelope:01JD…
//	digest 9f86d0…
//	detail status=applied
//
// Each line ends in "\n"; empty digest and detail are written as "-".
func (e Entry) Encode() []byte {
	var b bytes.Buffer
	b.WriteString(entryHeader + "\n")
	b.WriteString("at " + e.At.UTC().Truncate(time.Millisecond).Format(timeFormat) + "\n")
	for _, f := range [][2]string{{"kind", e.Kind}, {"actor", e.Actor}, {"object", e.Object}, {"digest", e.Digest}, {"detail", e.Detail}} {
		v := clean(f[1])
		if v == "" {
			v = "-"
		}
		b.WriteString(f[0] + " " + v + "\n")
	}
	return b.Bytes()
}

const timeFormat = "2006-01-02T15:04:05.000Z"

// clean keeps a field on one line and within bounds: control characters
// become "?", outer spaces go, and a value of "-" alone would read as
// empty.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > maxField {
		s = strings.ToValidUTF8(s[:maxField], "")
	}
	if s == "-" {
		s = "?"
	}
	return s
}

// ParseEntry reads an entry's canonical text. It accepts only exactly what
// Encode writes.
func ParseEntry(data []byte) (Entry, error) {
	lines := strings.Split(string(data), "\n")
	if len(lines) != 8 || lines[7] != "" || lines[0] != entryHeader {
		return Entry{}, errors.New("not a puente-log-entry/v1 text of seven lines")
	}
	var e Entry
	fields := []struct {
		name string
		dst  *string
	}{{"kind", &e.Kind}, {"actor", &e.Actor}, {"object", &e.Object}, {"digest", &e.Digest}, {"detail", &e.Detail}}
	at, ok := strings.CutPrefix(lines[1], "at ")
	if !ok {
		return Entry{}, errors.New("line 2 is not \"at TIME\"")
	}
	t, err := time.Parse(timeFormat, at)
	if err != nil {
		return Entry{}, fmt.Errorf("line 2 has a bad time: %w", err)
	}
	e.At = t
	for i, f := range fields {
		v, ok := strings.CutPrefix(lines[2+i], f.name+" ")
		if !ok || v == "" {
			return Entry{}, fmt.Errorf("line %d is not %q", 3+i, f.name+" VALUE")
		}
		if v == "-" {
			v = ""
		}
		*f.dst = v
	}
	if !bytes.Equal(e.Encode(), data) {
		return Entry{}, errors.New("the text is not in canonical form")
	}
	return e, nil
}

type actorKey struct{}

// WithActor records in ctx who is acting, for the entries that changes
// made under ctx append ("user:admin@SRE", "cli:puente user add").
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf is the actor recorded in ctx, or "system".
func ActorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}
