package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/extradition"
	"puente/internal/match"
	"puente/internal/operations"
	"puente/internal/seizures"
	"puente/internal/testenv"
)

// TestTargetShowsUpOnSeizure: a US priority target, released to Mexico's
// extradition agencies, is detained in a Mexican seizure: the seizure's
// page names the target for a Guardia Nacional coordinator; the same
// person in a state police seizure raises nothing for the state police
// officer, whom the target's caveats do not reach.
func TestTargetShowsUpOnSeizure(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mk := func(party, name string, role auth.Role, agency string) *auth.User {
		u, err := p.Nodes[party].Auth.Create(ctx, auth.NewUser{Username: name, DisplayName: name, Role: role, Agency: agency, Password: "badge-password-123"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	hsi, doj := mk("US", "hsi", auth.Coordinator, "HSI"), mk("US", "doj", auth.Legal, "DOJ-OIA")
	gn := mk("MX", "gn", auth.Coordinator, "GN")
	poli := mk("MX", "poli", auth.Coordinator, "SSP-SON")
	us := extradition.Of(p.Nodes["US"])
	tg, err := us.Nominate(ctx, hsi, extradition.Target{Name: "Daniel Kessler Ruiz", DOB: "1984-05-19", Passport: "A51827364", PassportCountry: "USA"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := us.Submit(ctx, hsi, tg.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := us.Release(ctx, doj, tg.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := area.WaitFor("the target on MX", 15*time.Second, func() bool {
		_, err := extradition.Of(p.Nodes["MX"]).Get(ctx, gn, tg.ID)
		return err == nil
	}); err != nil {
		t.Fatal(err)
	}
	record := func(u *auth.User) *seizures.Seizure {
		sz, err := seizures.Of(p.Nodes["MX"]).Record(ctx, u, seizures.Seizure{At: time.Now().UTC().Add(-2 * time.Hour), Lat: 32.52, Lon: -117.0, Pair: "sdc-bc", Place: "Tijuana",
			Conveyance: "vehicle", Concealment: "tires", Detained: 1, Subjects: []match.Subject{{Name: "Daniel Kessler", DOB: "1984-05-19"}},
			Items: []seizures.Item{{Kind: seizures.ItemDrug, Drug: seizures.Drugs[0], Quantity: 3, Unit: seizures.UnitKg, Test: "field"}}})
		if err != nil {
			t.Fatal(err)
		}
		return sz
	}
	byGN, byPoli := record(gn), record(poli)
	page := func(user string, sz *seizures.Seizure) string {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		if _, err := c.PostForm(p.URL("MX")+"/login", url.Values{"username": {user}, "password": {"badge-password-123"}}); err != nil {
			t.Fatal(err)
		}
		var body string
		// The screening list is rebuilt after the target arrives.
		testenv.Eventually(t, 10*time.Second, "the seizure page", func() bool {
			resp, err := c.Get(p.URL("MX") + "/seizures/s/" + sz.ID)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
			return resp.StatusCode == 200 && (user != "gn" || strings.Contains(body, "target-hit"))
		})
		return body
	}
	if body := page("gn", byGN); !strings.Contains(body, "/extradition/targets/t/"+tg.ID) {
		t.Fatalf("the GN coordinator does not see the target on the seizure")
	}
	if body := page("poli", byPoli); strings.Contains(body, "target-hit") || strings.Contains(body, tg.ID) {
		t.Fatalf("the state police officer sees a target its caveats do not release to her")
	}
	// An operation of GN after the same person names the target too.
	now := time.Now().UTC()
	op, err := operations.Of(p.Nodes["MX"]).Create(ctx, gn, operations.Draft{Kind: operations.Unilateral, Title: "Kessler", Objective: "drug_trafficking", Pair: "sdc-bc",
		Start: now.Add(time.Hour).Format(time.RFC3339), End: now.Add(5 * time.Hour).Format(time.RFC3339), Contact: "GN Tijuana",
		Units: []operations.Unit{{Callsign: "GN-BC-1", Agency: "GN"}}, Areas: []operations.Area{{Lat: 32.50, Lon: -117.0, RadiusM: 500}},
		Targets: []operations.Target{{Kind: "person", Name: "Daniel Kessler Ruiz", DOB: "1984"}}})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if _, err := c.PostForm(p.URL("MX")+"/login", url.Values{"username": {"gn"}, "password": {"badge-password-123"}}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(p.URL("MX") + "/operations/o/" + op.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "/extradition/targets/t/"+tg.ID) {
		t.Fatalf("the operation's page does not name the target (%d)", resp.StatusCode)
	}
}
