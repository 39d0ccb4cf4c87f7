package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"puente/internal/auth"
	"puente/internal/testenv"
)

// TestExtraditionRefusals: what the API refuses in cases and targets,
// each with a clear error and nothing stored: a due date given by hand
// (clocks are computed), a stage of the other side, a nomination without
// an identifying element, a malformed notice, and a role that does not
// see cases at all.
func TestExtraditionRefusals(t *testing.T) {
	p := testenv.StartPair(t)
	doj := userClient(t, p, "US", "doj", auth.Legal, "DOJ-OIA")
	fincen := userClient(t, p, "US", "fincen", auth.Analyst, "FinCEN")
	var cs map[string]any
	if st, body := doj.do("POST", "/api/v1/extradition/cases", map[string]any{"kind": "extradition", "requested": "MX", "person": map[string]any{"name": "Aurelio Bastidas Reyes"}}, &cs); st != http.StatusCreated {
		t.Fatalf("open: %d %v", st, body)
	}
	id := cs["id"].(string)
	for _, c := range []struct {
		name   string
		client *client
		method string
		path   string
		body   any
		status int
		says   string
	}{
		{"a due date by hand", doj, "POST", "/api/v1/extradition/cases/" + id + "/stages", map[string]any{"stage": "provisional_request", "date": "2026-11-01", "due": "2027-01-01"}, http.StatusBadRequest, "unknown field"},
		{"clocks in a new case", doj, "POST", "/api/v1/extradition/cases", map[string]any{"kind": "extradition", "requested": "MX", "person": map[string]any{"name": "X"}, "clocks": []map[string]any{{"term": "formal_request", "due": "2030-01-01T00:00:00Z"}}}, http.StatusCreated, ""},
		{"a stage of the other side", doj, "POST", "/api/v1/extradition/cases/" + id + "/stages", map[string]any{"stage": "arrested", "date": "2026-11-01", "place": "CDMX"}, http.StatusUnprocessableEntity, "other side"},
		{"a target without an identifying element", doj, "POST", "/api/v1/targets", map[string]any{"name": "Fulano"}, http.StatusUnprocessableEntity, "no identifying element"},
		{"a role that does not see cases", fincen, "GET", "/api/v1/extradition/cases", nil, http.StatusForbidden, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out map[string]any
			st, body := c.client.do(c.method, c.path, c.body, &out)
			if st != c.status || (c.says != "" && !strings.Contains(strings.ToLower(fmt.Sprint(body)), c.says)) {
				t.Fatalf("%d %v, want %d saying %q", st, body, c.status, c.says)
			}
			if c.name == "clocks in a new case" {
				// Given clocks are ignored: the case has none until a stage starts one.
				if clocks, ok := out["clocks"]; ok && clocks != nil && len(clocks.([]any)) > 0 {
					t.Fatalf("the clocks given were kept: %v", clocks)
				}
			}
		})
	}
	var got map[string]any
	if st, _ := doj.do("GET", "/api/v1/extradition/cases/"+id, nil, &got); st != http.StatusOK || got["stages"] != nil && len(got["stages"].([]any)) != 0 {
		t.Fatalf("the refused stages changed the case: %v", got["stages"])
	}
}
