package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/extradition"
	"puente/internal/testenv"
)

// TestBrowserExtraditionClock: the United States asks Mexico for a
// provisional arrest; Mexico's legal officer records the arrest on her
// page; the 60-day clock for the formal request appears live on the US
// legal officer's open page; he records the formal request, and the
// clock stops, met, live on Mexico's page. Screenshots of each step.
func TestBrowserExtraditionClock(t *testing.T) {
	testenv.Chromium(t)
	p := testenv.StartPair(t)
	ctx := context.Background()
	users := map[string]*auth.User{}
	for _, u := range []struct {
		party string
		nu    auth.NewUser
	}{
		{"MX", auth.NewUser{Username: "fgr", DisplayName: "Lucía (FGR)", Role: auth.Legal, Agency: "FGR", Password: "browser-password", Lang: "es"}},
		{"US", auth.NewUser{Username: "doj", DisplayName: "Laura (DOJ)", Role: auth.Legal, Agency: "DOJ-OIA", Password: "browser-password"}},
	} {
		nu, err := p.Nodes[u.party].Auth.Create(ctx, u.nu)
		if err != nil {
			t.Fatal(err)
		}
		users[u.nu.Username] = nu
	}
	mxs, uss := extradition.Of(p.Nodes["MX"]), extradition.Of(p.Nodes["US"])
	cs, err := uss.OpenCase(ctx, users["doj"], extradition.Case{Kind: extradition.KindExtradition, Requested: "MX",
		Person: extradition.Person{Name: "Aurelio Bastidas Reyes", DOB: "1975-02-11"}, Charges: "Conspiracy to import methamphetamine (D. Ariz.)"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uss.Record(ctx, users["doj"], cs.ID, extradition.Stage{Stage: extradition.ProvisionalRequest, Date: time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly)}); err != nil {
		t.Fatal(err)
	}
	if err := area.WaitFor("the case on MX", 30*time.Second, func() bool {
		got, err := mxs.ListCases(ctx, users["fgr"], extradition.CaseFilter{})
		return err == nil && len(got) == 1 && len(got[0].Stages) == 1
	}); err != nil {
		t.Fatal(err)
	}

	mx := newBrowser(t, 120*time.Second)
	us, cancel := chromedp.NewContext(mx)
	defer cancel()
	login := func(base, user string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.Navigate(base + "/login"), chromedp.WaitVisible("#username"),
			chromedp.SendKeys("#username", user), chromedp.SendKeys("#password", "browser-password"),
			chromedp.Click("#login-submit"), chromedp.WaitVisible("#link-indicator"),
		}
	}
	page := "/extradition/cases/c/" + cs.ID
	// 1. The US legal officer keeps the case open.
	if err := chromedp.Run(us, login(p.URL("US"), "doj"), chromedp.Navigate(p.URL("US")+page), chromedp.WaitVisible("#case-clocks")); err != nil {
		t.Fatal(err)
	}
	until(t, us, "the US page live, no clock yet", `document.body.getAttribute("data-live-ready") === "1" && !document.querySelector("#clock-formal_request")`)
	screenshot(t, us, "case-requested-US.png")

	// 2. Mexico records the arrest from its page.
	if err := chromedp.Run(mx, login(p.URL("MX"), "fgr"), chromedp.Navigate(p.URL("MX")+page), chromedp.WaitVisible("#case-stage")); err != nil {
		t.Fatal(err)
	}
	send(t, mx, map[string]string{"#case-stage": extradition.Arrested, "#case-place": "Hermosillo, Sonora"}, "#case-record")
	until(t, mx, "the arrest on MX", `!!document.querySelector("#clock-formal_request") && document.querySelector("#case-stages").innerText.includes("Detenido")`)
	screenshot(t, mx, "case-arrest-MX.png")

	// 3. The clock appears on the US page without a reload: 60 days.
	until(t, us, "the 60-day clock live on the US", `!!document.querySelector("#clock-formal_request") && document.querySelector("#clock-left-formal_request").innerText.includes("60 days left")`)
	screenshot(t, us, "case-clock-US.png")

	// 4. He uploads the formal request's warrant, certified; it reaches
	// Mexico's open page with its SHA-256.
	until(t, mx, "MX live", `document.body.getAttribute("data-live-ready") === "1"`)
	warrant := []byte("%PDF-1.4 arrest warrant 26-CR-0412")
	sendFile(t, us, "#case-doc-file", "warrant-26-CR-0412.pdf", warrant,
		map[string]string{"#case-doc-kind": "warrant"}, []string{`#case-doc-form input[name="certified"]`}, "#case-doc-add")
	until(t, us, "the warrant on the US page", `document.querySelector("#case-doc-list").innerText.includes("warrant-26-CR-0412.pdf")`)
	sum := sha256.Sum256(warrant)
	until(t, mx, "the warrant live on MX, its bytes' SHA-256 and certified", `(function (t) { return t.includes("warrant-26-CR-0412.pdf") && t.includes(`+strconv.Quote(hex.EncodeToString(sum[:]))+`) && t.includes("certific"); })(document.querySelector("#case-doc-list").innerText)`)
	screenshot(t, mx, "case-documents-MX.png")

	// 5. The formal request stops the clock; Mexico's open page shows it
	// met.
	until(t, us, "the US page ready", `!!document.querySelector("#case-stage") && document.body.getAttribute("data-live-ready") === "1"`)
	send(t, us, map[string]string{"#case-stage": extradition.FormalRequest}, "#case-record")
	until(t, us, "the clock met on the US", `document.querySelector("#clock-formal_request").className.includes("done") && document.querySelector("#clock-formal_request").innerText.includes("met on")`)
	until(t, mx, "the clock met, live on MX", `document.querySelector("#clock-formal_request").innerText.includes("cumplido el")`)
	screenshot(t, mx, "case-clock-stopped-MX.png")
}
