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

// TestBrowserOperations drives a mirror operation in a real Chromium: a
// US coordinator plans it, a US supervisor releases it, the Guardia
// Nacional's coordinator sees it arrive live and accepts it with her
// side, starts it, and reports her unit's position; the report appears on
// the US board, open in another tab, without a reload. Both boards are
// saved as screenshots.
func TestBrowserOperations(t *testing.T) {
	testenv.Chromium(t)
	p := testenv.StartPair(t)
	ctx := context.Background()
	for _, u := range []struct {
		party string
		nu    auth.NewUser
	}{
		{"US", auth.NewUser{Username: "cbp", DisplayName: "Casey (CBP)", Role: auth.Coordinator, Agency: "CBP", Password: "browser-password"}},
		{"US", auth.NewUser{Username: "watch", DisplayName: "Dana (CBP)", Role: auth.Supervisor, Agency: "CBP", Password: "browser-password"}},
		{"MX", auth.NewUser{Username: "gn", DisplayName: "Gabriela (GN)", Role: auth.Coordinator, Agency: "GN", Password: "browser-password", Lang: "es"}},
	} {
		if _, err := p.Nodes[u.party].Auth.Create(ctx, u.nu); err != nil {
			t.Fatal(err)
		}
	}
	us := newBrowser(t, 240*time.Second)
	mx, cancel := chromedp.NewContext(us)
	defer cancel()
	board, cancelBoard := chromedp.NewContext(us)
	defer cancelBoard()
	login := func(base, user string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.Navigate(base + "/login"), chromedp.WaitVisible("#username"),
			chromedp.SendKeys("#username", user), chromedp.SendKeys("#password", "browser-password"),
			chromedp.Click("#login-submit"), chromedp.WaitVisible("#link-indicator"),
		}
	}
	logout := chromedp.Tasks{chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery), chromedp.WaitVisible("#username")}
	flashed := func(c context.Context, text string) {
		t.Helper()
		until(t, c, "no confirmation "+text, `(document.querySelector("#ops-flash")||{innerText:""}).innerText.includes(`+jsString(text)+`)`)
	}
	// The window in Tucson's own zone (Arizona keeps no daylight saving).
	phx, err := time.LoadLocation("America/Phoenix")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(20 * time.Minute).In(phx).Format("2006-01-02T15:04")
	end := time.Now().Add(6 * time.Hour).In(phx).Format("2006-01-02T15:04")
	title := "Altar valley " + time.Now().Format("150405")
	// Each phase logs its time, so a slow one names itself.
	began := time.Now()
	phase := func(name string) { t.Logf("%6.1fs %s", time.Since(began).Seconds(), name) }

	// 1. The US coordinator plans it; a point across the border is refused.
	if err := chromedp.Run(us, login(p.URL("US"), "cbp"),
		chromedp.Click("#nav-operations"), chromedp.WaitVisible("#ops-new"), chromedp.Click("#ops-new"), chromedp.WaitVisible("#ops-title"),
		chromedp.SendKeys("#ops-title", title), chromedp.SetValue("#ops-pair", "tca-son"),
		chromedp.SetValue("#ops-start", start), chromedp.SetValue("#ops-end", end),
		chromedp.SendKeys("#ops-lat", "30.90"), chromedp.SendKeys("#ops-lon", "-111.55"), // Sonora: the wrong side
		chromedp.SendKeys("#unit-callsign-0", "BORTAC-1"), chromedp.Click(`input[name="unit_shared_0"]`, chromedp.ByQuery),
		chromedp.SendKeys("#ops-contact", "Tucson command post +1 520 555 0100"), chromedp.Click("#ops-cp-GN"),
		chromedp.Click("#ops-save"), chromedp.WaitVisible("#error-summary"),
	); err != nil {
		t.Fatalf("US planning: %v", err)
	}
	var errText string
	if err := chromedp.Run(us, chromedp.Text("#error-summary", &errText)); err != nil || !strings.Contains(errText, "other side of the border") {
		t.Fatalf("a point in Sonora said %q (%v)", errText, err)
	}
	screenshot(t, us, "us-operation-wrong-side.png")
	if err := chromedp.Run(us, chromedp.SetValue("#ops-lat", "31.62"), chromedp.Click("#ops-cp-GN"), chromedp.Click("#ops-save")); err != nil {
		t.Fatalf("US planning: %v", err)
	}
	flashed(us, "Saved")
	var opURL string
	if err := chromedp.Run(us, chromedp.Location(&opURL)); err != nil {
		t.Fatal(err)
	}
	opURL, _, _ = strings.Cut(opURL, "?")
	id := opURL[strings.LastIndex(opURL, "/")+1:]

	phase("planned")
	// 2. The MX coordinator keeps her operations open; the US supervisor
	// releases (the author could not).
	if err := chromedp.Run(mx, login(p.URL("MX"), "gn"), chromedp.Click("#nav-operations"), chromedp.WaitVisible("#ops-list"),
		chromedp.WaitVisible("body[data-live-ready]", chromedp.ByQuery)); err != nil {
		t.Fatalf("MX sign-in: %v", err)
	}
	if err := chromedp.Run(us, logout, login(p.URL("US"), "watch"), chromedp.Navigate(opURL)); err != nil {
		t.Fatalf("US release: %v", err)
	}
	clickLive(t, us, "#op-release")
	flashed(us, "Released to the partner")

	phase("released")
	// 3. It appears on MX without a reload, and on her home page's work
	// list; one click there takes her to the answer.
	until(t, mx, "the proposal never appeared on MX", `!!document.querySelector("#op-`+id+`")`)
	if err := chromedp.Run(mx, chromedp.Navigate(p.URL("MX")+"/"), chromedp.WaitVisible("#work")); err != nil {
		t.Fatalf("MX home: %v", err)
	}
	until(t, mx, "the proposal is not on MX's work list", `document.querySelector("#work").innerText.includes(`+jsString(title)+`)`)
	screenshot(t, mx, "mx-home-work.png")
	// The home page's work list and the operation's page refresh live:
	// each click, and the answer's fields with its button, in one step.
	clickLive(t, mx, `#work a[href="/operations/o/`+id+`"]`)
	send(t, mx, map[string]string{"#ans-lat": "31.40", "#ans-lon": "-111.55", "#unit-callsign-0": "GN-SON-7", "#unit-agency-0": "GN",
		"#ans-contact": "GN Sonora C4 +52 662 555 0199"}, "#op-accept")
	until(t, mx, "not joint on MX", `document.querySelector("#op-status").dataset.status === "joint"`)
	// The page refreshes its status live as the acceptance crosses: the
	// button is found and clicked in one step.
	clickLive(t, mx, "#op-start")
	until(t, mx, "not active on MX", `document.querySelector("#op-status").dataset.status === "active"`)

	phase("accepted and started")
	// 4. The US board is open; a report on MX appears on it live.
	if err := chromedp.Run(board, login(p.URL("US"), "cbp"), chromedp.Navigate(p.URL("US")+"/operations/board"), chromedp.WaitVisible("#board-units"),
		chromedp.WaitVisible("body[data-live-ready]", chromedp.ByQuery)); err != nil {
		t.Fatalf("US board: %v", err)
	}
	until(t, board, "the operation is not active on the US board", `document.querySelector("#board-ops").innerText.includes(`+jsString(title)+`)`)
	if err := chromedp.Run(mx, chromedp.Navigate(p.URL("MX")+"/operations/o/"+id+"/report"), chromedp.WaitVisible("#report-form"),
		chromedp.SetValue("#report-status", "in_position"), chromedp.SendKeys("#report-lat", "31.41"), chromedp.SendKeys("#report-lon", "-111.56"),
		chromedp.SendKeys("#report-note", "en el arroyo"), chromedp.Click("#report-send")); err != nil {
		t.Fatalf("MX report: %v", err)
	}
	until(t, mx, "the report was not taken", `!!document.querySelector("#report-flash")`)
	phase("reported")
	until(t, board, "the MX report never reached the US board", `(document.querySelector("#unit-MX-GN-SON-7")||{dataset:{}}).dataset.status === "in_position"`)
	phase("on the US board")
	screenshot(t, board, "us-operations-board.png")
	phase("US board saved")
	if err := chromedp.Run(mx, chromedp.Navigate(p.URL("MX")+"/operations/board"), chromedp.WaitVisible("#unit-MX-GN-SON-7")); err != nil {
		t.Fatalf("MX board: %v", err)
	}
	phase("MX board open")
	screenshot(t, mx, "mx-operations-board.png")
	phase("MX board saved")
	if err := chromedp.Run(mx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(p.URL("MX")+"/operations/o/"+id+"/report"), chromedp.WaitVisible("#report-form")); err != nil {
		t.Fatalf("MX report page on a phone: %v", err)
	}
	phase("MX phone page open")
	screenshot(t, mx, "mx-operations-report-390.png")
	phase("done")
}
