package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"puente/internal/auth"
	"puente/internal/testenv"
)

// TestBrowserFinIntel drives the third-party rule in a real Chromium: a US
// analyst drafts a disclosure, a US supervisor releases it, the MX analyst
// sees it arrive live, asks for consent to pass it to FGR, the US grants
// it, and the MX analyst passes it on, which FGR then sees.
func TestBrowserFinIntel(t *testing.T) {
	testenv.Chromium(t) // skip before starting nodes when there is no browser
	p := testenv.StartPair(t)
	ctx := context.Background()
	for _, u := range []struct {
		party string
		nu    auth.NewUser
	}{
		{"US", auth.NewUser{Username: "fin-analyst", DisplayName: "Alex (FinCEN)", Role: auth.Analyst, Agency: "FinCEN", Password: "browser-password"}},
		{"US", auth.NewUser{Username: "fin-super", DisplayName: "Sam (FinCEN)", Role: auth.Supervisor, Agency: "FinCEN", Password: "browser-password"}},
		{"MX", auth.NewUser{Username: "uif", DisplayName: "Ana (UIF)", Role: auth.Analyst, Agency: "UIF", Password: "browser-password", Lang: "es"}},
		{"MX", auth.NewUser{Username: "fgr", DisplayName: "Fiscal (FGR)", Role: auth.Analyst, Agency: "FGR", Password: "browser-password"}},
	} {
		if _, err := p.Nodes[u.party].Auth.Create(ctx, u.nu); err != nil {
			t.Fatal(err)
		}
	}
	us := newBrowser(t, 150*time.Second)
	mx, cancel := chromedp.NewContext(us)
	defer cancel()

	login := func(base, user string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.Navigate(base + "/login"), chromedp.WaitVisible("#username"),
			chromedp.SendKeys("#username", user), chromedp.SendKeys("#password", "browser-password"),
			chromedp.Click("#login-submit"), chromedp.WaitVisible("#link-indicator"),
		}
	}
	logout := chromedp.Tasks{chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery), chromedp.WaitVisible("#username")}
	shot := func(tab context.Context, name string) { screenshot(t, tab, name) }
	poll := func(c context.Context, what, js string) {
		t.Helper()
		if err := chromedp.Run(c, chromedp.Poll(js, nil, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			var html string
			_ = chromedp.Run(c, chromedp.OuterHTML("main", &html))
			t.Fatalf("%s: %v\n%s", what, err, html)
		}
	}
	// flashed waits for the page that a form post redirected to.
	flashed := func(c context.Context, text string) {
		t.Helper()
		until(t, c, "no confirmation "+text, `(document.querySelector("#fi-flash")||{innerText:""}).innerText.includes(`+jsString(text)+`)`)
	}
	evidence := []byte("date,amount\n2025-10-01,950000.00\n")
	title := "Red Pacífico in the browser " + time.Now().Format("150405")

	// 1. A US analyst drafts a disclosure with one subject and submits it.
	var disclosureURL string
	if err := chromedp.Run(us, login(p.URL("US"), "fin-analyst"),
		chromedp.Click("#nav-finintel"), chromedp.WaitVisible("#fi-new"), chromedp.Click("#fi-new"),
		chromedp.WaitVisible("#fi-title"),
		chromedp.SendKeys("#fi-title", title),
		chromedp.SendKeys("#fi-group", "Red Pacífico"),
		chromedp.SendKeys("#fi-narrative", "Cash structured below the threshold, wired to Arizona."),
		chromedp.Click("#fi-create"), chromedp.WaitVisible("#fi-add-subject"),
		chromedp.SendKeys("#sub-given_names", "Mónica"), chromedp.SendKeys("#sub-first_surname", "Ruiz"),
		chromedp.SendKeys("#sub-curp", "RUSM821122MSLZLN09"), // a wrong check digit first
		chromedp.Click("#fi-add-subject-btn"), chromedp.WaitVisible(".error"),
	); err != nil {
		t.Fatalf("US drafting: %v", err)
	}
	var errText string
	if err := chromedp.Run(us, chromedp.Text(".error", &errText)); err != nil || !strings.Contains(errText, "CURP") || !strings.Contains(errText, "check digit") {
		t.Fatalf("a wrong CURP said %q (%v)", errText, err)
	}
	shot(us, "us-finintel-draft-error.png")
	if err := chromedp.Run(us,
		chromedp.SetValue("#sub-curp", "RUSM821122MSLZLN08"),
		chromedp.Click("#fi-add-subject-btn"), chromedp.WaitVisible("#fi-flash"),
	); err != nil {
		t.Fatalf("US adding a subject: %v", err)
	}
	sendFile(t, us, "#fi-attach-file", "wires.csv", evidence, nil, nil, "#fi-attach")
	flashed(us, "Attached")
	if err := chromedp.Run(us,
		chromedp.Click("#fi-submit"),
	); err != nil {
		t.Fatalf("US submitting: %v", err)
	}
	flashed(us, "Submitted for release")
	if err := chromedp.Run(us, chromedp.Location(&disclosureURL)); err != nil {
		t.Fatal(err)
	}
	disclosureURL, _, _ = strings.Cut(disclosureURL, "?")

	// 2. The MX analyst keeps the financial-intelligence page open.
	if err := chromedp.Run(mx, login(p.URL("MX"), "uif"), chromedp.Click("#nav-finintel"), chromedp.WaitVisible("#fi-list"),
		chromedp.WaitVisible("body[data-live-ready]", chromedp.ByQuery)); err != nil {
		t.Fatalf("MX sign-in: %v", err)
	}

	// 3. A US supervisor releases it.
	if err := chromedp.Run(us, logout, login(p.URL("US"), "fin-super"), chromedp.Navigate(disclosureURL)); err != nil {
		t.Fatalf("US release: %v", err)
	}
	clickLive(t, us, "#fi-release") // the disclosure page refreshes live

	flashed(us, "Released to the partner")
	released := time.Now()

	// 4. It appears live on MX.
	poll(mx, "the disclosure never appeared live on MX", `document.querySelector("#fi-list").innerText.includes(`+jsString(title)+`)`)
	t.Logf("the released disclosure appeared on the open MX page %s after release", time.Since(released).Round(time.Millisecond))
	shot(mx, "mx-finintel-live.png")

	// 5. The MX analyst opens it: passing it to FGR is not offered, the
	// page says it needs consent, and she asks for it.
	// The list is a live region: the screening of what arrived refreshes
	// it, so the link is found and clicked in one step in the page.
	var clicked bool
	if err := chromedp.Run(mx, chromedp.Evaluate(`(function (t) { var a = Array.from(document.querySelectorAll("#fi-list a")).find(function (a) { return a.innerText.includes(t); }); if (!a) return false; a.click(); return true; })(`+jsString(title)+`)`, &clicked)); err != nil || !clicked {
		t.Fatalf("MX opening the disclosure: the link is not on the page (%v)", err)
	}
	// The disclosure's page is live too (its screening box fills in when
	// the screening finishes), so it is read in the page, not by node.
	until(t, mx, "the disclosure's page with its file and the consent notice", `document.querySelector("#fi-use") !== null &&
		Array.from(document.querySelectorAll("a")).some(function (a) { return a.innerText.includes("wires.csv"); }) &&
		document.querySelector("#passon-needs-consent") !== null`)
	if err := chromedp.Run(mx, chromedp.Evaluate(`document.querySelector("#passon-needs-consent").innerText`, &errText)); err != nil {
		t.Fatalf("MX reading the consent notice: %v", err)
	}
	if !strings.Contains(errText, "FGR") || !strings.Contains(errText, "consentimiento") {
		t.Fatalf("the page said %q", errText)
	}
	var offered bool
	if err := chromedp.Run(mx, chromedp.Evaluate(`!!document.querySelector('#passon-agency option[value="FGR"]')`, &offered)); err != nil || offered {
		t.Fatalf("passing on to FGR is offered before consent (%v)", err)
	}
	// The disclosure refreshes live: its fields and button in one step.
	send(t, mx, map[string]string{"#consent-agency": "FGR", "#consent-reason": "La FGR abrió una carpeta de investigación."}, "#fi-consent-ask")
	flashed(mx, "Consentimiento solicitado")

	// 6. The US supervisor, with the disclosure open, sees the request
	// arrive live and grants it.
	if err := chromedp.Run(us, chromedp.Navigate(disclosureURL), chromedp.WaitVisible("body[data-live-ready]", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	poll(us, "the consent request never appeared on the US page", `document.querySelector("button.grant") !== null`)
	shot(us, "us-finintel-consent-request.png")
	clickLive(t, us, "button.grant")
	flashed(us, "Decision sent")

	// 7. The MX page shows the grant live; the analyst passes it on.
	poll(mx, "the grant never appeared on MX", `document.querySelector("#fi-consents").innerText.includes("otorgado")`)
	poll(mx, "FGR is not offered after the grant", `!!document.querySelector('#passon-agency option[value="FGR"]')`)
	send(t, mx, map[string]string{"#passon-agency": "FGR"}, "#fi-passon")
	flashed(mx, "Transmitida")
	poll(mx, "the passing-on is not listed", `document.querySelector("#fi-disseminations").innerText.includes("FGR")`)
	shot(mx, "mx-finintel-passed-on.png")

	// 8. The US supervisor sees the passing-on reported back.
	poll(us, "the US never saw the access report", `(document.querySelector("#fi-access")||{innerText:""}).innerText.includes("FGR")`)
	shot(us, "us-finintel-access-report.png")

	// FGR now sees it on MX.
	if err := chromedp.Run(mx, logout, login(p.URL("MX"), "fgr"), chromedp.Click("#nav-finintel"), chromedp.WaitVisible("#fi-list")); err != nil {
		t.Fatalf("FGR sign-in: %v", err)
	}
	poll(mx, "FGR does not see the disclosure passed on to it", `document.querySelector("#fi-list").innerText.includes(`+jsString(title)+`)`)
}
