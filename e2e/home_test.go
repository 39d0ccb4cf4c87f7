package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"puente/internal/auth"
	"puente/internal/demo"
	"puente/internal/fault"
	"puente/internal/testenv"
)

// TestHomeWorkListByRole signs in as every demo user on a seeded pair
// and checks that the home page lists what waits for that role: the
// conflict for the Guardia Nacional's coordinator, the unit's report for
// field units, the partner's proposal for the US coordinators, the
// partner's request for FinCEN, nothing for administrators. The home page
// of every user is saved in English and Spanish at 1,280 and 390 px.
func TestHomeWorkListByRole(t *testing.T) {
	testenv.Chromium(t)
	p := testenv.StartPair(t)
	ctx := context.Background()
	password := map[string]string{}
	for _, party := range []string{"MX", "US"} {
		for _, u := range demo.Users[party] {
			_, err := p.Nodes[party].Auth.Create(ctx, auth.NewUser{Username: u.Username, DisplayName: u.Name, Role: u.Role, Agency: u.Agency, Password: demo.Password})
			switch {
			case err == nil:
				password[party+u.Username] = demo.Password
			case errors.Is(err, fault.ErrConflict) || errors.Is(err, auth.ErrInvalid):
				password[party+u.Username] = "bench-password-123" // the pair's own user of that name
			default:
				t.Fatal(err)
			}
		}
	}
	if err := demo.SeedAreas(ctx, p.Nodes["MX"], p.Nodes["US"]); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"MX guardia":      "Conflict to resolve (same place and time)",
		"MX unidad":       "Report your unit's status",
		"US hsi":          "The partner's proposal to answer",
		"US unit":         "Report your unit's status",
		"US analyst":      "The partner's request to answer",
		"MX admin":        "Nothing waits for you",
		"MX capacitacion": "Vet and answer the partner's nominations",
		"US admin":        "Nothing waits for you",
	}
	tab := newBrowser(t, 240*time.Second)
	// The seeded conflict is found within seconds of the seeding.
	testenv.Eventually(t, 30*time.Second, "the seeded conflict", func() bool {
		var n int
		err := p.Nodes["MX"].DB.Read().QueryRow(ctx, `SELECT COUNT(*) FROM op_conflicts`).Scan(&n)
		return err == nil && n >= 2
	})
	// setLang sets the language as the header's buttons do, but waits for
	// it: the POST completes before the page is loaded again, so no action
	// runs while a navigation is in flight.
	setLang := func(base, lang string) chromedp.Tasks {
		js := `fetch("/lang", {method: "POST", credentials: "same-origin", body: new URLSearchParams({lang: "` + lang + `", next: "/"})}).then(r => r.status)`
		var status int
		return chromedp.Tasks{
			chromedp.Evaluate(js, &status, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
			chromedp.Navigate(base + "/"), chromedp.WaitVisible("#work"),
			chromedp.WaitVisible(`#lang-`+lang+`[aria-pressed="true"]`, chromedp.ByQuery),
		}
	}
	for _, party := range []string{"MX", "US"} {
		base := p.URL(party)
		for _, u := range demo.Users[party] {
			who := party + " " + u.Username
			if err := chromedp.Run(tab, chromedp.EmulateViewport(1280, 900),
				chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username"),
				chromedp.SendKeys("#username", u.Username), chromedp.SendKeys("#password", password[party+u.Username]),
				chromedp.Click("#login-submit"), chromedp.WaitVisible("#work"), setLang(base, "en")); err != nil {
				t.Fatalf("%s: signing in: %v", who, err)
			}
			if w, ok := want[who]; ok {
				until(t, tab, fmt.Sprintf("%s's home does not say %q", who, w), `document.querySelector("#work").innerText.includes(`+jsString(w)+`)`)
			}
			name := strings.ToLower(party) + "-home-" + u.Username
			screenshot(t, tab, name+"-en-1280.png")
			if err := chromedp.Run(tab, chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/"), chromedp.WaitVisible("#work")); err != nil {
				t.Fatalf("%s: %v", who, err)
			}
			screenshot(t, tab, name+"-en-390.png")
			if err := chromedp.Run(tab, setLang(base, "es")); err != nil {
				t.Fatalf("%s: Spanish: %v", who, err)
			}
			screenshot(t, tab, name+"-es-390.png")
			if err := chromedp.Run(tab, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/"), chromedp.WaitVisible("#work")); err != nil {
				t.Fatalf("%s: %v", who, err)
			}
			screenshot(t, tab, name+"-es-1280.png")
			if err := chromedp.Run(tab, chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery), chromedp.WaitVisible("#username")); err != nil {
				t.Fatalf("%s: signing out: %v", who, err)
			}
		}
	}
}
