package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
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
	var areas []string
	for _, tb := range doc.Tables {
		areas = append(areas, tb.Area)
	}
	for _, want := range []string{"finintel", "seizures", "traces", "extradition", "training"} {
		if !slices.Contains(areas, want) {
			t.Fatalf("the scorecard has no %s table: %v", want, areas)
		}
	}
	if !bytes.Contains(mx, []byte(`"trend": [`)) || !bytes.Contains(mx, []byte(`"recip.recalls_honoured"`)) {
		t.Fatalf("the scorecard has no trends or no recalls: %s", mx)
	}

	// The auditor's export names, for each figure, the log entries
	// behind it, under a checkpoint the node signed; others may not.
	var ev struct {
		Checkpoint string `json:"checkpoint"`
		Figures    []struct {
			Area, Label string
			Kinds       []string
		} `json:"figures"`
		Entries map[string][]struct {
			Index int64  `json:"index"`
			Kind  string `json:"kind"`
			Text  string `json:"text"`
		} `json:"entries"`
	}
	if st, _ := clients["MX"].do("GET", "/api/v1/reciprocity/evidence", nil, &ev); st != http.StatusOK {
		t.Fatalf("evidence: %d", st)
	}
	if !strings.Contains(ev.Checkpoint, "MX") || len(ev.Figures) < 20 {
		t.Fatalf("evidence without a checkpoint or figures: %q, %d figures", ev.Checkpoint, len(ev.Figures))
	}
	for _, fg := range ev.Figures {
		if fg.Area == "training" && fg.Label == "trn.recip.certificates" {
			got := ev.Entries[fg.Kinds[0]]
			if len(got) == 0 || got[0].Kind != "training.certificate.issued" || !strings.Contains(got[0].Text, "certificate:") {
				t.Fatalf("the certificates' evidence: %+v", got)
			}
		}
	}
	analyst := userClient(t, p, "MX", "analyst-test", auth.Analyst, "UIF")
	if st, _ := analyst.do("GET", "/api/v1/reciprocity/evidence", nil, nil); st != http.StatusForbidden {
		t.Fatalf("an analyst exported the evidence: %d", st)
	}
}
