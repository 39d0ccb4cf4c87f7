package e2e

import (
	"encoding/base64"
	"encoding/json"
	"puente/internal/node"
	"strconv"

	"puente/internal/finintel"

	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"puente/internal/auth"
	"puente/internal/match"
	"puente/internal/testenv"
)

// artifactDir is where the browser test leaves its screenshots:
// PUENTE_TEST_ARTIFACTS, or a temporary folder that is logged.
func artifactDir(t *testing.T) string {
	d := os.Getenv("PUENTE_TEST_ARTIFACTS")
	if d == "" {
		d = t.TempDir()
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBrowserLiaison drives a real Chromium: sign in on MX, send a message,
// watch it arrive live in the open US inbox, reply from the US, see the
// reply arrive live on MX, and switch the language.
func TestBrowserLiaison(t *testing.T) {
	testenv.Chromium(t) // skip before starting nodes when there is no browser
	lists, _ := filepath.Abs("../internal/screen/testdata/lists")
	p := testenv.StartPair(t, func(_ string, c *node.Config) { c.ListsDir = lists })
	for party, agency := range map[string]string{"MX": "UIF", "US": "FinCEN"} {
		if _, err := p.Nodes[party].Auth.Create(context.Background(), auth.NewUser{Username: "web", DisplayName: "Web " + party, Role: auth.Analyst, Agency: agency, Password: "browser-password", Lang: ""}); err != nil {
			t.Fatal(err)
		}
	}
	mxTab := newBrowser(t, 120*time.Second)
	usTab, cancel := chromedp.NewContext(mxTab)
	defer cancel()
	usTab, cancel = context.WithTimeout(usTab, 120*time.Second)
	defer cancel()

	login := func(base string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.Navigate(base + "/login"),
			chromedp.WaitVisible("#username"),
			chromedp.SendKeys("#username", "web"),
			chromedp.SendKeys("#password", "browser-password"),
			chromedp.Click("#login-submit"),
			chromedp.WaitVisible("#link-indicator"),
		}
	}
	shot := func(tab context.Context, name string) { screenshot(t, tab, name) }

	// 1. Sign in on both sides; the US analyst keeps the inbox open.
	if err := chromedp.Run(usTab, login(p.URL("US")), chromedp.Navigate(p.URL("US")+"/inbox"),
		chromedp.WaitVisible("body[data-live-ready]", chromedp.ByQuery)); err != nil {
		t.Fatalf("US sign-in: %v", err)
	}
	if err := chromedp.Run(mxTab, login(p.URL("MX"))); err != nil {
		t.Fatalf("MX sign-in: %v", err)
	}

	// 2. MX sends a message.
	subject := "Prueba en navegador " + time.Now().Format("150405")
	if err := chromedp.Run(mxTab,
		chromedp.Navigate(p.URL("MX")+"/threads/new"),
		chromedp.WaitVisible("#subject"),
		chromedp.SetValue("#to_agency", "FinCEN"),
		chromedp.SendKeys("#subject", subject),
		chromedp.SendKeys("#body", "Mensaje enviado desde Chromium."),
		chromedp.Click("#send"),
		chromedp.WaitVisible("#messages"),
	); err != nil {
		t.Fatalf("sending from MX: %v", err)
	}
	sentAt := time.Now()

	// 3. It appears in the open US inbox without a reload.
	var row string
	if err := chromedp.Run(usTab, chromedp.Poll(`document.querySelector("#threads").innerText.includes(`+jsString(subject)+`)`, nil,
		chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)), chromedp.Text("#threads", &row)); err != nil {
		c, _ := p.Nodes["US"].Link.Counts(context.Background())
		var html string
		_ = chromedp.Run(usTab, chromedp.OuterHTML("body", &html))
		t.Fatalf("the message never appeared live in the US inbox: %v (US received %d envelopes)\n%s", err, c.Received, html)
	}
	t.Logf("the message appeared in the open US inbox %s after sending", time.Since(sentAt).Round(time.Millisecond))
	shot(usTab, "us-inbox-live.png")

	// 4. The US replies; MX, with the thread open, sees it arrive live.
	// The inbox and the thread refresh live: each click finds its
	// element and clicks it in one step.
	clickLiveText(t, usTab, "#threads a", subject)
	send(t, usTab, map[string]string{"#reply-body": "Received, thank you."}, "#reply-send")
	if err := chromedp.Run(usTab, chromedp.WaitVisible("#messages")); err != nil {
		t.Fatalf("replying from the US: %v", err)
	}
	if err := chromedp.Run(mxTab, chromedp.Poll(`document.querySelector("#messages").innerText.includes("Received, thank you.")`, nil,
		chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("the reply never appeared live on MX: %v", err)
	}
	// The first message shows it was delivered and read.
	if err := chromedp.Run(mxTab, chromedp.Poll(`document.querySelector("#messages li").innerText.includes("read by")`, nil,
		chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("MX never saw the read receipt: %v", err)
	}

	// 5. Switch the language.
	var nav string
	if err := chromedp.Run(mxTab, chromedp.Click("#lang-es"), chromedp.WaitReady(`html[lang="es"]`, chromedp.ByQuery), chromedp.WaitVisible("#nav-inbox"), chromedp.Text("#nav-inbox", &nav)); err != nil {
		t.Fatalf("switching language: %v", err)
	}
	if strings.TrimSpace(nav) != "Bandeja" {
		t.Fatalf("after switching to Spanish the inbox link reads %q", nav)
	}
	// The US analyst's read came back as an access report, shown on the
	// MX message.
	if err := chromedp.Run(mxTab, chromedp.Poll(`(document.querySelector("#messages li .access")||{innerText:""}).innerText.includes("Web US (FinCEN)") || (document.querySelector("#messages li .access")||{innerText:""}).innerText.includes("web (FinCEN)")`, nil,
		chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		var html string
		_ = chromedp.Run(mxTab, chromedp.OuterHTML("#messages", &html))
		t.Fatalf("MX never showed the US access report: %v\n%s", err, html)
	}
	// 6. Screenshot as a test artefact.
	shot(mxTab, "mx-thread-es.png")

	// 7. An MX auditor opens the audit page: the log, witnessed by the US.
	if _, err := p.Nodes["MX"].Auth.Create(context.Background(), auth.NewUser{Username: "aud", DisplayName: "Auditora", Role: auth.Auditor, Agency: "SRE", Password: "browser-password"}); err != nil {
		t.Fatal(err)
	}
	audTab, cancel := chromedp.NewContext(mxTab)
	defer cancel()
	var witnessed string
	if err := chromedp.Run(audTab,
		chromedp.Navigate(p.URL("MX")+"/login"), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "aud"), chromedp.SendKeys("#password", "browser-password"),
		chromedp.Click("#login-submit"), chromedp.WaitVisible("#link-indicator"),
		chromedp.Click("#nav-audit"), chromedp.WaitVisible("#log-size"),
		chromedp.Poll(`document.querySelector("#witnessed").innerText.match(/\d+/) !== null`, nil,
			chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)),
		chromedp.Text("#witnessed", &witnessed),
	); err != nil {
		t.Fatalf("the audit page: %v", err)
	}
	t.Logf("audit page: %s", witnessed)
	shot(audTab, "mx-audit.png")

	// 8. The MX analyst screens a name with a typo against the lists.
	var top string
	if err := chromedp.Run(mxTab,
		chromedp.Click("#nav-screen"), chromedp.WaitVisible("#screen-name"),
		chromedp.SendKeys("#screen-name", "Ismael Sambada"), chromedp.SendKeys("#screen-dob", "1948"),
		chromedp.Click("#screen-submit"), chromedp.WaitVisible("#screen-results"),
		chromedp.Text("#screen-results tbody tr", &top),
	); err != nil {
		t.Fatalf("screening: %v", err)
	}
	if !strings.Contains(top, "ZAMBADA GARCIA, Ismael") || !strings.Contains(top, "7226") {
		t.Fatalf("the first screening result is %q", top)
	}
	shot(mxTab, "mx-screen.png")

	// 9. A blind lookup with a hit: MX's index holds a phone; the US
	// analyst looks it up without MX learning which number was asked.
	if _, err := match.Of(p.Nodes["MX"]).Import(context.Background(), []match.Subject{{Ref: "mx-phone", Name: "Prueba", Phone: "+52 667 555 0101"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the US holding MX's filter", func() bool {
		u, err := match.Of(p.Nodes["US"]).TodayUsage(context.Background())
		return err == nil && u.PartnerKeys >= 1
	})
	var verdict string
	if err := chromedp.Run(usTab,
		chromedp.Navigate(p.URL("US")+"/match"), chromedp.WaitVisible("#match-phone"),
		chromedp.SendKeys("#match-phone", "+52 (667) 555-0101"),
		chromedp.Click("#match-submit"), chromedp.WaitVisible("#match-result"),
		chromedp.Text("#match-result h2", &verdict),
	); err != nil {
		t.Fatalf("blind lookup: %v", err)
	}
	if !strings.Contains(verdict, "MX") || !strings.Contains(strings.ToLower(verdict), "hit") && !strings.Contains(strings.ToLower(verdict), "coincidencia") {
		t.Fatalf("the blind lookup said %q", verdict)
	}
	shot(usTab, "us-blind-lookup.png")

	// 10. Step 2: the hit offers a prefilled request for information.
	var rfiTitle string
	if err := chromedp.Run(usTab, chromedp.Click("#match-request"), chromedp.WaitVisible("#rfi-title"), chromedp.Value("#rfi-title", &rfiTitle),
		chromedp.Click("#rfi-send")); err != nil {
		t.Fatalf("step 2, the request for information: %v", err)
	}
	until(t, usTab, "the request for information was not sent", `document.querySelector("#rfi-status") !== null`)
	if rfiTitle == "" {
		t.Fatal("the request for information was not prefilled")
	}
	// The lookup counts on the Reciprocity page: one asked by the US.
	var recip string
	if err := chromedp.Run(usTab, chromedp.Click("#nav-reciprocity"), chromedp.WaitVisible("#recip-match"), chromedp.Text("#recip-match tbody tr", &recip)); err != nil {
		t.Fatalf("the reciprocity page: %v", err)
	}
	if f := strings.Fields(recip); len(f) < 2 || f[len(f)-1] != "1" || f[len(f)-2] != "0" {
		t.Fatalf("blind lookups asked (MX, US) read %q", recip)
	}
	shot(usTab, "us-reciprocity.png")
	testenv.Eventually(t, 15*time.Second, "the request reaching MX", func() bool {
		f, err := finintel.Of(p.Nodes["MX"]).Figures(context.Background())
		return err == nil && f.Sides[1].RFIsSent == 1
	})
}

func jsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// send fills the fields (by CSS selector) and clicks button in one step
// in the page: a live region may be refreshed by the event of the step
// just taken, and a node found before a refresh is gone after it (what
// the user typed is kept, but the test's handle on the node is not).
func send(t *testing.T, c context.Context, fields map[string]string, button string) {
	t.Helper()
	vals, _ := json.Marshal(fields)
	// Once every field and the button are on the page, in one step: on a
	// page a live event refreshes, a node found a moment before may be
	// gone by the time it is typed into.
	until(t, c, button+" and its fields never showed", `(function (v, b) {
		var btn = document.querySelector(b);
		if (!btn || btn.offsetParent === null || btn.disabled) return false;
		for (var sel in v) if (!document.querySelector(sel)) return false;
		for (var sel in v) document.querySelector(sel).value = v[sel];
		btn.click(); return true; })(`+string(vals)+`, `+strconv.Quote(button)+`)`)
}

// sendFile is send for a form with a file: once the file input, every
// field, every box to tick and the button are on the page, it puts the
// file (name, content) in fileSel from page script, fills the fields,
// ticks the boxes and clicks, in one step, so that a live refresh cannot
// replace the form between a chosen file and the click.
func sendFile(t *testing.T, c context.Context, fileSel, name string, content []byte, fields map[string]string, ticks []string, button string) {
	t.Helper()
	if fields == nil {
		fields = map[string]string{}
	}
	if ticks == nil {
		ticks = []string{}
	}
	vals, _ := json.Marshal(fields)
	boxes, _ := json.Marshal(ticks)
	until(t, c, button+" with a file never showed", `(function (fs, name, b64, v, ticks, b) {
		var btn = document.querySelector(b), input = document.querySelector(fs);
		if (!btn || btn.offsetParent === null || btn.disabled || !input) return false;
		for (var sel in v) if (!document.querySelector(sel)) return false;
		for (var i = 0; i < ticks.length; i++) if (!document.querySelector(ticks[i])) return false;
		var raw = atob(b64), bytes = new Uint8Array(raw.length);
		for (var j = 0; j < raw.length; j++) bytes[j] = raw.charCodeAt(j);
		var dt = new DataTransfer();
		dt.items.add(new File([bytes], name));
		input.files = dt.files;
		for (var sel in v) document.querySelector(sel).value = v[sel];
		for (var i = 0; i < ticks.length; i++) document.querySelector(ticks[i]).checked = true;
		btn.click(); return true; })(`+strconv.Quote(fileSel)+`, `+strconv.Quote(name)+`, `+strconv.Quote(base64.StdEncoding.EncodeToString(content))+`, `+string(vals)+`, `+string(boxes)+`, `+strconv.Quote(button)+`)`)
}

// clickLive clicks the element sel once it is shown, finding and clicking
// it in one step in the page: on a page a live event refreshes, a node
// the test found a moment before may be gone by the time it clicks.
func clickLive(t *testing.T, c context.Context, sel string) {
	t.Helper()
	clickLiveText(t, c, sel, "")
}

// clickLiveText is clickLive for the first shown, enabled element
// matching sel whose text includes text (a thread's link in a live
// inbox, say; any text when it is empty).
func clickLiveText(t *testing.T, c context.Context, sel, text string) {
	t.Helper()
	what := sel + " never showed to be clicked"
	if text != "" {
		what = sel + " with " + strconv.Quote(text) + " never showed to be clicked"
	}
	until(t, c, what, `(function (s, x) { var all = document.querySelectorAll(s);
		for (var i = 0; i < all.length; i++) { var b = all[i]; if (b.innerText.includes(x) && b.offsetParent !== null && !b.disabled) { b.click(); return true; } }
		return false; })(`+strconv.Quote(sel)+`, `+strconv.Quote(text)+`)`)
}

// until evaluates js in c until it is true, across the navigation a form
// post causes, or fails the test after 15 s with the page's main part.
func until(t *testing.T, c context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var ok bool
		if err := chromedp.Run(c, chromedp.Evaluate(js, &ok)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var html string
			_ = chromedp.Run(c, chromedp.OuterHTML("main", &html))
			t.Fatalf("%s:\n%s", what, html)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
