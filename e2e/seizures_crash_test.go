package e2e

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/seizures"
	"puente/internal/testenv"
	"puente/internal/traces"
)

// TestSeizuresSurviveKills records seizures on both sides between two
// real "puente serve" processes on SQLite, releases them in batches
// (four eyes) while kill -9ing the sender and the receiver, then runs
// firearm traces from Mexico that the US works to their result while
// both are killed again: each released seizure and each trace step
// arrives once and in order, both nodes end with the same figures, and
// both logs verify.
func TestSeizuresSurviveKills(t *testing.T) { seizuresSurviveKills(t, nil) }

// TestSeizuresSurviveKillsPostgres is the same on PostgreSQL.
func TestSeizuresSurviveKillsPostgres(t *testing.T) {
	testenv.PostgresSchema(t)
	seizuresSurviveKills(t, func() string { return testenv.PostgresSchema(t) })
}

func seizuresSurviveKills(t *testing.T, database func() string) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	testenv.FastPasswords(t)
	bin := buildPuente(t)
	dir, specs := newPairOn(t, database)
	tokens := map[string]string{}
	for _, u := range []struct {
		party, name string
		role        auth.Role
		agency      string
	}{{"US", "coord", auth.Coordinator, "CBP"}, {"US", "sup", auth.Supervisor, "CBP"}, {"MX", "gn", auth.Coordinator, "GN"}, {"MX", "mando", auth.Supervisor, "GN"},
		{"MX", "poli", auth.Coordinator, "SSP-SON"}, {"MX", "fgr", auth.Legal, "FGR"}, {"US", "atf", auth.Coordinator, "ATF"}} {
		tokens[u.name] = addUser(t, dir, u.party, auth.NewUser{Username: u.name, DisplayName: u.name, Role: u.role, Agency: u.agency, Password: "sz-crash-password"})
	}
	c := newCluster(t, startProcs(t, bin, dir), specs)
	at := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	sides := []struct{ party, author, releaser, other string }{{"US", "coord", "sup", "MX"}, {"MX", "gn", "mando", "US"}}
	const batches, per = 4, 5
	released := map[string]int{}
	for b := range batches {
		for _, sd := range sides {
			var ids []string
			for i := range per {
				sz := seizures.Seizure{At: at.Add(time.Duration(b*per+i) * time.Minute), Lat: 31.33 - map[string]float64{"US": 0, "MX": 0.1}[sd.party], Lon: -110.94,
					Pair: "tca-son", Place: fmt.Sprintf("Nogales %s %d-%d", sd.party, b, i), Conveyance: "vehicle", Concealment: "tires",
					Items: []seizures.Item{{Kind: seizures.ItemDrug, Drug: seizures.Cocaine, Quantity: float64(1 + i), Unit: seizures.UnitKg, Test: "lab"},
						{Kind: seizures.ItemFirearm, Type: "pistol", Make: "Glock", Calibre: "9mm", Serial: fmt.Sprintf("%s%d%d", sd.party, b, i)}}}
				var got seizures.Seizure
				if st := c.call(sd.party, tokens[sd.author], "POST", "/api/v1/seizures", sz, &got); st != 201 {
					t.Fatalf("record %s %d-%d: %d", sd.party, b, i, st)
				}
				ids = append(ids, got.ID)
			}
			// Kill the receiver before the release and the sender right
			// after it, in turn.
			if b%2 == 0 {
				c.kill(sd.other, 400*time.Millisecond)
			}
			if st := c.call(sd.party, tokens[sd.releaser], "POST", "/api/v1/seizures/release", map[string]any{"ids": ids}, nil); st != 200 {
				t.Fatalf("release %s %d: %d", sd.party, b, st)
			}
			if b%2 == 1 {
				c.kill(sd.party, 300*time.Millisecond)
			}
			released[sd.party] += per
		}
	}
	var fmx, fus seizures.Figures
	testenv.Eventually(t, 2*time.Minute, "both nodes agreeing", func() bool {
		c.call("MX", tokens["gn"], "GET", "/api/v1/seizures/figures", nil, &fmx)
		c.call("US", tokens["coord"], "GET", "/api/v1/seizures/figures", nil, &fus)
		return reflect.DeepEqual(fmx.Sides, fus.Sides) && len(fus.Sides) == 2 && fus.Sides[0].Released == int64(released["MX"]) && fus.Sides[1].Released == int64(released["US"])
	})
	// Each batch of per seizures holds 1+2+…+per kg of cocaine and per
	// firearms.
	kg := float64(batches * per * (per + 1) / 2)
	for _, sf := range fus.Sides {
		if sf.Kg != kg || sf.Firearms != int64(batches*per) {
			t.Fatalf("%s figures %+v, want %v kg and %d firearms", sf.Party, sf, kg, batches*per)
		}
	}
	// Traces: prepared by the state police, sponsored by FGR, worked to
	// the result by ATF, with kills of both sides on the way.
	const nt = 6
	var tids []string
	for i := range nt {
		in := traces.Trace{Priority: traces.Routine, CrimeCode: "firearms_trafficking", Officer: "Agente", Case: fmt.Sprintf("C-%d", i),
			Firearm:  traces.Firearm{Serial: fmt.Sprintf("KX%05d", i), Manufacturer: "Colt", Model: "M4 Carbine", Type: "rifle", Calibre: "5.56x45", Country: "US"},
			Recovery: traces.Recovery{Date: at.Format("2006-01-02"), Place: "Caborca"}}
		var tr traces.Trace
		if st := c.call("MX", tokens["poli"], "POST", "/api/v1/traces", in, &tr); st != 201 {
			t.Fatalf("prepare trace %d: %d", i, st)
		}
		if i == 2 {
			c.kill("US", 300*time.Millisecond)
		}
		if st := c.call("MX", tokens["fgr"], "POST", "/api/v1/traces/"+tr.ID+"/submit", nil, nil); st != 200 {
			t.Fatalf("submit trace %d: %d", i, st)
		}
		tids = append(tids, tr.ID)
	}
	status := func(party, token, id string) string {
		var tr traces.Trace
		if c.call(party, token, "GET", "/api/v1/traces/"+id, nil, &tr) != 200 {
			return ""
		}
		return tr.Status
	}
	result := &traces.Result{Source: "Colt", Dealer: &traces.Dealer{Licence: "9-86-1", Name: "Desert Sportsman", City: "Tucson", State: "AZ"},
		Purchaser: traces.Possessor{Name: "Straw"}, Purchase: at.AddDate(-1, 0, 0).Format("2006-01-02")}
	for i, id := range tids {
		testenv.Eventually(t, time.Minute, "trace "+id+" on the US", func() bool { return status("US", tokens["atf"], id) == traces.StatusSubmitted })
		for j, up := range []traces.Update{{Step: traces.StepAccept}, {Step: traces.StepProgress, Stage: "dealer"}, {Step: traces.StepComplete, Result: result}} {
			if i == 1 && j == 1 {
				c.kill("MX", 300*time.Millisecond) // the requester is down while results queue up
			}
			if st := c.call("US", tokens["atf"], "POST", "/api/v1/traces/"+id+"/steps", up, nil); st != 200 {
				t.Fatalf("trace %d step %s: %d", i, up.Step, st)
			}
			if i == 3 && j == 2 {
				c.kill("US", 300*time.Millisecond) // the tracer dies right after sending the result
			}
		}
	}
	var tmx, tus traces.Figures
	testenv.Eventually(t, 2*time.Minute, "every trace result on MX, and the same figures", func() bool {
		for _, id := range tids {
			if status("MX", tokens["fgr"], id) != traces.StatusCompleted {
				return false
			}
		}
		c.call("MX", tokens["fgr"], "GET", "/api/v1/traces/figures", nil, &tmx)
		c.call("US", tokens["atf"], "GET", "/api/v1/traces/figures", nil, &tus)
		return reflect.DeepEqual(tmx, tus) && tus.Sides[0].Completed == nt && tus.Sides[0].ShortTTC == nt
	})
	dbs := c.stop(dir)
	ctx := context.Background()
	for _, party := range []string{"MX", "US"} {
		var n int
		if err := dbs[party].Read().QueryRow(ctx, `SELECT COUNT(*) FROM seizures WHERE status = ?`, seizures.StatusReleased).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != released["MX"]+released["US"] {
			t.Fatalf("%s holds %d released seizures, want %d", party, n, released["MX"]+released["US"])
		}
	}
	checkStreamOrder(t, dbs["MX"], dbs["US"], "seizures:s:")
	checkStreamOrder(t, dbs["US"], dbs["MX"], "seizures:s:")
	checkStreamOrder(t, dbs["MX"], dbs["US"], "traces:t:")
	checkStreamOrder(t, dbs["US"], dbs["MX"], "traces:t:")
	checkLogs(t, dir, dbs)
}
