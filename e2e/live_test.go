package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"puente/internal/auth"
	"puente/internal/liaison"
	"puente/internal/testenv"
)

// TestLiveStateIsNeverLost: the sender's page turns to "delivered" without
// a reload; and when its event stream connects late, after the partner
// has read the message, it still turns to "read" once the stream opens,
// without a reload (the stream starts where the page's rendering left
// off and refreshes what was missed).
func TestLiveStateIsNeverLost(t *testing.T) {
	testenv.Chromium(t)
	p := testenv.StartPair(t)
	ctx := context.Background()
	if _, err := p.Nodes["MX"].Auth.Create(ctx, auth.NewUser{Username: "web", DisplayName: "Web MX", Role: auth.Analyst, Agency: "UIF", Password: "browser-password"}); err != nil {
		t.Fatal(err)
	}
	tab := newBrowser(t, 90*time.Second)
	poll := func(what, js string) {
		t.Helper()
		if err := chromedp.Run(tab, chromedp.Poll(js, nil, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			var html string
			_ = chromedp.Run(tab, chromedp.OuterHTML("#messages", &html, chromedp.ByQuery))
			t.Fatalf("%s: %v\n%s", what, err, html)
		}
	}
	subject := "En vivo " + time.Now().Format("150405")
	if err := chromedp.Run(tab,
		chromedp.Navigate(p.URL("MX")+"/login"), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "web"), chromedp.SendKeys("#password", "browser-password"), chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#link-indicator"),
		chromedp.Navigate(p.URL("MX")+"/threads/new"), chromedp.WaitVisible("#subject"),
		chromedp.SetValue("#to_agency", "FinCEN"), chromedp.SendKeys("#subject", subject), chromedp.SendKeys("#body", "¿Llega?"),
		chromedp.Click("#send"), chromedp.WaitVisible("#messages"),
	); err != nil {
		t.Fatalf("sending: %v", err)
	}
	// 1. Delivered, live.
	poll("the sender's page never showed the delivery", `document.querySelector("#messages .delivery").classList.contains("delivered")`)

	// 2. The page is opened again with its event stream blocked; the
	// partner reads the message meanwhile; then the stream connects.
	var url string
	if err := chromedp.Run(tab, chromedp.Location(&url)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(tab, network.Enable(),
		network.SetBlockedURLs().WithURLPatterns([]*network.BlockPattern{{URLPattern: "*://*:*/events*", Block: true}}),
		chromedp.Navigate(url), chromedp.WaitVisible("#messages")); err != nil {
		t.Fatal(err)
	}
	threadID := url[strings.LastIndex(url, "/")+1:]
	us := p.Nodes["US"]
	users, _ := us.Auth.List(ctx)
	if _, err := liaison.Of(us).MarkRead(ctx, users[0], threadID); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the read receipt reaching MX", func() bool {
		th, err := liaison.Of(p.Nodes["MX"]).Get(ctx, mustUser(t, p.Nodes["MX"].Auth, "web"), threadID)
		return err == nil && !th.Messages[0].ReadAt.IsZero()
	})
	var before string
	_ = chromedp.Run(tab, chromedp.Text("#messages", &before, chromedp.ByQuery))
	if strings.Contains(before, "read by") {
		t.Fatal("the page already showed the read before its event stream connected: the test proves nothing")
	}
	if err := chromedp.Run(tab, network.SetBlockedURLs().WithURLPatterns(nil)); err != nil {
		t.Fatal(err)
	}
	poll("the page never caught up with the read it missed", `document.querySelector("#messages li").innerText.includes("read by")`)
}

func mustUser(t *testing.T, a *auth.Service, username string) *auth.User {
	t.Helper()
	us, err := a.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Username == username {
			return u
		}
	}
	t.Fatalf("no user %s", username)
	return nil
}
