package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/testenv"
	"puente/internal/training"
)

// TestTrainingSurvivesKills runs the training cycle in both directions
// between two real "puente serve" processes on SQLite: a coordinator
// drafts a course that needs vetting, a second publishes it, the partner
// nominates three people, the offering side vets them (one denied),
// confirms, records attendance and the results that issue certificates,
// while kill -9 hits the offering and the nominating node on the way.
// Both nodes end with the same offers, the same certificate bytes, the
// same training figures and the same scorecard (GET /api/v1/reciprocity,
// byte for byte); every step arrived once and in order; both logs verify.
func TestTrainingSurvivesKills(t *testing.T) { trainingSurvivesKills(t, nil) }

// TestTrainingSurvivesKillsPostgres is the same on PostgreSQL.
func TestTrainingSurvivesKillsPostgres(t *testing.T) {
	testenv.PostgresSchema(t)
	trainingSurvivesKills(t, func() string { return testenv.PostgresSchema(t) })
}

func trainingSurvivesKills(t *testing.T, database func() string) {
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
	}{{"US", "pat", auth.Training, "STATE"}, {"US", "inl", auth.Training, "STATE"}, {"US", "aud", auth.Auditor, "STATE"},
		{"MX", "cap", auth.Training, "SEDENA"}, {"MX", "aca", auth.Training, "GN"}, {"MX", "aud", auth.Auditor, "SRE"}} {
		tokens[u.party+u.name] = addUser(t, dir, u.party, auth.NewUser{Username: u.name, DisplayName: u.name, Role: u.role, Agency: u.agency, Password: "trn-crash-password"})
	}
	c := newCluster(t, startProcs(t, bin, dir), specs)
	today := time.Now().UTC().Format(time.DateOnly)
	end := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	people := map[string][]training.Participant{
		"MX": {{Name: "Ana Zamora Núñez", DOB: "1982-11-22", IDType: "curp", NationalID: "ZANM821122MSLMBD07", Unit: "AIC Sonora", Agency: "FGR"},
			{Name: "Beto Ruiz", DOB: "1980-04-02", IDType: "passport", NationalID: "G12345678", Unit: "Grupo Nogales", Agency: "SSP-SON"},
			{Name: "Carla Méndez", DOB: "1985-01-01", IDType: "passport", NationalID: "G87654321", Unit: "UEIDCS", Agency: "FGR"}},
		"US": {{Name: "Kevin O'Brien", DOB: "1984-03-03", IDType: "passport", NationalID: "A40211501", Unit: "Port of Nogales", Agency: "CBP"},
			{Name: "Maria Delgado", DOB: "1979-07-07", IDType: "passport", NationalID: "A40211502", Unit: "Port of San Luis", Agency: "CBP"},
			{Name: "Aisha Grant", DOB: "1990-09-09", IDType: "passport", NationalID: "A40211504", Unit: "HSI Phoenix", Agency: "HSI"}},
	}
	get := func(party, id string) *training.Offer {
		var o training.Offer
		if c.call(party, tokens[party+"aud"], "GET", "/api/v1/training/offers/"+id, nil, &o) != 200 {
			return nil
		}
		return &o
	}
	var offers []string
	for i, sd := range []struct{ by, to string }{{"US", "MX"}, {"MX", "US"}} {
		author, second := tokens[sd.by+map[string]string{"US": "pat", "MX": "cap"}[sd.by]], tokens[sd.by+map[string]string{"US": "inl", "MX": "aca"}[sd.by]]
		nominator := tokens[sd.to+map[string]string{"US": "pat", "MX": "cap"}[sd.to]]
		in := training.Offer{Title: fmt.Sprintf("Course %d from %s", i, sd.by), Type: training.TypeCourse, Subject: training.SubjectTracing, Language: "es_en",
			Place: "Nogales", Start: today, End: end, NominateBy: today, Seats: 2, Hours: 6, Vetting: true, Waitlist: true,
			Instructors: []training.Instructor{{Name: "Instructor", Agency: "ATF"}}, Cost: training.Cost{Amount: 100, Currency: "USD", PaidBy: sd.by}}
		var o training.Offer
		if st := c.call(sd.by, author, "POST", "/api/v1/training/offers", in, &o); st != 201 {
			t.Fatalf("draft %s: %d", sd.by, st)
		}
		c.kill(sd.to, 400*time.Millisecond) // the partner is down when the offer goes
		if st := c.call(sd.by, second, "POST", "/api/v1/training/offers/"+o.ID+"/publish", nil, nil); st != 200 {
			t.Fatalf("publish %s: %d", sd.by, st)
		}
		offers = append(offers, o.ID)
		testenv.Eventually(t, time.Minute, "the offer on "+sd.to, func() bool { return get(sd.to, o.ID) != nil })
		for j, p := range people[sd.to] {
			if j == 1 {
				c.kill(sd.by, 300*time.Millisecond) // the offering side is down while nominations queue
			}
			if st := c.call(sd.to, nominator, "POST", "/api/v1/training/offers/"+o.ID+"/steps", training.Step{Step: training.StepNominate, Nomination: &training.Nomination{Participant: p}}, nil); st != 200 {
				t.Fatalf("nominate %s on %s: %d", p.Name, sd.to, st)
			}
		}
		var got *training.Offer
		testenv.Eventually(t, time.Minute, "the nominations on "+sd.by, func() bool {
			got = get(sd.by, o.ID)
			return got != nil && len(got.Nominations) == 3
		})
		step := func(st training.Step) {
			t.Helper()
			if code := c.call(sd.by, author, "POST", "/api/v1/training/offers/"+o.ID+"/steps", st, nil); code != 200 {
				t.Fatalf("%s on %s: %d", st.Step, sd.by, code)
			}
		}
		// A confirmation before vetting is refused, and stores nothing.
		if code := c.call(sd.by, author, "POST", "/api/v1/training/offers/"+o.ID+"/steps", training.Step{Step: training.StepConfirm, NominationID: got.Nominations[0].ID}, nil); code != 422 {
			t.Fatalf("a confirmation without vetting answered %d, want 422", code)
		}
		for j, n := range got.Nominations {
			v := &training.Vetting{Status: training.VetApproved, Date: today, Unit: n.Participant.Unit}
			if j == 2 {
				v.Status = training.VetDenied
			}
			step(training.Step{Step: training.StepVet, NominationID: n.ID, Vetting: v})
			if j == 2 {
				continue
			}
			if j == 1 {
				c.kill(sd.to, 300*time.Millisecond)
			}
			step(training.Step{Step: training.StepConfirm, NominationID: n.ID})
			step(training.Step{Step: training.StepAttend, NominationID: n.ID, Day: &training.Day{Date: today, Hours: 6}})
			step(training.Step{Step: training.StepResult, NominationID: n.ID, Result: training.ResultPassed})
			if j == 0 {
				c.kill(sd.by, 300*time.Millisecond) // the issuer dies right after the certificate
			}
		}
	}
	// Both nodes hold the same offers and certificates, byte for byte.
	cert := func(party, id string) []byte {
		req, _ := http.NewRequest("GET", c.base[party]+"/api/v1/training/certificates/"+id+"/file", nil)
		req.Header.Set("Authorization", "Bearer "+tokens[party+"aud"])
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return nil
		}
		return b
	}
	for _, id := range offers {
		testenv.Eventually(t, 2*time.Minute, "offer "+id+" the same on both nodes", func() bool {
			mx, us := get("MX", id), get("US", id)
			if mx == nil || us == nil || !reflect.DeepEqual(mx, us) || mx.Count(training.NomConfirmed) != 2 {
				return false
			}
			for _, n := range mx.Nominations {
				if n.Vetting.Status == training.VetApproved && (n.Certificate == "" || cert("MX", n.Certificate) == nil || !bytes.Equal(cert("MX", n.Certificate), cert("US", n.Certificate))) {
					return false
				}
			}
			return true
		})
	}
	scorecard := func(party string) []byte {
		req, _ := http.NewRequest("GET", c.base[party]+"/api/v1/reciprocity", nil)
		req.Header.Set("Authorization", "Bearer "+tokens[party+"aud"])
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		mx, us := scorecard("MX"), scorecard("US")
		if mx != nil && bytes.Equal(mx, us) && bytes.Contains(mx, []byte(`"area": "training"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scorecards differ:\nMX %s\nUS %s", mx, us)
		}
	}
	var fmx, fus training.Figures
	c.call("MX", tokens["MXaud"], "GET", "/api/v1/training/figures", nil, &fmx)
	c.call("US", tokens["USaud"], "GET", "/api/v1/training/figures", nil, &fus)
	if !reflect.DeepEqual(fmx, fus) {
		t.Fatalf("training figures differ:\nMX %+v\nUS %+v", fmx, fus)
	}
	for _, sf := range fus.Sides {
		if sf.Offers != 1 || sf.Certificates != 2 || sf.Denied != 1 || sf.SeatsFilled != 2 || sf.Trained != 2 || sf.Hours != 12 {
			t.Fatalf("%s figures %+v, want 1 offer, 2 certificates, 1 denied, 2 seats filled, 12 hours", sf.Party, sf)
		}
	}
	dbs := c.stop(dir)
	ctx := context.Background()
	for _, party := range []string{"MX", "US"} {
		var n int
		if err := dbs[party].Read().QueryRow(ctx, `SELECT COUNT(*) FROM training_certificates`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 4 {
			t.Fatalf("%s holds %d certificates, want 4 (none lost, none twice)", party, n)
		}
	}
	checkStreamOrder(t, dbs["MX"], dbs["US"], "training:o:")
	checkStreamOrder(t, dbs["US"], dbs["MX"], "training:o:")
	checkLogs(t, dir, dbs)
}
