package web_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"puente/internal/testenv"
)

// TestReadinessWithoutReplicas: a node on SQLite is one process, so it
// always leads: /readyz and /readyz/leader both answer 200 while its store
// answers, say how the link stands, and are never cached. (With replicas,
// e2e's TestStaleLeaderIsFenced checks the leader's and the followers'
// answers, and that a partner's outage leaves every replica ready.)
func TestReadinessWithoutReplicas(t *testing.T) {
	p := testenv.StartPair(t)
	for _, path := range []string{"/readyz", "/readyz/leader"} {
		resp, err := http.Get(p.URL("MX") + path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || body["store"] != "ok" || body["link"] == nil {
			t.Errorf("%s: %d %v (%v), want 200 with the store and the link", path, resp.StatusCode, body, err)
		}
		if _, ok := body["replica"]; ok {
			t.Errorf("%s speaks of replicas on SQLite: %v", path, body)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, cc)
		}
	}
}
