package link_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"puente/internal/demo"
	"puente/internal/identity"
	"puente/internal/liaison"
	"puente/internal/link"
	"puente/internal/testenv"
)

// partnerClient speaks to the MX federation listener as the US node would:
// with the US certificate, pinned to MX's.
type partnerClient struct {
	t      *testing.T
	pair   *demo.Pair
	us     *identity.Identity
	http   *http.Client
	url    string
	ag     string
	usKey  ed25519.PrivateKey
	mxPub  ed25519.PublicKey
	stream string
	seq    int64
}

func newPartnerClient(t *testing.T, p *demo.Pair) *partnerClient {
	us, err := identity.Load(filepath.Join(p.Dir, "US"))
	if err != nil {
		t.Fatal(err)
	}
	mx := p.Nodes["MX"]
	mxParty, _ := mx.Agreement.Party("MX")
	mxPub, _ := identity.ParsePublicKey(mxParty.SigningKey)
	return &partnerClient{t: t, pair: p, us: us, usKey: us.Signing, mxPub: mxPub,
		// A minute: the oversized body is ~28 MB of JSON, slow under -race on two busy cores.
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{us.TLS}, InsecureSkipVerify: true,
		}}},
		url: "https://" + mx.FederationAddr(), ag: mx.Agreement.HashHex(), stream: "liaison:" + link.NewID()}
}

// envelope returns the next well-formed attachment envelope of the test's
// stream, signed by the US key.
func (c *partnerClient) envelope(mod func(e *link.Envelope)) *link.Envelope {
	c.seq++
	e := &link.Envelope{ID: link.NewID(), Kind: "liaison.attachment", Version: 1, Stream: c.stream, Seq: c.seq, From: "US", To: "MX",
		Created: time.Now().UTC().Format(time.RFC3339Nano), Agreement: c.ag, Caveats: []byte(`{}`), Body: []byte("file contents")}
	if mod != nil {
		mod(e)
	}
	e.Sign(c.usKey)
	return e
}

// fresh starts a new stream.
func (c *partnerClient) fresh() { c.stream, c.seq = "liaison:"+link.NewID(), 0 }

func (c *partnerClient) post(body []byte, agreementHeader string) (int, []*link.Receipt) {
	req, _ := http.NewRequest(http.MethodPost, c.url+link.PathEnvelopes, bytes.NewReader(body))
	req.Header.Set(link.HeaderAgreement, agreementHeader)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("posting to the federation listener: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Receipts []*link.Receipt `json:"receipts"`
	}
	_ = json.Unmarshal(raw, &out)
	for _, r := range out.Receipts {
		if !r.VerifySig(c.mxPub) {
			c.t.Fatalf("receipt %+v is not signed by MX", r)
		}
	}
	return resp.StatusCode, out.Receipts
}

func (c *partnerClient) send(envs ...*link.Envelope) (int, []*link.Receipt) {
	var raws []json.RawMessage
	for _, e := range envs {
		b, _ := json.Marshal(e)
		raws = append(raws, b)
	}
	body, _ := json.Marshal(map[string]any{"envelopes": raws})
	return c.post(body, c.ag)
}

