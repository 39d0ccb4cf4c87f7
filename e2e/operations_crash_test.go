package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/operations"
	"puente/internal/store"
	"puente/internal/testenv"
)

// TestOperationsSurviveKills runs the whole lifecycle of mirror
// operations between two real "puente serve" processes on SQLite (draft,
// four-eyes release, a counter and its acceptance, acceptances, start,
// status reports, conclusion, both after-action reports), kill -9ing each
// node along the way: every step and report arrives once and in order,
// both nodes end with the same operations and figures, and both logs
// verify.
func TestOperationsSurviveKills(t *testing.T) { operationsSurviveKills(t, nil) }

// TestOperationsSurviveKillsPostgres is the same on PostgreSQL.
func TestOperationsSurviveKillsPostgres(t *testing.T) {
	testenv.PostgresSchema(t)
	operationsSurviveKills(t, func() string { return testenv.PostgresSchema(t) })
}

func operationsSurviveKills(t *testing.T, database func() string) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	testenv.FastPasswords(t)
	bin := buildPuente(t)
	dir, specs := newPairOn(t, database)
	ctx := context.Background()
	tokens := map[string]string{}
	for _, u := range []struct {
		party, name string
		role        auth.Role
		agency      string
	}{{"US", "coord", auth.Coordinator, "CBP"}, {"US", "sup", auth.Supervisor, "CBP"}, {"MX", "gn", auth.Coordinator, "GN"}} {
		tokens[u.name] = addUser(t, dir, u.party, auth.NewUser{Username: u.name, DisplayName: u.name, Role: u.role, Agency: u.agency, Password: "ops-crash-password"})
	}
	procs := startProcs(t, bin, dir)
	c := newCluster(t, procs, specs)
	call, kill := c.call, c.kill
	status := func(party, token, id string) string {
		var op operations.Operation
		if call(party, token, "GET", "/api/v1/operations/"+id, nil, &op) != 200 {
			return ""
		}
		return op.Status
	}
	now := time.Now().UTC()
	const n = 6
	const reports = 12
	var ids []string
	for i := range n {
		if i == 2 {
			kill("US", 300*time.Millisecond)
		}
		var op operations.Operation
		d := operations.Draft{Kind: operations.Mirror, Title: fmt.Sprintf("Crash %d", i), Objective: "arms_trafficking", Pair: "tca-son",
			Start: now.Add(10 * time.Minute).Format(time.RFC3339), End: now.Add(4 * time.Hour).Format(time.RFC3339), Contact: "TCA",
			Units: []operations.Unit{{Callsign: fmt.Sprintf("US-%d", i), Agency: "CBP", Shared: true}}, Areas: []operations.Area{{Lat: 31.62, Lon: -111.0 - float64(i)*0.1, RadiusM: 1000}},
			Counterpart: []string{"GN"}}
		if st := call("US", tokens["coord"], "POST", "/api/v1/operations", d, &op); st != 201 {
			t.Fatalf("draft %d: %d", i, st)
		}
		if st := call("US", tokens["sup"], "POST", "/api/v1/operations/"+op.ID+"/release", nil, nil); st != 200 {
			t.Fatalf("release %d: %d", i, st)
		}
		ids = append(ids, op.ID)
	}
	for i, id := range ids {
		testenv.Eventually(t, time.Minute, "operation "+id+" on MX", func() bool { return status("MX", tokens["gn"], id) == operations.StatusProposed })
		if i == 3 {
			kill("MX", 300*time.Millisecond)
		}
		ans := map[string]any{"step": "accepted", "contact": "GN C4", "units": []operations.Unit{{Callsign: fmt.Sprintf("GN-%d", i), Agency: "GN", Shared: true}},
			"areas": []operations.Area{{Lat: 31.20, Lon: -111.0 - float64(i)*0.1, RadiusM: 1000}}}
		if i == 0 {
			// The first is countered with a later end, and the US accepts
			// the counter while MX is down.
			ans["step"], ans["start"], ans["end"], ans["reason"] = "countered", now.Add(15*time.Minute).Format(time.RFC3339), now.Add(5*time.Hour).Format(time.RFC3339), "relief"
		}
		if st := call("MX", tokens["gn"], "POST", "/api/v1/operations/"+id+"/steps", ans, nil); st != 200 {
			t.Fatalf("accept %d: %d", i, st)
		}
		if i == 0 {
			testenv.Eventually(t, time.Minute, "the counter on the US", func() bool { return status("US", tokens["coord"], id) == operations.StatusCountered })
			kill("MX", time.Second)
			if st := call("US", tokens["coord"], "POST", "/api/v1/operations/"+id+"/steps", map[string]string{"step": "counter_accepted"}, nil); st != 200 {
				t.Fatalf("accept the counter: %d", st)
			}
			testenv.Eventually(t, time.Minute, "joint on MX", func() bool { return status("MX", tokens["gn"], id) == operations.StatusJoint })
		}
		if i == 4 {
			kill("US", 2*time.Second) // down while the acceptances and starts queue up
		}
		if st := call("MX", tokens["gn"], "POST", "/api/v1/operations/"+id+"/steps", map[string]string{"step": "started"}, nil); st != 200 {
			t.Fatalf("start %d: %d", i, st)
		}
	}
	// Units report on every operation while both nodes are killed.
	for r := range reports {
		switch r {
		case 3:
			kill("US", 500*time.Millisecond)
		case 7:
			kill("MX", 300*time.Millisecond)
		}
		for i, id := range ids {
			in := operations.NewReport{Unit: fmt.Sprintf("GN-%d", i), Lat: 31.20 + float64(r)*0.001, Lon: -111.0 - float64(i)*0.1, Status: "moving", Note: fmt.Sprintf("report %d", r)}
			if st := call("MX", tokens["gn"], "POST", "/api/v1/operations/"+id+"/reports", in, nil); st != 201 {
				t.Fatalf("report %d on %d: %d", r, i, st)
			}
		}
	}
	testenv.Eventually(t, 2*time.Minute, "every report on the US", func() bool {
		for _, id := range ids {
			var rs struct{ Reports []operations.Report }
			call("US", tokens["coord"], "GET", "/api/v1/operations/"+id+"/reports", nil, &rs)
			if len(rs.Reports) != reports {
				return false
			}
		}
		return true
	})
	// Conclude on the US, and both sides file their after-action reports,
	// with a kill of each.
	for i, id := range ids {
		if i == 2 {
			kill("MX", 300*time.Millisecond)
		}
		testenv.Eventually(t, time.Minute, "active on the US", func() bool { return status("US", tokens["coord"], id) == operations.StatusActive })
		if st := call("US", tokens["coord"], "POST", "/api/v1/operations/"+id+"/steps", map[string]string{"step": "concluded"}, nil); st != 200 {
			t.Fatalf("conclude %d: %d", i, st)
		}
		if st := call("US", tokens["coord"], "POST", "/api/v1/operations/"+id+"/steps", map[string]any{"step": "after_action", "after_action": "US side done", "results": map[string]int{"seizures": 1}}, nil); st != 200 {
			t.Fatalf("US after-action %d: %d", i, st)
		}
		if i == 4 {
			kill("US", 300*time.Millisecond)
		}
		testenv.Eventually(t, time.Minute, "concluded on MX", func() bool { return status("MX", tokens["gn"], id) == operations.StatusConcluded })
		if st := call("MX", tokens["gn"], "POST", "/api/v1/operations/"+id+"/steps", map[string]any{"step": "after_action", "after_action": "Lado MX", "results": map[string]int{"arrests": 2}}, nil); st != 200 {
			t.Fatalf("MX after-action %d: %d", i, st)
		}
	}
	var fmx, fus operations.Figures
	testenv.Eventually(t, 2*time.Minute, "both nodes agreeing", func() bool {
		for _, id := range ids {
			if status("US", tokens["coord"], id) != operations.StatusReported || status("MX", tokens["gn"], id) != operations.StatusReported {
				return false
			}
		}
		call("MX", tokens["gn"], "GET", "/api/v1/operations/figures", nil, &fmx)
		call("US", tokens["coord"], "GET", "/api/v1/operations/figures", nil, &fus)
		return reflect.DeepEqual(fmx, fus) && len(fus.Sides) == 2 && fus.Sides[1].Joint == n && fus.Sides[0].Countered == 1 && fus.Sides[0].Accepted == n-1 &&
			fus.Sides[0].AfterActionFiled == n && fus.Sides[1].AfterActionFiled == n
	})
	dbs := c.stop(dir)
	// Each operation's envelopes were applied in the order they were
	// sent; each report is on both sides exactly once; each operation's
	// history is the same on both sides.
	checkStreamOrder(t, dbs["MX"], dbs["US"], "operations:o:")
	checkStreamOrder(t, dbs["US"], dbs["MX"], "operations:o:")
	for _, id := range ids {
		seq := func(db *store.DB, order string) []string {
			rows, err := db.Read().Query(ctx, `SELECT note FROM op_reports WHERE operation_id = ? ORDER BY `+order+`, id`, id)
			if err != nil {
				t.Fatal(err)
			}
			notes, err := store.Collect(rows, func(r store.Scanner) (string, error) {
				var s string
				return s, r.Scan(&s)
			})
			if err != nil {
				t.Fatal(err)
			}
			return notes
		}
		mx, us := seq(dbs["MX"], "at"), seq(dbs["US"], "at")
		var want []string
		for r := range reports {
			want = append(want, fmt.Sprintf("report %d", r))
		}
		if !slices.Equal(mx, want) || !slices.Equal(us, want) {
			t.Fatalf("operation %s reports: MX %v, US %v", id, mx, us)
		}
		hist := func(db *store.DB) []string {
			var doc string
			if err := db.Read().QueryRow(ctx, `SELECT doc FROM operations WHERE id = ?`, id).Scan(&doc); err != nil {
				t.Fatal(err)
			}
			var op operations.Operation
			if err := json.Unmarshal([]byte(doc), &op); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range op.History {
				if e.What != "drafted" {
					out = append(out, e.Side+" "+e.What)
				}
			}
			return out
		}
		// Each side's own steps in the order it took them, on both nodes;
		// the two after-action reports were filed at about the same time,
		// so the two nodes may hold them in either order.
		steps := []string{"US proposed", "MX accepted", "MX started", "US concluded", "US after_action", "MX after_action"}
		if id == ids[0] {
			steps = []string{"US proposed", "MX countered", "US counter_accepted", "MX started", "US concluded", "US after_action", "MX after_action"}
		}
		of := func(h []string, side string) []string {
			return slices.DeleteFunc(slices.Clone(h), func(e string) bool { return !strings.HasPrefix(e, side+" ") })
		}
		hu, hm := hist(dbs["US"]), hist(dbs["MX"])
		for _, side := range []string{"US", "MX"} {
			if !slices.Equal(of(hu, side), of(steps, side)) || !slices.Equal(of(hm, side), of(steps, side)) || len(hu) != len(steps) || len(hm) != len(steps) {
				t.Fatalf("operation %s history: US %v, MX %v, want %v", id, hu, hm, steps)
			}
		}
	}
	checkLogs(t, dir, dbs)
}

// checkStreamOrder: the receiver applied every envelope of the sender's
// streams with prefix once, in the order they were sent (the inbox row
// is written in the transaction that applies it).
func checkStreamOrder(t *testing.T, sender, receiver *store.DB, prefix string) {
	t.Helper()
	ctx := context.Background()
	order := func(db *store.DB, q string) map[string][]string {
		rows, err := db.Read().Query(ctx, q, prefix+"%")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string][]string{}
		for rows.Next() {
			var stream, id string
			if err := rows.Scan(&stream, &id); err != nil {
				t.Fatal(err)
			}
			out[stream] = append(out[stream], id)
		}
		return out
	}
	sent := order(sender, `SELECT stream, envelope_id FROM outbox WHERE stream LIKE ? ORDER BY seq`)
	got := order(receiver, `SELECT stream, envelope_id FROM inbox WHERE stream LIKE ? ORDER BY id`)
	if len(sent) == 0 {
		t.Fatalf("no %s streams were sent", prefix)
	}
	for stream, ids := range sent {
		if !slices.Equal(ids, got[stream]) {
			t.Fatalf("stream %s: sent %d envelopes, applied %d, or out of order", stream, len(ids), len(got[stream]))
		}
	}
}
