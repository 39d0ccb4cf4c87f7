package e2e

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/extradition"
	"puente/internal/testenv"
)

// TestExtraditionSurvivesKills nominates targets on both sides and runs
// extradition cases in both directions, stage by stage, between two real
// "puente serve" processes while kill -9ing the side that records and the
// side that receives: every nomination, acknowledgement and stage
// arrives once and in order, both nodes compute the same due dates and
// figures, and both logs verify.
func TestExtraditionSurvivesKills(t *testing.T) { extraditionSurvivesKills(t, nil) }

// TestExtraditionSurvivesKillsPostgres is the same on PostgreSQL.
func TestExtraditionSurvivesKillsPostgres(t *testing.T) {
	testenv.PostgresSchema(t)
	extraditionSurvivesKills(t, func() string { return testenv.PostgresSchema(t) })
}

func extraditionSurvivesKills(t *testing.T, database func() string) {
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
	}{{"MX", "coord", auth.Coordinator, "SSPC"}, {"MX", "fgr", auth.Legal, "FGR"}, {"US", "hsi", auth.Coordinator, "HSI"}, {"US", "doj", auth.Legal, "DOJ-OIA"}} {
		tokens[u.name] = addUser(t, dir, u.party, auth.NewUser{Username: u.name, DisplayName: u.name, Role: u.role, Agency: u.agency, Password: "ext-crash-password"})
	}
	c := newCluster(t, startProcs(t, bin, dir), specs)
	day := func(d int) string { return time.Now().UTC().AddDate(0, 0, -d).Format(time.DateOnly) }

	// Targets: each side nominates three, releases them (the receiver
	// killed around the release), the other acknowledges.
	sides := []struct{ party, author, reviewer, other, otherUser string }{{"MX", "coord", "fgr", "US", "doj"}, {"US", "hsi", "doj", "MX", "fgr"}}
	var tids []struct{ id, origin, other, user string }
	for _, sd := range sides {
		for i := range 3 {
			in := extradition.Target{Name: fmt.Sprintf("Persona %s Número %d", sd.party, i), DOB: fmt.Sprintf("198%d-0%d-1%d", i, i+1, i), Passport: fmt.Sprintf("G%s%07d", sd.party, i), PassportCountry: "MEX"}
			var tg extradition.Target
			if st := c.call(sd.party, tokens[sd.author], "POST", "/api/v1/targets", in, &tg); st != 201 {
				t.Fatalf("nominate %s %d: %d", sd.party, i, st)
			}
			if st := c.call(sd.party, tokens[sd.author], "POST", "/api/v1/targets/"+tg.ID+"/submit", nil, nil); st != 200 {
				t.Fatalf("submit %s %d: %d", sd.party, i, st)
			}
			if i == 1 {
				c.kill(sd.other, 400*time.Millisecond)
			}
			if st := c.call(sd.party, tokens[sd.reviewer], "POST", "/api/v1/targets/"+tg.ID+"/release", nil, nil); st != 200 {
				t.Fatalf("release %s %d: %d", sd.party, i, st)
			}
			if i == 2 {
				c.kill(sd.party, 300*time.Millisecond)
			}
			tids = append(tids, struct{ id, origin, other, user string }{tg.ID, sd.party, sd.other, sd.otherUser})
		}
	}
	for i, tg := range tids {
		testenv.Eventually(t, time.Minute, "target "+tg.id+" on "+tg.other, func() bool {
			return c.call(tg.other, tokens[tg.user], "GET", "/api/v1/targets/"+tg.id, nil, nil) == 200
		})
		if i == 4 {
			c.kill(tg.origin, 300*time.Millisecond) // the origin is down when the acknowledgement leaves
		}
		if st := c.call(tg.other, tokens[tg.user], "POST", "/api/v1/targets/"+tg.id+"/ack", nil, nil); st != 200 {
			t.Fatalf("ack %s: %d", tg.id, st)
		}
	}

	// Cases: two in each direction, every stage with a kill on the way.
	type step struct {
		stage, outcome, place string
		ago                   int
	}
	flows := map[string][]step{
		"MX": {{extradition.ProvisionalRequest, "", "", 100}, {extradition.Arrested, "", "Culiacán", 98}, {extradition.FormalRequest, "", "", 50}, {extradition.ProceedingsOpened, "", "", 45},
			{extradition.JudgeOpinion, "", "", 20}, {extradition.MinistryDecision, extradition.Granted, "", 10}, {extradition.SurrenderOrdered, "", "", 5}, {extradition.Surrendered, "", "AICM", 2}},
		"US": {{extradition.Arrested, "", "San Diego", 90}, {extradition.FormalRequest, "", "", 70}, {extradition.ProceedingsOpened, "", "", 60}, {extradition.Hearing, "", "", 40},
			{extradition.Certification, extradition.Granted, "", 30}, {extradition.SecretaryDecision, extradition.Granted, "", 20}, {extradition.SurrenderOrdered, "", "", 10}},
	}
	user := map[string]string{"MX": "fgr", "US": "doj"}
	other := map[string]string{"MX": "US", "US": "MX"}
	kills := 0
	var cids []string
	for _, requested := range []string{"MX", "US", "MX", "US"} {
		requesting := other[requested]
		var cs extradition.Case
		if st := c.call(requesting, tokens[user[requesting]], "POST", "/api/v1/extradition/cases",
			extradition.Case{Kind: extradition.KindExtradition, Requested: requested, Person: extradition.Person{Name: "Reclamado " + requested + fmt.Sprint(len(cids))}}, &cs); st != 201 {
			t.Fatalf("open a case to %s: %d", requested, st)
		}
		for i, s := range flows[requested] {
			owner := requested
			if s.stage == extradition.ProvisionalRequest || s.stage == extradition.FormalRequest {
				owner = requesting
			}
			want := i
			testenv.Eventually(t, time.Minute, fmt.Sprintf("case %s with %d stages on %s", cs.ID, want, owner), func() bool {
				var got extradition.Case
				return c.call(owner, tokens[user[owner]], "GET", "/api/v1/extradition/cases/"+cs.ID, nil, &got) == 200 && len(got.Stages) == want
			})
			if i%3 == 1 {
				kills++
				c.kill(other[owner], 300*time.Millisecond) // the receiver is down
			}
			if st := c.call(owner, tokens[user[owner]], "POST", "/api/v1/extradition/cases/"+cs.ID+"/stages",
				extradition.Stage{Stage: s.stage, Date: day(s.ago), Outcome: s.outcome, Place: s.place}, nil); st != 201 {
				t.Fatalf("case %s: %s by %s: %d", cs.ID, s.stage, owner, st)
			}
			if i%3 == 2 {
				kills++
				c.kill(owner, 300*time.Millisecond) // the sender dies right after
			}
		}
		cids = append(cids, cs.ID)
	}
	// Both nodes end with the same cases, clocks and figures.
	for _, id := range cids {
		var a, b extradition.Case
		testenv.Eventually(t, 2*time.Minute, "case "+id+" alike on both nodes", func() bool {
			if c.call("MX", tokens["fgr"], "GET", "/api/v1/extradition/cases/"+id, nil, &a) != 200 || c.call("US", tokens["doj"], "GET", "/api/v1/extradition/cases/"+id, nil, &b) != 200 {
				return false
			}
			return reflect.DeepEqual(a.Stages, b.Stages) && reflect.DeepEqual(a.Clocks, b.Clocks) && len(a.Stages) == len(flows[a.Requested])
		})
	}
	var fmx, fus map[string]any
	testenv.Eventually(t, time.Minute, "the same figures", func() bool {
		c.call("MX", tokens["fgr"], "GET", "/api/v1/extradition/figures", nil, &fmx)
		c.call("US", tokens["doj"], "GET", "/api/v1/extradition/figures", nil, &fus)
		return reflect.DeepEqual(fmx, fus) && fmx != nil
	})
	dbs := c.stop(dir)
	ctx := context.Background()
	for _, party := range []string{"MX", "US"} {
		var n, acked int
		if err := dbs[party].Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil || n != len(cids) {
			t.Fatalf("%s holds %d cases (%v), want %d", party, n, err, len(cids))
		}
		if err := dbs[party].Read().QueryRow(ctx, `SELECT COUNT(*) FROM targets WHERE doc LIKE '%"ack"%'`).Scan(&acked); err != nil || acked != len(tids) {
			t.Fatalf("%s holds %d acknowledged targets (%v), want %d", party, acked, err, len(tids))
		}
	}
	t.Logf("%d kills during the cases", kills)
	checkStreamOrder(t, dbs["MX"], dbs["US"], "extradition:")
	checkStreamOrder(t, dbs["US"], dbs["MX"], "extradition:")
	checkLogs(t, dir, dbs)
}
