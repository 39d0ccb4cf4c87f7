package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"puente/internal/demo"
	"puente/internal/store"
	"puente/internal/testenv"
)

// syncBuffer is a log sink the nodes write to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestCorruptCaveatsFailLoudly: a thread or disclosure whose stored
// caveats are corrupt is never shown as if it had no restrictions; the
// read fails, the client learns only that it failed, and the node logs why.
func TestCorruptCaveatsFailLoudly(t *testing.T) {
	testenv.FastPasswords(t)
	var logs syncBuffer
	p, err := demo.StartPair(context.Background(), t.TempDir(), "", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	sides := cast(t, p)
	mx := sides["MX"]

	var th struct {
		ID string `json:"id"`
	}
	if st, e := mx.analyst.do("POST", "/api/v1/threads", map[string]any{"subject": "Caveats", "to_agency": "FinCEN", "body": "cuerpo"}, &th); st != http.StatusCreated {
		t.Fatalf("starting a thread: %d %v", st, e)
	}
	var d struct {
		ID string `json:"id"`
	}
	if st, e := mx.analyst.do("POST", "/api/v1/finintel/disclosures", ringDraft("Caveats", nil), &d); st != http.StatusCreated {
		t.Fatalf("drafting: %d %v", st, e)
	}
	ctx := context.Background()
	for _, c := range []struct{ table, id, path, raw string }{
		{"threads", th.ID, "/api/v1/threads/" + th.ID, `{"classification":`},
		{"disclosures", d.ID, "/api/v1/finintel/disclosures/" + d.ID, `not json`},
		{"threads", th.ID, "/api/v1/threads/" + th.ID, `{}`},
	} {
		err := p.Nodes["MX"].DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE `+c.table+` SET caveats = ? WHERE id = ?`, c.raw, c.id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		st, e := mx.analyst.do("GET", c.path, nil, nil)
		if st != http.StatusInternalServerError || e["code"] != "internal" {
			t.Errorf("%s with caveats %q: %d %v, want 500 internal", c.table, c.raw, st, e)
		}
		if msg, _ := e["message"].(string); strings.Contains(msg, "caveats") {
			t.Errorf("the error's detail reached the client: %q", msg)
		}
		if !strings.Contains(logs.String(), "caveats are corrupt") && !strings.Contains(logs.String(), "caveats have no classification") {
			t.Errorf("%s: the failure was not logged", c.table)
		}
	}
}