func TestHostileInput(t *testing.T) {
	p := testenv.StartPair(t)
	c := newPartnerClient(t, p)
	mx := p.Nodes["MX"]
	ctx := context.Background()
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)

	quarantined := func() int {
		n, err := mx.Link.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n.Quarantined
	}

	cases := []struct {
		name     string
		envelope func() *link.Envelope
		code     string
	}{
		{"forged signature", func() *link.Envelope {
			e := c.envelope(nil)
			e.Sign(otherKey)
			return e
		}, link.CodeBadSignature},
		{"tampered body", func() *link.Envelope {
			e := c.envelope(nil)
			e.Body = []byte("changed after signing")
			return e
		}, link.CodeBadSignature},
		{"wrong agreement", func() *link.Envelope {
			return c.envelope(func(e *link.Envelope) { e.Agreement = strings.Repeat("0", 64) })
		}, link.CodeWrongAgreement},
		{"unknown kind", func() *link.Envelope {
			return c.envelope(func(e *link.Envelope) { e.Kind = "mystery.kind" })
		}, link.CodeUnknownKind},
		{"oversized body", func() *link.Envelope {
			return c.envelope(func(e *link.Envelope) { e.Body = make([]byte, mx.Agreement.Body().Limits.MaxBodyBytes+1) })
		}, link.CodeTooLarge},
		{"wrong sender", func() *link.Envelope {
			return c.envelope(func(e *link.Envelope) { e.From = "MX"; e.To = "US" })
		}, link.CodeWrongParty},
		{"malformed header", func() *link.Envelope {
			return c.envelope(func(e *link.Envelope) { e.ID = "short" })
		}, link.CodeMalformed},
		{"invalid content", func() *link.Envelope {
			return c.envelope(func(e *link.Envelope) { e.Kind = "liaison.message"; e.Body = []byte(`{"thread_id": 7}`) })
		}, link.CodeInvalidContent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.fresh()
			before := quarantined()
			status, rs := c.send(tc.envelope())
			if status != http.StatusOK || len(rs) != 1 {
				t.Fatalf("status %d with %d receipts", status, len(rs))
			}
			if rs[0].Status != link.StatusRejected || rs[0].Code != tc.code {
				t.Fatalf("receipt %s/%s (%s), want rejected/%s", rs[0].Status, rs[0].Code, rs[0].Reason, tc.code)
			}
			if quarantined() != before+1 {
				t.Fatal("the rejected envelope was not kept in quarantine")
			}
		})
	}

	// Every kind decodes strictly: a field its body does not have, or data
	// after the JSON value, is refused before anything else is looked at.
	for _, kv := range mx.Link.Kinds() {
		kind, _, _ := strings.Cut(kv, "/")
		if strings.HasSuffix(kind, ".attachment") {
			continue // the body is the file's bytes, not JSON
		}
		for _, bad := range []struct{ name, body, caveats, want string }{
			{"unknown field", `{"zzz_unknown": 1}`, `{}`, `unknown field "zzz_unknown"`},
			{"trailing data", `{} {}`, `{}`, "data after the JSON value"},
			{"unknown caveat", `{}`, `{"classification":"RESTRICTED","zzz_rule":true}`, `unknown field "zzz_rule"`},
		} {
			if bad.name == "unknown caveat" && kind != "liaison.message" && kind != "finintel.disclosure" {
				continue // only these kinds carry caveats the receiver reads
			}
			t.Run(kind+" "+bad.name, func(t *testing.T) {
				c.fresh()
				before := quarantined()
				status, rs := c.send(c.envelope(func(e *link.Envelope) {
					e.Kind, e.Body, e.Caveats = kind, []byte(bad.body), []byte(bad.caveats)
					if kind == "liaison.message" && bad.name == "unknown caveat" {
						// The message body must parse before its caveats are read.
						e.Body = []byte(`{"thread_id":"` + strings.TrimPrefix(c.stream, "liaison:") + `"}`)
					}
				}))
				if status != http.StatusOK || len(rs) != 1 {
					t.Fatalf("status %d with %d receipts", status, len(rs))
				}
				if rs[0].Status != link.StatusRejected || rs[0].Code != link.CodeInvalidContent {
					t.Fatalf("receipt %s/%s (%s), want rejected/%s", rs[0].Status, rs[0].Code, rs[0].Reason, link.CodeInvalidContent)
				}
				if !strings.Contains(rs[0].Reason, bad.want) {
					t.Fatalf("rejected for %q, want a reason naming %q", rs[0].Reason, bad.want)
				}
				if quarantined() != before+1 {
					t.Fatal("the rejected envelope was not kept in quarantine")
				}
			})
		}
	}

	t.Run("garbage bytes", func(t *testing.T) {
		before := quarantined()
		status, rs := c.post([]byte("\x00\x01 this is not json"), c.ag)
		if status != http.StatusBadRequest || len(rs) != 1 || rs[0].Code != link.CodeMalformed {
			t.Fatalf("status %d, receipts %+v", status, rs)
		}
		if quarantined() != before+1 {
			t.Fatal("garbage was not kept in quarantine")
		}
	})

	t.Run("agreement mismatch at the handshake", func(t *testing.T) {
		status, _ := c.post([]byte(`{"envelopes":[]}`), strings.Repeat("f", 64))
		if status != http.StatusConflict {
			t.Fatalf("status %d, want 409", status)
		}
		st, _ := mx.Link.Status(ctx)
		if !strings.Contains(st.AgreementMismatch, "different agreement") && !strings.Contains(st.AgreementMismatch, "runs agreement") {
			t.Fatalf("MX does not show the mismatch: %q", st.AgreementMismatch)
		}
	})

	t.Run("replay is harmless", func(t *testing.T) {
		c.fresh()
		e := c.envelope(nil)
		_, first := c.send(e)
		cnt, _ := mx.Link.Counts(ctx)
		_, second := c.send(e)
		_, third := c.send(e, e)
		cnt2, _ := mx.Link.Counts(ctx)
		if first[0].Status != link.StatusApplied || second[0].Status != link.StatusApplied || third[1].Status != link.StatusApplied {
			t.Fatalf("statuses %s, %s, %s", first[0].Status, second[0].Status, third[1].Status)
		}
		if first[0].InboxPos != second[0].InboxPos || first[0].InboxPos != third[1].InboxPos {
			t.Fatal("a replay got a different receipt")
		}
		if cnt2.Received != cnt.Received {
			t.Fatalf("replays were applied again: %d → %d", cnt.Received, cnt2.Received)
		}
	})

	t.Run("two copies in one batch are applied once", func(t *testing.T) {
		c.fresh()
		cnt, _ := mx.Link.Counts(ctx)
		e, next := c.envelope(nil), c.envelope(nil)
		_, rs := c.send(e, e, next, e)
		cnt2, _ := mx.Link.Counts(ctx)
		for i, r := range rs {
			if r.Status != link.StatusApplied || r.Log == nil {
				t.Fatalf("receipt %d: %s, log proof %v", i, r.Status, r.Log != nil)
			}
			if _, err := link.VerifyLogProof(r, []*link.Envelope{e, e, next, e}[i], mx.Link.TrustLog().Keys()); err != nil {
				t.Fatalf("receipt %d: %v", i, err)
			}
		}
		if rs[0].InboxPos != rs[1].InboxPos || rs[0].InboxPos != rs[3].InboxPos || rs[0].InboxPos == rs[2].InboxPos {
			t.Fatalf("inbox positions %d %d %d %d", rs[0].InboxPos, rs[1].InboxPos, rs[2].InboxPos, rs[3].InboxPos)
		}
		if cnt2.Received != cnt.Received+2 {
			t.Fatalf("received %d → %d, want two more", cnt.Received, cnt2.Received)
		}
	})

	t.Run("one bad envelope in a batch is quarantined alone", func(t *testing.T) {
		// The batch is applied without savepoints first; the bad
		// envelope's handler fails, and the batch runs again with one
		// savepoint per envelope: the good ones are applied once each.
		c.fresh()
		cnt, _ := mx.Link.Counts(ctx)
		before := quarantined()
		good1 := c.envelope(nil)
		bad := c.envelope(func(e *link.Envelope) { e.Kind = "liaison.message"; e.Body = []byte(`{"thread_id": 7}`) })
		good2 := c.envelope(nil)
		_, rs := c.send(good1, bad, good2)
		if len(rs) != 3 || rs[0].Status != link.StatusApplied || rs[1].Status != link.StatusRejected || rs[1].Code != link.CodeInvalidContent || rs[2].Status != link.StatusApplied {
			t.Fatalf("receipts %+v", rs)
		}
		for i, e := range []*link.Envelope{good1, good2} {
			if _, err := link.VerifyLogProof(rs[2*i], e, mx.Link.TrustLog().Keys()); err != nil {
				t.Fatalf("receipt %d: %v", 2*i, err)
			}
		}
		cnt2, _ := mx.Link.Counts(ctx)
		if cnt2.Received != cnt.Received+2 || quarantined() != before+1 {
			t.Fatalf("received %d → %d, quarantined %d → %d; want two more and one more", cnt.Received, cnt2.Received, before, quarantined())
		}
	})

	t.Run("a thread made by a refused message is not taken as made", func(t *testing.T) {
		// The node remembers threads that exist, so that messages to
		// them read nothing; a thread whose first message is refused
		// (its insert undone with the handler's savepoint) must not be
		// remembered, or the next message to it would miss its thread.
		c.fresh()
		thread := strings.TrimPrefix(c.stream, "liaison:")
		message := func(authorAgency string) *link.Envelope {
			return c.envelope(func(e *link.Envelope) {
				e.Kind = "liaison.message"
				e.Body, _ = json.Marshal(map[string]any{"thread_id": thread, "subject": "Hilo", "priority": "routine",
					"from_agency": "FinCEN", "to_agency": "UIF", "message_id": link.NewID(), "author": "Alex",
					"author_agency": authorAgency, "body": "texto", "created": time.Now().UTC()})
			})
		}
		messages := func() (n int) {
			if err := mx.DB.Read().QueryRow(ctx, `SELECT COUNT(*) FROM messages WHERE thread_id = ?`, thread).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		_, rs := c.send(message("SAT"))
		if len(rs) != 1 || rs[0].Status != link.StatusRejected {
			t.Fatalf("a message by an agency of the wrong side got %+v", rs)
		}
		var n int
		if err := mx.DB.Read().QueryRow(ctx, `SELECT COUNT(*) FROM threads WHERE id = ?`, thread).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the refused message's thread: %d rows, %v; want none", n, err)
		}
		// Then two good messages, in two batches: the first makes the
		// thread, the second finds it known.
		for i := 1; i <= 2; i++ {
			if _, rs := c.send(message("FinCEN")); len(rs) != 1 || rs[0].Status != link.StatusApplied {
				t.Fatalf("good message %d got %+v", i, rs)
			}
			if got := messages(); got != i {
				t.Fatalf("after good message %d the thread has %d messages", i, got)
			}
		}
	})

	t.Run("out of order is deferred, then applied", func(t *testing.T) {
		c.fresh()
		first := c.envelope(nil)
		second := c.envelope(nil)
		_, rs := c.send(second)
		if rs[0].Status != link.StatusDeferred {
			t.Fatalf("a gap gave %s, want deferred", rs[0].Status)
		}
		_, rs = c.send(first, second)
		if rs[0].Status != link.StatusApplied || rs[1].Status != link.StatusApplied {
			t.Fatalf("in order gave %s, %s", rs[0].Status, rs[1].Status)
		}
	})

	t.Run("unpinned certificate is refused", func(t *testing.T) {
		stranger, err := identity.Generate(t.TempDir(), "US", nil)
		if err != nil {
			t.Fatal(err)
		}
		cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{stranger.TLS}, InsecureSkipVerify: true}}}
		resp, err := cl.Get(c.url + link.PathHello)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("a stranger's certificate got %s", resp.Status)
		}
	})
}

