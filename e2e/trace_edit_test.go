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

	"puente/internal/auth"
	"puente/internal/testenv"
	"puente/internal/traces"
)

// TestReturnedTraceCorrectedOnItsPage: ATF returns a trace for a missing
// importer; the state police officer opens it corrected from its page
// (the form prefilled), adds the importer, and FGR sends it again.
func TestReturnedTraceCorrectedOnItsPage(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mk := func(party, name string, role auth.Role, agency string) *auth.User {
		u, err := p.Nodes[party].Auth.Create(ctx, auth.NewUser{Username: name, DisplayName: name, Role: role, Agency: agency, Password: "trace-password-123"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	poli, fgr, atf := mk("MX", "poli", auth.Coordinator, "SSP-SON"), mk("MX", "fgr", auth.Legal, "FGR"), mk("US", "atf", auth.Coordinator, "ATF")
	mx, us := traces.Of(p.Nodes["MX"]), traces.Of(p.Nodes["US"])
	tr, _, err := mx.Prepare(ctx, poli, traces.Trace{Priority: traces.Routine, CrimeCode: "firearms_trafficking", Officer: "Agente 7", Case: "SSP-SON/2026/9",
		Firearm:  traces.Firearm{Serial: "TZ39018", Manufacturer: "Taurus", Model: "PT92", Calibre: "9mm", Type: "pistol", Country: "BR"},
		Recovery: traces.Recovery{Date: time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly), Place: "Caborca"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mx.Submit(ctx, fgr, tr.ID); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the trace on the US", func() bool { _, err := us.Get(ctx, atf, tr.ID); return err == nil })
	if _, err := us.Step(ctx, atf, tr.ID, traces.Update{Step: traces.StepReturn, Reason: "The importer's marking is needed."}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "returned on MX", func() bool {
		got, err := mx.Get(ctx, poli, tr.ID)
		return err == nil && got.Status == traces.StatusReturned
	})

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if _, err := c.PostForm(p.URL("MX")+"/login", url.Values{"username": {"poli"}, "password": {"trace-password-123"}}); err != nil {
		t.Fatal(err)
	}
	body := func(u string) string {
		resp, err := c.Get(p.URL("MX") + u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if page := body("/traces/t/" + tr.ID); !strings.Contains(page, `id="tr-edit"`) {
		t.Fatal("the returned trace's page offers no correction")
	}
	form := body("/traces/new?edit=" + tr.ID)
	if !strings.Contains(form, `value="TZ39018"`) || !strings.Contains(form, `name="edit" value="`+tr.ID+`"`) {
		t.Fatal("the correction form is not prefilled")
	}
	vals := url.Values{"edit": {tr.ID}, "priority": {"routine"}, "crime_code": {"firearms_trafficking"}, "officer": {"Agente 7"}, "case_number": {"SSP-SON/2026/9"},
		"serial": {"TZ39018"}, "manufacturer": {"Taurus"}, "model": {"PT92"}, "calibre": {"9mm"}, "type": {"pistol"}, "country": {"BR"}, "importer": {"Taurus International, Miami FL"},
		"recovery_date": {tr.Recovery.Date}, "recovery_place": {"Caborca"}}
	resp, err := c.PostForm(p.URL("MX")+"/traces", vals)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("correcting: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	got, err := mx.Get(ctx, poli, tr.ID)
	if err != nil || got.Firearm.Importer != "Taurus International, Miami FL" || got.Status != traces.StatusReturned {
		t.Fatalf("after the correction: %+v %v", got, err)
	}
	if _, err := mx.Submit(ctx, fgr, tr.ID); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the corrected request on the US", func() bool {
		got, err := us.Get(ctx, atf, tr.ID)
		return err == nil && got.Status == traces.StatusSubmitted && got.Firearm.Importer != ""
	})
}
