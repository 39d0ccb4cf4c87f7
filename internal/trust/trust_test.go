package trust_test

import (
	"puente/internal/node"

	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"puente/internal/auth"
	"puente/internal/demo"
	"puente/internal/identity"
	"puente/internal/liaison"
	"puente/internal/link"
	"puente/internal/store"
	"puente/internal/testenv"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

func user(t *testing.T, p *demo.Pair, party, username string) *auth.User {
	t.Helper()
	us, err := p.Nodes[party].Auth.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Username == username {
			return u
		}
	}
	t.Fatalf("no user %s on %s", username, party)
	return nil
}

func send(t *testing.T, p *demo.Pair, subject string) *liaison.Thread {
	t.Helper()
	th, err := liaison.Of(p.Nodes["MX"]).Start(context.Background(), user(t, p, "MX", "analista"),
		liaison.NewThread{Subject: subject, Priority: "routine", ToAgency: "FinCEN", Body: "cuerpo " + subject})
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func delivered(t *testing.T, p *demo.Pair) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, "MX's outbox emptying", func() bool {
		n, err := p.Nodes["MX"].Link.Pending(context.Background())
		return err == nil && n == 0
	})
}

func partyKeys(t *testing.T, p *demo.Pair, code string) *trustlog.Keys {
	t.Helper()
	party, _ := p.Nodes["MX"].Agreement.Party(code)
	pub, err := identity.ParsePublicKey(party.SigningKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := trustlog.PartyKeys(code, pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type outRow struct {
	env *link.Envelope
	rc  *link.Receipt
}

func outbox(t *testing.T, p *demo.Pair) []outRow {
	t.Helper()
	rows, err := p.Nodes["MX"].DB.Read().Query(context.Background(), `SELECT raw, receipt FROM outbox WHERE state = 'delivered' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outRow
	for rows.Next() {
		var raw, rb []byte
		if err := rows.Scan(&raw, &rb); err != nil {
			t.Fatal(err)
		}
		var r outRow
		if err := json.Unmarshal(raw, &r.env); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(rb, &r.rc); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestReceiptsWitnessingAndAccessReports follows the log through a normal
// exchange: every receipt proves inclusion (checked here with tlog
// directly), checkpoints get cosigned by the partner, and a read on the
// partner's side comes back to the originator as an access report.
func TestReceiptsWitnessingAndAccessReports(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	usKeys := partyKeys(t, p, "US")
	th := send(t, p, "uno")
	send(t, p, "dos")
	delivered(t, p)

	rows := outbox(t, p)
	if len(rows) < 2 {
		t.Fatalf("%d delivered envelopes, want at least 2", len(rows))
	}
	for _, r := range rows {
		if r.rc.Log == nil {
			t.Fatalf("receipt for %s has no log proof", r.env.ID)
		}
		cp, err := trustlog.OpenCheckpoint(r.rc.Log.Checkpoint, usKeys)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(r.rc.Log.Proof, cp.Size, cp.Root, r.rc.Log.Index, tlog.RecordHash(r.rc.Log.Entry)); err != nil {
			t.Fatalf("receipt for %s: %v", r.env.ID, err)
		}
		// The entry sits in the US log at that index, byte for byte.
		var data []byte
		if err := us.DB.Read().QueryRow(ctx, `SELECT data FROM log_entries WHERE idx = ?`, r.rc.Log.Index).Scan(&data); err != nil || string(data) != string(r.rc.Log.Entry) {
			t.Fatalf("US log entry %d is %q, %v; the receipt says %q", r.rc.Log.Index, data, err, r.rc.Log.Entry)
		}
	}

	// Witnessing: MX checkpoints, US cosigns; twice, so the second needs a
	// consistency proof.
	witness := func() *trustlog.Stored {
		t.Helper()
		if _, err := mx.Trust.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		if err := mx.Trust.Witness(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := trustlog.LatestCosigned(ctx, mx.DB.Read())
		if err != nil || c == nil {
			t.Fatalf("no cosigned checkpoint: %v", err)
		}
		return c
	}
	first := witness()
	if !trustlog.Cosigned(first.Cosigned, usKeys) {
		t.Fatal("the stored checkpoint does not carry a valid US cosignature")
	}
	send(t, p, "tres")
	delivered(t, p)
	second := witness()
	if second.Size <= first.Size {
		t.Fatalf("the log did not grow: %d then %d", first.Size, second.Size)
	}
	w, err := trustlog.LatestWitnessed(ctx, us.DB.Read())
	if err != nil || w == nil || w.Size < second.Size {
		t.Fatalf("US witnessed %+v, %v; want size %d", w, err, second.Size)
	}
	proof, err := mx.TrustLog.ProveTree(ctx, mx.DB.Read(), second.Size, first.Size)
	if err != nil {
		t.Fatal(err)
	}
	var r1, r2 tlog.Hash
	copy(r1[:], first.Root)
	copy(r2[:], second.Root)
	if err := tlog.CheckTree(proof, second.Size, r2, first.Size, r1); err != nil {
		t.Fatalf("consistency %d → %d: %v", first.Size, second.Size, err)
	}

	// A FinCEN analyst opens the thread twice: one read is logged on the US
	// and reported to MX.
	reader := user(t, p, "US", "analyst")
	for range 2 {
		if _, err := liaison.Of(us).Get(ctx, reader, th.ID); err != nil {
			t.Fatal(err)
		}
	}
	reads, err := trustlog.Rows(ctx, us.DB.Read(), trustlog.Filter{Kind: trustlog.KindDataRead})
	if err != nil || len(reads) != 1 || reads[0].Actor != "user:analyst@FinCEN" {
		t.Fatalf("US logged reads %+v, %v; want one by analyst@FinCEN", reads, err)
	}
	var reports []trust.Report
	testenv.Eventually(t, 10*time.Second, "the access report reaching MX", func() bool {
		reports, err = trust.Reports(ctx, mx.DB.Read(), nil, 10)
		return err == nil && len(reports) > 0
	})
	if len(reports) != 1 || reports[0].Actor != "analyst" || reports[0].Agency != "FinCEN" || reports[0].Action != trustlog.KindDataRead || reports[0].LogIndex != reads[0].Index {
		t.Fatalf("MX got reports %+v", reports)
	}

	// User changes are logged with their actor.
	created, err := trustlog.Rows(ctx, mx.DB.Read(), trustlog.Filter{Kind: trustlog.KindUserCreated, Object: "user:analista"})
	if err != nil || len(created) != 1 {
		t.Fatalf("user.created entries for analista: %+v, %v", created, err)
	}
}

// TestReceiptWithWrongProofIsNotDelivery tampers with a real receipt in
// every part of its log proof: the check the delivery worker runs before
// it marks an envelope delivered must refuse each one.
func TestReceiptWithWrongProofIsNotDelivery(t *testing.T) {
	p := testenv.StartPair(t)
	send(t, p, "prueba")
	delivered(t, p)
	r := outbox(t, p)[0]
	mx := p.Nodes["MX"].Link
	if err := mx.CheckReceipt(r.rc, r.env); err != nil {
		t.Fatalf("the genuine receipt: %v", err)
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name string
		mod  func(rc *link.Receipt)
	}{
		{"no proof", func(rc *link.Receipt) { rc.Log = nil }},
		{"flipped proof hash", func(rc *link.Receipt) {
			if len(rc.Log.Proof) == 0 {
				rc.Log.Proof = tlog.RecordProof{{}}
				return
			}
			rc.Log.Proof[0][0] ^= 1
		}},
		{"extra proof hash", func(rc *link.Receipt) { rc.Log.Proof = append(rc.Log.Proof, tlog.Hash{}) }},
		{"wrong index", func(rc *link.Receipt) { rc.Log.Index ^= 1 }},
		{"index past the checkpoint", func(rc *link.Receipt) { rc.Log.Index = 1 << 40 }},
		{"entry for another envelope", func(rc *link.Receipt) {
			e, _ := trustlog.ParseEntry(rc.Log.Entry)
			e.Object = "envelope:" + link.NewID()
			rc.Log.Entry = e.Encode()
		}},
		{"entry says rejected", func(rc *link.Receipt) {
			e, _ := trustlog.ParseEntry(rc.Log.Entry)
			e.Kind = trustlog.KindEnvelopeRejected
			rc.Log.Entry = e.Encode()
		}},
		{"checkpoint signed by another key", func(rc *link.Receipt) {
			cp, _ := trustlog.OpenCheckpoint(rc.Log.Checkpoint, partyKeys(t, p, "US"))
			db, _ := store.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), store.Options{})
			defer db.Close()
			forger, _ := trustlog.New(db, "US", otherKey)
			f, _ := forger.Sign(cp.Size, cp.Root)
			rc.Log.Checkpoint = f.Note
		}},
		{"checkpoint that is no signed note", func(rc *link.Receipt) {
			rc.Log.Checkpoint = []byte("garbage")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, _ := json.Marshal(r.rc)
			var rc link.Receipt
			_ = json.Unmarshal(raw, &rc)
			c.mod(&rc)
			err := mx.CheckReceipt(&rc, r.env)
			if !errors.Is(err, link.ErrNotLogged) {
				t.Fatalf("CheckReceipt = %v, want ErrNotLogged", err)
			}
		})
	}
}

// TestForkAndRollbackRaiseAlarms presents the US witness with checkpoints
// of a forked MX log, signed with MX's real key: one of the same size as a
// witnessed one but another root, one that does not extend it, and a
// smaller one. Each is refused with an alarm on the US, reported to MX.
func TestForkAndRollbackRaiseAlarms(t *testing.T) {
	// The nodes' own trust loops stay quiet (an hour between checkpoints):
	// a checkpoint MX made and the US witnessed during the test would move
	// the size the forged ones are judged against (CI once counted two
	// rollbacks).
	p := testenv.StartPair(t, func(_ string, c *node.Config) { c.CheckpointInterval.Duration = time.Hour })
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	send(t, p, "antes")
	delivered(t, p)
	if _, err := mx.Trust.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mx.Trust.Witness(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := trustlog.LatestWitnessed(ctx, us.DB.Read())
	if err != nil || w == nil {
		t.Fatalf("US witnessed nothing: %v", err)
	}

	// A forked MX log: same key, different history.
	id, err := identity.Load(filepath.Join(p.Dir, "MX"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "fork.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fork, err := trustlog.New(db, "MX", id.Signing)
	if err != nil {
		t.Fatal(err)
	}
	grow := func(n int64) {
		err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			size, _ := trustlog.Size(ctx, tx)
			for i := size; i < n; i++ {
				if _, err := fork.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: "rewritten", Actor: "node:MX", Object: fmt.Sprint("x:", i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	present := func(size, old int64, proof tlog.TreeProof) string {
		t.Helper()
		grow(size)
		root, err := fork.TreeHash(ctx, db.Read(), size)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := fork.Sign(size, root)
		if err != nil {
			t.Fatal(err)
		}
		err = mx.Link.Call(ctx, trust.PathWitness, map[string]any{"checkpoint": cp.Note, "old_size": old, "proof": proof}, &struct{}{})
		var ce *link.CallError
		if !errors.As(err, &ce) || ce.Status != http.StatusUnprocessableEntity {
			t.Fatalf("the witness answered %v, want 422", err)
		}
		var ref struct{ Error string }
		_ = json.Unmarshal(ce.Body, &ref)
		return ref.Error
	}
	if got := present(w.Size, w.Size, nil); got != trustlog.AlarmFork {
		t.Errorf("same size, other root: %s, want fork", got)
	}
	bigger := w.Size + 5
	grow(bigger)
	proof, err := fork.ProveTree(ctx, db.Read(), bigger, w.Size)
	if err != nil {
		t.Fatal(err)
	}
	if got := present(bigger, w.Size, proof); got != trustlog.AlarmFork {
		t.Errorf("a larger tree that does not extend: %s, want fork", got)
	}
	if got := present(w.Size-1, w.Size, nil); got != trustlog.AlarmRollback {
		t.Errorf("a smaller tree: %s, want rollback", got)
	}

	kinds := func(db *store.DB, origin string) map[string]int {
		out := map[string]int{}
		as, err := trustlog.Alarms(ctx, db.Read(), true, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.Origin == origin {
				out[a.Kind]++
			}
		}
		return out
	}
	usAlarms := kinds(us.DB, "self")
	if usAlarms[trustlog.AlarmFork] != 2 || usAlarms[trustlog.AlarmRollback] != 1 {
		t.Fatalf("US alarms %v, want 2 forks and 1 rollback", usAlarms)
	}
	testenv.Eventually(t, 10*time.Second, "MX hearing of the alarms", func() bool {
		a := kinds(mx.DB, "US")
		return a[trustlog.AlarmFork] == 2 && a[trustlog.AlarmRollback] == 1
	})
	// The evidence is kept: both checkpoints, verbatim.
	as, _ := trustlog.Alarms(ctx, us.DB.Read(), true, 10)
	var ev struct{ Witnessed, Presented []byte }
	if err := json.Unmarshal(as[len(as)-1].Evidence, &ev); err != nil || len(ev.Witnessed) == 0 || len(ev.Presented) == 0 {
		t.Fatalf("evidence %s: %v", as[len(as)-1].Evidence, err)
	}
}

// TestStalledPartnerLogRaisesAlarm makes envelopes "from the US" keep
// arriving at MX, signed with the US key and sent over the US certificate,
// while the US log does not grow (the real US node never sent them): after
// stall_after, MX raises a stalled alarm and the US hears of it.
func TestStalledPartnerLogRaisesAlarm(t *testing.T) {
	p := testenv.StartPair(t, func(_ string, c *node.Config) {
		c.StallAfter.Duration, c.CheckpointInterval.Duration = 3*time.Second, 100*time.Millisecond
	})
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	usID, err := identity.Load(filepath.Join(p.Dir, "US"))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{usID.TLS}, InsecureSkipVerify: true}}}
	stream := "liaison:" + link.NewID()
	deadline := time.Now().Add(20 * time.Second)
	for seq := int64(1); ; seq++ {
		e := &link.Envelope{ID: link.NewID(), Kind: "liaison.attachment", Version: 1, Stream: stream, Seq: seq, From: "US", To: "MX",
			Created: time.Now().UTC().Format(time.RFC3339Nano), Agreement: mx.Agreement.HashHex(), Caveats: []byte(`{}`), Body: []byte(fmt.Sprint("file ", seq))}
		e.Sign(usID.Signing)
		raw, _ := json.Marshal(e)
		body, _ := json.Marshal(map[string]any{"envelopes": []json.RawMessage{raw}})
		req, _ := http.NewRequest(http.MethodPost, "https://"+mx.FederationAddr()+link.PathEnvelopes, bytes.NewReader(body))
		req.Header.Set(link.HeaderAgreement, mx.Agreement.HashHex())
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		as, err := trustlog.Alarms(ctx, mx.DB.Read(), true, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) > 0 {
			for _, a := range as {
				if a.Kind != trustlog.AlarmStalled || a.Origin != "self" {
					t.Fatalf("MX has alarm %s from %s (%s), want only its own stalled alarm", a.Kind, a.Origin, a.Detail)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("MX never raised a stalled alarm")
		}
		time.Sleep(200 * time.Millisecond)
	}
	testenv.Eventually(t, 10*time.Second, "the US hearing of the stall", func() bool {
		as, _ := trustlog.Alarms(ctx, us.DB.Read(), true, 10)
		return len(as) > 0 && as[0].Kind == trustlog.AlarmStalled && as[0].Origin == "MX"
	})
	// The genuine traffic (the alarm envelope itself) raised nothing on the US.
	as, _ := trustlog.Alarms(ctx, us.DB.Read(), true, 10)
	if len(as) != 1 {
		t.Fatalf("the US has %d alarms, want only the one MX reported: %+v", len(as), as)
	}
}

// TestAccessReportsMustBeProven takes a real access report from the US
// outbox and tampers with it: the originator accepts it only while every
// entry is proven in a checkpoint signed by the US log key.
func TestAccessReportsMustBeProven(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	th := send(t, p, "informe")
	delivered(t, p)
	us := p.Nodes["US"]
	if _, err := liaison.Of(us).Get(ctx, user(t, p, "US", "analyst"), th.ID); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := us.DB.Read().QueryRow(ctx, `SELECT raw FROM outbox WHERE kind = ?`, trust.KindAccess).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var env link.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	usKeys := partyKeys(t, p, "US")
	if err := trust.VerifyAccessReport(env.Body, usKeys); err != nil {
		t.Fatalf("the genuine report: %v", err)
	}
	mod := func(f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(env.Body, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	item := func(m map[string]any) map[string]any { return m["items"].([]any)[0].(map[string]any) }
	cases := map[string][]byte{
		"another entry": mod(func(m map[string]any) {
			e, _ := trustlog.ParseEntry(mustB64(item(m)["entry"].(string)))
			e.Actor = "user:someone-else@FinCEN"
			item(m)["entry"] = e.Encode()
		}),
		"another index":   mod(func(m map[string]any) { item(m)["index"] = item(m)["index"].(float64) + 1 }),
		"no proof":        mod(func(m map[string]any) { item(m)["proof"] = []string{} }),
		"no checkpoint":   mod(func(m map[string]any) { delete(m, "checkpoint") }),
		"MX's checkpoint": mod(func(m map[string]any) { m["checkpoint"] = mxCheckpoint(t, p) }),
	}
	for name, body := range cases {
		if err := trust.VerifyAccessReport(body, usKeys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func mustB64(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

func mxCheckpoint(t *testing.T, p *demo.Pair) []byte {
	cp, err := p.Nodes["MX"].TrustLog.SignAt(context.Background(), p.Nodes["MX"].DB.Read())
	if err != nil {
		t.Fatal(err)
	}
	return cp.Note
}