// TestBlobReferencesStayOnTheirStream: the partner may name only a file
// that crossed on the same stream. Naming one of our other files (here an
// MX user's attachment to another thread) gets exactly the refusal that
// naming a file nobody has gets, so the partner learns nothing of ours.
func TestBlobReferencesStayOnTheirStream(t *testing.T) {
	p := testenv.StartPair(t)
	c := newPartnerClient(t, p)
	ctx := context.Background()
	mx := p.Nodes["MX"]
	users, _ := mx.Auth.List(ctx)
	ours := []byte("a file MX sent the US on another thread")
	if _, err := liaison.Of(mx).Start(ctx, users[0], liaison.NewThread{Subject: "Con anexo", Priority: "routine", ToAgency: "FinCEN", Body: "ver anexo",
		Attachments: []liaison.NewAttachment{{Name: "nuestro.txt", Data: ours}}}); err != nil {
		t.Fatal(err)
	}
	message := func(sha string, size int) *link.Envelope {
		c.fresh()
		thread := strings.TrimPrefix(c.stream, "liaison:")
		body, _ := json.Marshal(map[string]any{"thread_id": thread, "subject": "x", "priority": "routine", "from_agency": "FinCEN", "to_agency": "UIF",
			"message_id": link.NewID(), "author": "A", "author_agency": "FinCEN", "body": "b", "created": time.Now().UTC(),
			"attachments": []map[string]any{{"sha256": sha, "name": "f.txt", "content_type": "text/plain", "size": size}}})
		return c.envelope(func(e *link.Envelope) { e.Kind, e.Body = "liaison.message", body })
	}
	reason := func(e *link.Envelope) string {
		st, rs := c.send(e)
		if st != http.StatusOK || len(rs) != 1 || rs[0].Status != link.StatusRejected {
			t.Fatalf("status %d, receipts %+v", st, rs)
		}
		return rs[0].Reason
	}
	sum := sha256.Sum256(ours)
	held := hex.EncodeToString(sum[:])
	unknown := strings.Repeat("ab", 32)
	r1 := reason(message(held, len(ours)))
	r2 := reason(message(unknown, len(ours)))
	norm := func(r string) string {
		r = strings.NewReplacer(held, "SHA", unknown, "SHA").Replace(r)
		return regexp.MustCompile(`liaison:[A-Z0-9]+`).ReplaceAllString(r, "STREAM")
	}
	if norm(r1) != norm(r2) {
		t.Errorf("a file we hold and one nobody has are refused differently:\n%s\n%s", r1, r2)
	}

	// A file the partner sent on the stream itself is accepted.
	c.fresh()
	thread := strings.TrimPrefix(c.stream, "liaison:")
	file := []byte("the partner's own file")
	fs := sha256.Sum256(file)
	st, rs := c.send(c.envelope(func(e *link.Envelope) { e.Body = file }))
	if st != http.StatusOK || rs[0].Status != link.StatusApplied {
		t.Fatalf("the partner's file: %d %+v", st, rs)
	}
	body, _ := json.Marshal(map[string]any{"thread_id": thread, "subject": "x", "priority": "routine", "from_agency": "FinCEN", "to_agency": "UIF",
		"message_id": link.NewID(), "author": "A", "author_agency": "FinCEN", "body": "b", "created": time.Now().UTC(),
		"attachments": []map[string]any{{"sha256": hex.EncodeToString(fs[:]), "name": "f.txt", "content_type": "text/plain", "size": len(file)}}})
	st, rs = c.send(c.envelope(func(e *link.Envelope) { e.Kind, e.Body = "liaison.message", body }))
	if st != http.StatusOK || rs[0].Status != link.StatusApplied {
		t.Fatalf("a message naming the file that came on its stream: %d %+v", st, rs)
	}
}
