package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"puente/internal/auth"
	"puente/internal/testenv"
)

// TestBrowserTraining drives the training cycle in a real Chromium, in
// both languages: a US training coordinator offers a course that needs
// vetting, a second publishes it (the author is told to ask someone
// else), Mexico's coordinator nominates an FGR investigator in Spanish,
// the US sees the seat cannot be confirmed before vetting, records the
// vetting as approved, confirms the seat, records the day's attendance
// and a pass; the certificate appears on Mexico's page without a reload
// and opens as a page with its download. Screenshots at each step.
func TestBrowserTraining(t *testing.T) {
	testenv.Chromium(t)
	p := testenv.StartPair(t)
	ctx := context.Background()
	for _, u := range []struct {
		party string
		nu    auth.NewUser
	}{
		{"US", auth.NewUser{Username: "pat", DisplayName: "Pat Kim (STATE)", Role: auth.Training, Agency: "STATE", Password: "browser-password"}},
		{"US", auth.NewUser{Username: "inl", DisplayName: "Morgan Reyes (INL)", Role: auth.Training, Agency: "STATE", Password: "browser-password"}},
		{"MX", auth.NewUser{Username: "cap", DisplayName: "Jorge Medina (SEDENA)", Role: auth.Training, Agency: "SEDENA", Password: "browser-password", Lang: "es"}},
	} {
		if _, err := p.Nodes[u.party].Auth.Create(ctx, u.nu); err != nil {
			t.Fatal(err)
		}
	}
	us := newBrowser(t, 240*time.Second)
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
	today := time.Now().UTC().Format(time.DateOnly)
	end := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)

	// 1. Pat drafts the course; she may not publish her own draft.
	if err := chromedp.Run(us, chromedp.EmulateViewport(1280, 900), login(p.URL("US"), "pat"), chromedp.Navigate(p.URL("US")+"/training/new"), chromedp.WaitVisible("#trn-form")); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := chromedp.Run(us, chromedp.Evaluate(`document.querySelector("#trn-vetting").checked = true; true`, &ok)); err != nil {
		t.Fatal(err)
	}
	// An offer that ends before it starts: the summary at the top, the
	// field marked, its reason beside it, the focus on it.
	send(t, us, map[string]string{"#trn-title": "Backwards", "#trn-subject": "firearm_tracing", "#trn-place": "Nogales, AZ",
		"#trn-start": end, "#trn-end": today, "#trn-seats": "10", "#trn-hours": "24", "#trn-instructors": "Jordan Lee | ATF"}, "#trn-save")
	until(t, us, "the end date marked", `document.querySelector("#error-summary") !== null && document.querySelector("#trn-end").classList.contains("field-error") && document.activeElement && document.activeElement.id === "trn-end" && document.querySelector("#field-msg").innerText.includes("ends before it starts")`)
	screenshot(t, us, "training-0-field-error-us.png")
	if err := chromedp.Run(us, chromedp.Evaluate(`document.querySelector("#trn-vetting").checked = true; true`, &ok)); err != nil {
		t.Fatal(err)
	}
	send(t, us, map[string]string{"#trn-title": "Firearm tracing and eTrace for investigators", "#trn-subject": "firearm_tracing", "#trn-place": "Nogales, AZ",
		"#trn-start": today, "#trn-end": end, "#trn-nominate-by": today, "#trn-seats": "10", "#trn-hours": "24",
		"#trn-instructors": "Jordan Lee | ATF\nSandra Ruiz | ATF", "#trn-cost": "20000"}, "#trn-save")
	until(t, us, "the draft", `document.querySelector("#trn-four-eyes") !== null && document.querySelector("#trn-state").innerText.includes("Draft")`)
	var offerURL string
	if err := chromedp.Run(us, chromedp.Location(&offerURL)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, us, "training-1-draft-us.png")

	// 2. Morgan publishes it.
	if err := chromedp.Run(us, logout, login(p.URL("US"), "inl"), chromedp.Navigate(offerURL), chromedp.WaitVisible("#trn-publish")); err != nil {
		t.Fatal(err)
	}
	send(t, us, nil, "#trn-publish")
	until(t, us, "published", `document.querySelector("#trn-state").innerText.includes("Open")`)

	// 3. Mexico's coordinator sees it in Spanish and nominates.
	mxOffer := p.URL("MX") + offerURL[len(p.URL("US")):]
	if err := chromedp.Run(mx, chromedp.EmulateViewport(1280, 900), login(p.URL("MX"), "cap")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var found bool
		if err := chromedp.Run(mx, chromedp.Navigate(mxOffer), chromedp.Evaluate(`document.querySelector("#trn-nominate-form") !== null`, &found)); err == nil && found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the offer never reached Mexico")
		}
		time.Sleep(200 * time.Millisecond)
	}
	until(t, mx, "Spanish", `document.querySelector("#trn-vetting-required").innerText.includes("Requiere verificación")`)
	// Mexico's home lists the offer to nominate to; the nomination takes
	// it off, live, in another tab.
	mxHome, cancelHome := chromedp.NewContext(mx)
	defer cancelHome()
	if err := chromedp.Run(mxHome, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(p.URL("MX")+"/"), chromedp.WaitVisible("#work"),
		chromedp.WaitVisible("body[data-live-ready]", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	until(t, mxHome, "the offer on Mexico's work list", `document.querySelector("#work").innerText.includes("Firearm tracing and eTrace for investigators")`)
	// Its deadline is shown in the viewer's own zone, named, with UTC on hover.
	until(t, mxHome, "the deadline in the viewer's zone", `(function () { var e = document.querySelector("#work time[data-local]"); return !!e && /\d{4}-\d\d-\d\d \d\d:\d\d \S+/.test(e.innerText) && e.title.endsWith("UTC"); })()`)
	send(t, mx, map[string]string{"#trn-nominate-form .p-name": "Mariana López Ríos", "#trn-nominate-form .p-dob": "1982-11-22",
		"#trn-nominate-form .p-id-type": "curp", "#trn-nominate-form .p-id": "ZANM821122MSLMBD07", "#trn-nominate-form .p-rank": "Agente del MP",
		"#trn-nominate-form .p-unit": "AIC Sonora", "#trn-nominate-form .p-agency": "FGR"}, "#trn-nominate")
	until(t, mx, "the nomination", `document.querySelector("#trn-nominations tbody").innerText.includes("Mariana López Ríos") && document.querySelector("#trn-flash") !== null`)
	until(t, mxHome, "the offer off Mexico's work list once nominated", `!document.querySelector("#work").innerText.includes("Firearm tracing and eTrace for investigators")`)
	screenshot(t, mx, "training-2-nominated-mx.png")

	// 4. The US cannot confirm before vetting; records it, then confirms.
	// Pat's home, open in another tab, lists the nomination to answer
	// until the seat is confirmed.
	if err := chromedp.Run(us, logout, login(p.URL("US"), "pat")); err != nil {
		t.Fatal(err)
	}
	usHome, cancelUSHome := chromedp.NewContext(us)
	defer cancelUSHome()
	if err := chromedp.Run(usHome, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(p.URL("US")+"/"), chromedp.WaitVisible("#work"),
		chromedp.WaitVisible("body[data-live-ready]", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	until(t, usHome, "the nomination on the US work list", `document.querySelector("#work").innerText.includes("Vet and answer the partner's nominations")`)
	if err := chromedp.Run(us, chromedp.Navigate(offerURL)); err != nil {
		t.Fatal(err)
	}
	until(t, us, "the nomination on the US, with confirmation held for vetting", `document.querySelector("#trn-nominations").innerText.includes("Mariana") && document.querySelector(".vetting-blocks") !== null && document.querySelector(".confirm-go") === null`)
	screenshot(t, us, "training-3-vetting-pending-us.png")
	send(t, us, map[string]string{".vet-status": "approved", ".vet-date": today, ".vet-unit": "AIC Sonora"}, ".vet-go")
	until(t, us, "vetting approved", `document.querySelector(".confirm-go") !== null && document.querySelector(".vet-approved") !== null`)
	send(t, us, nil, ".confirm-go")
	until(t, us, "the seat confirmed", `document.querySelector("#trn-seats").innerText.includes("1 of 10") && document.querySelector(".att-go") !== null`)
	until(t, usHome, "the nomination off the US work list once answered", `!document.querySelector("#work").innerText.includes("Vet and answer the partner's nominations")`)
	send(t, us, map[string]string{".att-date": today, ".att-hours": "8"}, ".att-go")
	until(t, us, "attendance", `document.querySelector("#trn-nominations").innerText.includes("8 h")`)
	send(t, us, map[string]string{".res-result": "passed"}, ".res-go")
	until(t, us, "the certificate on the US", `document.querySelector(".cert-link") !== null`)
	screenshot(t, us, "training-4-passed-us.png")

	// 5. Mexico's page shows the certificate without a reload.
	until(t, mx, "the certificate on Mexico's open page", `document.querySelector(".cert-link") !== null && document.querySelector("#trn-nominations").innerText.includes("Aprobado")`)
	clickLive(t, mx, ".cert-link") // on the offer's live page
	if err := chromedp.Run(mx, chromedp.WaitVisible("#trn-certificate")); err != nil {
		t.Fatal(err)
	}
	until(t, mx, "the certificate page", `document.querySelector("#trn-cert-name").innerText.includes("Mariana López Ríos") && document.querySelector("#trn-cert-state").innerText.includes("Vigente") && document.querySelector("#trn-cert-download") !== null`)
	screenshot(t, mx, "training-5-certificate-mx.png")
	if err := chromedp.Run(mx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, mx, "training-5-certificate-mx-390.png")
	// On a phone the pages fit the screen's width: nothing to scroll
	// sideways but a wide table inside itself.
	for _, page := range []string{p.URL("MX") + "/", p.URL("MX") + "/training", p.URL("MX") + "/training/certificates", mxOffer} {
		if err := chromedp.Run(mx, chromedp.Navigate(page), chromedp.WaitVisible("main")); err != nil {
			t.Fatal(err)
		}
		until(t, mx, "the page "+page+" wider than a phone", `document.documentElement.scrollWidth <= window.innerWidth + 1`)
	}
	screenshot(t, mx, "training-5-offer-mx-390.png")

	// 6. The scorecard shows the training figures, the same on both.
	if err := chromedp.Run(mx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(p.URL("MX")+"/reciprocity"), chromedp.WaitVisible("#recip-training")); err != nil {
		t.Fatal(err)
	}
	until(t, mx, "the certificate in the scorecard", `document.querySelector("#recip-training").innerText.includes("Constancias emitidas") && document.querySelector("#recip-training svg.spark") !== null`)
	screenshot(t, mx, "training-6-scorecard-mx.png")
}
