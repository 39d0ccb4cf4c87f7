package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/demo"
	"puente/internal/fault"
	"puente/internal/testenv"
)

// TestReciprocityEqualOnBothNodes plays the demo's traffic in every area
// between two nodes, then asks each node's auditor for the reciprocity
// figures: the two JSON documents are the same, byte for byte.
func TestReciprocityEqualOnBothNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the whole demo")
	}
	p := testenv.StartPair(t)
	ctx := context.Background()
	for party, users := range demo.Users {
		for _, du := range users {
			if _, err := p.Nodes[party].Auth.Create(ctx, auth.NewUser{Username: du.Username, DisplayName: du.Name, Role: du.Role, Agency: du.Agency, Password: demo.Password}); err != nil && !errors.Is(err, fault.ErrConflict) {
				t.Fatal(err)
			}
		}
	}
	if err := demo.SeedAreas(ctx, p.Nodes["MX"], p.Nodes["US"]); err != nil {
		t.Fatal(err)
	}
	clients := map[string]*client{"MX": userClient(t, p, "MX", "auditor-test", auth.Auditor, "SRE"), "US": userClient(t, p, "US", "auditor-test", auth.Auditor, "STATE")}
	fetch := func(party string) []byte {
		c := clients[party]
		req, _ := http.NewRequest("GET", c.base+"/api/v1/reciprocity", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", party, resp.StatusCode, b)
		}
		return b
	}
	var mx, us []byte
	deadline := time.Now().Add(time.Minute)
	for {
		mx, us = fetch("MX"), fetch("US")
		if bytes.Equal(mx, us) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the figures differ:\nMX %s\nUS %s", mx, us)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var doc struct {
		Tables []struct {
			Area string `json:"area"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(mx, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Tables) < 5 {
		t.Fatalf("only %d areas in the figures: %s", len(doc.Tables), mx)
	}
}
