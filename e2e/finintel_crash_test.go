package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"syscall"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/finintel"
	"puente/internal/store"
	"puente/internal/testenv"
)

// TestFinIntelSurvivesKills releases disclosures from MX and asks for
// consent and sends feedback from the US between two real "puente serve"
// processes, kill -9ing each of them along the way. Afterwards every
// released disclosure is on the US exactly once with the content MX
// signed, every consent request and feedback is on MX exactly once, and
// the two nodes show the same figures.
func TestFinIntelSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	testenv.FastPasswords(t)
	bin := buildPuente(t)
	dir, specs := newPair(t)
	ctx := context.Background()
	tokens := map[string]string{}
	for _, u := range []struct {
		party, name string
		role        auth.Role
		agency      string
	}{{"MX", "analista", auth.Analyst, "UIF"}, {"MX", "supervisora", auth.Supervisor, "UIF"}, {"US", "analyst", auth.Analyst, "FinCEN"}} {
		tokens[u.name] = addUser(t, dir, u.party, auth.NewUser{Username: u.name, DisplayName: u.name, Role: u.role, Agency: u.agency, Password: "finintel-crash-password"})
	}
	procs := startProcs(t, bin, dir)
	hc := &http.Client{Timeout: 10 * time.Second}
	base := map[string]string{"MX": "http://" + specs["MX"].HTTPAddr, "US": "http://" + specs["US"].HTTPAddr}
	// call retries while a node is down or restarting; it gives up on a
	// clear answer that is not success.
	call := func(party, token, method, path string, in, out any) int {
		t.Helper()
		for attempt := 0; ; attempt++ {
			var body io.Reader
			if in != nil {
				b, _ := json.Marshal(in)
				body = bytes.NewReader(b)
			}
			req, _ := http.NewRequest(method, base[party]+path, body)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := hc.Do(req)
			if err == nil {
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode < 300 && out != nil {
					if err := json.Unmarshal(raw, out); err != nil {
						t.Fatalf("%s %s: %v", method, path, err)
					}
				}
				if resp.StatusCode < 500 {
					return resp.StatusCode
				}
			}
			if attempt > 600 {
				t.Fatalf("%s %s never answered: %v", method, path, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	draft := func(i int) map[string]any {
		var tx []map[string]any
		for j := 0; j < 200; j++ {
			tx = append(tx, map[string]any{"ref": fmt.Sprintf("T%d", j), "date": "2025-10-01", "amount": fmt.Sprintf("%d.00", 1000+i*j), "currency": "MXN", "from": "A1", "to": "S1", "channel": "wire"})
		}
		return map[string]any{
			"title": fmt.Sprintf("Disclosure %d", i), "narrative": "Synthetic.",
			"subjects":     []map[string]any{{"ref": "S1", "type": "person", "given_names": "Ana", "first_surname": fmt.Sprintf("Soto%d", i)}},
			"accounts":     []map[string]any{{"ref": "A1", "bank": "BBVA", "clabe": "002010077777777771", "holder": "S1"}},
			"transactions": tx,
		}
	}
	const n = 24
	// Before disclosure i: kill a node; the US stays down for three
	// disclosures while MX goes on releasing.
	kills := map[int]string{6: "US", 12: "MX", 18: "US"}
	restarts := map[int]string{9: "US", 21: "US"}
	var released []string
	for i := 0; i < n; i++ {
		if party, ok := restarts[i]; ok {
			procs[party].start()
		}
		if party, ok := kills[i]; ok {
			procs[party].signal(syscall.SIGKILL)
			if party == "MX" {
				time.Sleep(300 * time.Millisecond)
				procs[party].start()
			}
			t.Logf("killed %s before disclosure %d", party, i)
		}
		var d finintel.Disclosure
		if st := call("MX", tokens["analista"], "POST", "/api/v1/finintel/disclosures", draft(i), &d); st != 201 {
			t.Fatalf("draft %d: %d", i, st)
		}
		call("MX", tokens["analista"], "POST", "/api/v1/finintel/disclosures/"+d.ID+"/submit", nil, nil)
		// A release whose answer was lost to a kill is retried: the second
		// attempt finds it released (409), never released twice.
		if st := call("MX", tokens["supervisora"], "POST", "/api/v1/finintel/disclosures/"+d.ID+"/release", nil, nil); st != 200 && st != 409 {
			t.Fatalf("release %d: %d", i, st)
		}
		released = append(released, d.ID)
	}
	// The US asks for consent and sends feedback on every third one, while
	// MX is killed once more.
	for i, id := range released {
		if i%3 != 0 {
			continue
		}
		testenv.Eventually(t, time.Minute, "disclosure "+id+" on the US", func() bool {
			return call("US", tokens["analyst"], "GET", "/api/v1/finintel/disclosures/"+id, nil, nil) == 200
		})
		if i == 9 {
			procs["MX"].signal(syscall.SIGKILL)
			go func(p *proc) { time.Sleep(time.Second); p.start() }(procs["MX"])
			t.Log("killed MX during the consent requests")
		}
		if st := call("US", tokens["analyst"], "POST", "/api/v1/finintel/disclosures/"+id+"/consents", map[string]string{"use": "disseminate", "agency": "DEA", "reason": "case"}, nil); st != 201 {
			t.Fatalf("consent request: %d", st)
		}
		if st := call("US", tokens["analyst"], "POST", "/api/v1/finintel/disclosures/"+id+"/feedback", map[string]any{"kind": "investigation_opened"}, nil); st != 201 {
			t.Fatalf("feedback: %d", st)
		}
	}
	// Everything arrives exactly once, with the content MX signed.
	var fmx, fus finintel.Figures
	testenv.Eventually(t, 2*time.Minute, "both nodes agreeing on the figures", func() bool {
		call("MX", tokens["analista"], "GET", "/api/v1/finintel/figures", nil, &fmx)
		call("US", tokens["analyst"], "GET", "/api/v1/finintel/figures", nil, &fus)
		return reflect.DeepEqual(fmx.Sides, fus.Sides) && fmx.Sides[0].DisclosuresSent == n && fmx.Sides[1].ConsentsRequested == n/3 && fmx.Sides[1].FeedbackSent == n/3
	})
	dbs := map[string]*store.DB{}
	for _, party := range []string{"MX", "US"} {
		procs[party].signal(syscall.SIGTERM)
		db, _ := openNodeStore(t, dir, party)
		defer db.Close()
		dbs[party] = db
	}
	digests := func(db *store.DB) map[string]string {
		rows, err := db.Read().Query(ctx, `SELECT id, content_sha256 FROM disclosures WHERE origin = 'MX' AND released_at > 0`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var id, d string
			if err := rows.Scan(&id, &d); err != nil {
				t.Fatal(err)
			}
			if _, dup := out[id]; dup {
				t.Fatalf("disclosure %s is stored twice", id)
			}
			out[id] = d
		}
		return out
	}
	mx, us := digests(dbs["MX"]), digests(dbs["US"])
	if len(mx) != n || !reflect.DeepEqual(mx, us) {
		t.Fatalf("MX released %d disclosures, the US holds %d, or their digests differ", len(mx), len(us))
	}
	for _, table := range []string{"consents", "feedback"} {
		var a, b int
		dbs["MX"].Read().QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&a)
		dbs["US"].Read().QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&b)
		if a != n/3 || b != n/3 {
			t.Fatalf("%s: MX has %d, the US %d, want %d on each", table, a, b, n/3)
		}
	}
	checkLogs(t, dir, dbs)
}
