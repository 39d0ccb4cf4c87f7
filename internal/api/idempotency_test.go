package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"puente/internal/testenv"
)

// TestIdempotentCreates: a thread created with an Idempotency-Key whose
// reply was lost (the test hangs up before reading it) is answered again,
// not created again, when the same request is retried: one thread on the
// node and one envelope for the partner. The same key with another body
// is a conflict.
func TestIdempotentCreates(t *testing.T) {
	p := testenv.StartPair(t)
	mx := p.Nodes["MX"]
	ctx := context.Background()
	body := `{"subject":"Una sola vez","to_agency":"FinCEN","body":"enviado una vez"}`

	// The first request, whose reply is dropped.
	conn, err := net.Dial("tcp", mx.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/v1/threads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nIdempotency-Key: k-1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		p.Tokens["MX"], len(body), body)
	defer conn.Close() // never read: the reply is lost on the way

	count := func(q string) int {
		var n int
		if err := mx.DB.Read().QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	threads := `SELECT COUNT(*) FROM threads WHERE subject = 'Una sola vez'`
	testenv.Eventually(t, 10*time.Second, "the first request to be handled", func() bool { return count(threads) == 1 })
	testenv.Eventually(t, 10*time.Second, "its answer to be kept", func() bool {
		return count(`SELECT COUNT(*) FROM idempotency WHERE idem_key = 'k-1' AND status = 201`) == 1
	})

	post := func(key, b string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("POST", p.URL("MX")+"/api/v1/threads", strings.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+p.Tokens["MX"])
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp, out
	}
	resp, th := post("k-1", body)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Idempotent-Replayed") != "true" || th["subject"] != "Una sola vez" {
		t.Fatalf("the retry: %d %v", resp.StatusCode, th)
	}
	if n := count(threads); n != 1 {
		t.Fatalf("%d threads after the retry, want 1", n)
	}
	if n := count(`SELECT COUNT(*) FROM outbox WHERE stream = 'liaison:` + th["id"].(string) + `'`); n != 1 {
		t.Fatalf("%d envelopes for the thread, want 1", n)
	}
	resp, e := post("k-1", strings.Replace(body, "una vez", "dos veces", 1))
	if resp.StatusCode != http.StatusConflict || !bytes.Contains([]byte(fmt.Sprint(e)), []byte("idempotency_key_reused")) {
		t.Fatalf("the same key with another body: %d %v", resp.StatusCode, e)
	}
	// A refused request keeps no key: fixed, it may be sent again.
	if resp, _ := post("k-2", `{"subject":"","to_agency":"FinCEN","body":"x"}`); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an invalid request: %d", resp.StatusCode)
	}
	if resp, _ := post("k-2", `{"subject":"Corregido","to_agency":"FinCEN","body":"x"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the corrected request under the same key: %d", resp.StatusCode)
	}
}
