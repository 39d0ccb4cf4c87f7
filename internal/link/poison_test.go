package link_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"puente/internal/area"
	"puente/internal/demo"
	"puente/internal/link"
	"puente/internal/node"
	"puente/internal/store"
	"puente/internal/testenv"
)

// poisonArea stores its envelopes' text as it comes: a handler that, like
// a future area's, trusts a value the store cannot hold.
type poisonArea struct{}

func (poisonArea) Name() string { return "poisontest" }

func (poisonArea) Kinds() []area.Kind {
	return []area.Kind{{Kind: "poisontest.note", Version: 1, Handler: link.HandlerFunc(func(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
		var b struct {
			Text string `json:"text"`
		}
		if err := link.DecodeBody(env, &b); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO link_state (name, value) VALUES (?, ?)`, "poisontest:"+env.ID, b.Text)
		return err
	})}}
}

// TestNULPoisonDoesNotStopTheLink: on a node on PostgreSQL, which refuses
// NUL in text, an envelope carrying one (a liaison message, a disclosure,
// or a kind whose handler trusts its text) is refused with a signed
// rejection and kept in quarantine, and the next envelope of its stream
// is applied: one message can no longer halt a direction of the link.
// Our own API refuses such text with a field error before it is sent.
func TestNULPoisonDoesNotStopTheLink(t *testing.T) {
	server := os.Getenv(testenv.PostgresVar)
	if server == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL run", testenv.PostgresVar)
	}
	saved := node.Areas
	node.Areas = append(slices.Clone(node.Areas), func(area.Deps) (area.Area, error) { return poisonArea{}, nil })
	t.Cleanup(func() { node.Areas = saved })
	testenv.FastPasswords(t)
	p, err := demo.StartPair(context.Background(), t.TempDir(), server, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("%s is set but a pair on PostgreSQL does not start: %v", testenv.PostgresVar, err)
	}
	t.Cleanup(p.Close)
	c := newPartnerClient(t, p)
	ctx := context.Background()
	quarantined := func() int {
		n, err := p.Nodes["MX"].Link.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n.Quarantined
	}
	message := func(thread, body string) []byte {
		b, _ := json.Marshal(map[string]any{"thread_id": thread, "subject": "Envío", "priority": "routine", "from_agency": "FinCEN", "to_agency": "UIF",
			"message_id": link.NewID(), "author": "Alex", "author_agency": "FinCEN", "body": body, "created": time.Now().UTC()})
		return b
	}
	// A disclosure as FinCEN's node would release it to the UIF.
	disclosure := func(id, narrative string) []byte {
		content := []byte(`{"subjects":[{"ref":"S1","type":"company","name":"Desert Freight LLC","country":"US"}]}`)
		sum := sha256.Sum256(content)
		b, _ := json.Marshal(map[string]any{"id": id, "from_agency": "FinCEN", "to_agency": "UIF", "title": "Envío", "criminal_group": "",
			"narrative": narrative, "created_by": "Alex", "released_by": "Sam", "released_at": time.Now().UTC(),
			"content": json.RawMessage(content), "content_sha256": hex.EncodeToString(sum[:])})
		return b
	}
	for _, tc := range []struct {
		name, kind        string
		poisoned, healthy []byte
		reason            string
	}{
		{"liaison message", "liaison.message", nil, nil, "body"},
		{"a handler that trusts its text", "poisontest.note", []byte(`{"text":"a\u0000b"}`), []byte(`{"text":"ab"}`), "cannot store"},
		{"disclosure", "finintel.disclosure", nil, nil, "narrative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.fresh()
			if tc.kind == "liaison.message" {
				thread := strings.TrimPrefix(c.stream, "liaison:")
				tc.poisoned, tc.healthy = message(thread, "a\u0000b"), message(thread, "ab")
			} else if tc.kind == "finintel.disclosure" {
				id := link.NewID()
				c.stream = "finintel:d:" + id
				tc.poisoned, tc.healthy = disclosure(id, "a\u0000b"), disclosure(id, "Estructuración de efectivo.")
			} else {
				c.stream = "poisontest:" + link.NewID()
			}
			before := quarantined()
			cav := []byte(`{}`)
			if tc.kind == "finintel.disclosure" {
				cav = []byte(`{"classification":"RESTRICTED","purpose":"intelligence-only","retention_days":365,"third_party_rule":true}`)
			}
			st, rs := c.send(c.envelope(func(e *link.Envelope) { e.Kind, e.Body, e.Caveats = tc.kind, tc.poisoned, cav }))
			if st != http.StatusOK || len(rs) != 1 || rs[0].Status != link.StatusRejected || rs[0].Code != link.CodeInvalidContent {
				t.Fatalf("the poisoned envelope: status %d, receipts %+v", st, rs)
			}
			if !strings.Contains(rs[0].Reason, tc.reason) {
				t.Errorf("rejected for %q, want a reason naming %q", rs[0].Reason, tc.reason)
			}
			if quarantined() != before+1 {
				t.Error("the poisoned envelope was not kept in quarantine")
			}
			st, rs = c.send(c.envelope(func(e *link.Envelope) { e.Kind, e.Body, e.Caveats = tc.kind, tc.healthy, cav }))
			if st != http.StatusOK || len(rs) != 1 || rs[0].Status != link.StatusApplied {
				t.Fatalf("the next envelope of the stream: status %d, receipts %+v", st, rs)
			}
		})
	}

	// Our own API refuses the text with a field error.
	for _, c := range []struct{ path, body string }{
		{"/api/v1/threads", `{"subject":"x","to_agency":"FinCEN","body":"a\u0000b"}`},
		{"/api/v1/finintel/rfis", `{"title":"x\u0000","questions":"q","urgency":"routine"}`},
	} {
		req, _ := http.NewRequest("POST", p.URL("MX")+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+p.Tokens["MX"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct{ Code, Field, Reason string }
		}
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity || e.Error.Reason != "invalid_text" {
			t.Errorf("POST %s with NUL: %d %+v", c.path, resp.StatusCode, e.Error)
		}
	}
}
