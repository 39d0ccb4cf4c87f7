package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/seizures"
	"puente/internal/testenv"
	"puente/internal/traces"
)

// TestBrowserSeizuresAndTraces drives a trace in a real Chromium: a
// Sonora state police officer opens a seizure of hers, sees the
// completeness check react as she types a bad request, and prepares a
// trace of the seizure's firearm; FGR sponsors it; ATF, on the US node,
// accepts, works and completes it; the result appears on the FGR page
// without a reload. The seizures dashboards of both nodes, with a few
// months of released seizures, are saved as screenshots with their
// charts.
func TestBrowserSeizuresAndTraces(t *testing.T) {
	testenv.Chromium(t)
	p := testenv.StartPair(t)
	ctx := context.Background()
	users := map[string]*auth.User{}
	for _, u := range []struct {
		party string
		nu    auth.NewUser
	}{
		{"MX", auth.NewUser{Username: "poli", DisplayName: "Marco (SSP Sonora)", Role: auth.Coordinator, Agency: "SSP-SON", Password: "browser-password", Lang: "es"}},
		{"MX", auth.NewUser{Username: "fgr", DisplayName: "Lucía (FGR)", Role: auth.Legal, Agency: "FGR", Password: "browser-password", Lang: "es"}},
		{"MX", auth.NewUser{Username: "mando", DisplayName: "Raúl (GN)", Role: auth.Supervisor, Agency: "SSP-SON", Password: "browser-password"}},
		{"US", auth.NewUser{Username: "atf", DisplayName: "Jordan (ATF)", Role: auth.Coordinator, Agency: "ATF", Password: "browser-password"}},
		{"US", auth.NewUser{Username: "cbp", DisplayName: "Casey (CBP)", Role: auth.Coordinator, Agency: "CBP", Password: "browser-password"}},
		{"US", auth.NewUser{Username: "watch", DisplayName: "Dana (CBP)", Role: auth.Supervisor, Agency: "CBP", Password: "browser-password"}},
	} {
		nu, err := p.Nodes[u.party].Auth.Create(ctx, u.nu)
		if err != nil {
			t.Fatal(err)
		}
		users[u.nu.Username] = nu
	}
	// A few months of released seizures on both sides, for the charts;
	// the state police's own seizure with a rifle, to trace.
	mxs, uss := seizures.Of(p.Nodes["MX"]), seizures.Of(p.Nodes["US"])
	now := time.Now().UTC().Truncate(time.Minute)
	var mxIDs, usIDs []string
	for i := range 24 {
		for _, sd := range []struct {
			svc      *seizures.Service
			u        *auth.User
			ids      *[]string
			lat, lon float64
			pair     string
		}{{mxs, users["poli"], &mxIDs, 31.30, -110.94, "tca-son"}, {uss, users["cbp"], &usIDs, 32.60, -116.90, "sdc-bc"}} {
			in := seizures.Seizure{At: now.AddDate(0, 0, -i*13), Lat: sd.lat, Lon: sd.lon, Pair: sd.pair, Place: "Frontera", Conveyance: "vehicle", Concealment: "tires",
				Items: []seizures.Item{{Kind: seizures.ItemDrug, Drug: seizures.Drugs[i%6], Quantity: float64(10 + i*3), Unit: seizures.UnitKg, Test: "lab"},
					{Kind: seizures.ItemFirearm, Type: seizures.FirearmTypes[i%4], Make: "Colt", Calibre: []string{"9mm", ".223", "7.62x39", ".50 BMG"}[i%4], Serial: fmt.Sprintf("S%d%s", i, sd.pair[:3])}}}
			if i%6 == 1 && sd.pair == "tca-son" {
				in.Items[0].Unit, in.Items[0].Quantity = seizures.UnitUnits, 5000 // fentanyl pills
			}
			sz, err := sd.svc.Record(ctx, sd.u, in)
			if err != nil {
				t.Fatal(err)
			}
			*sd.ids = append(*sd.ids, sz.ID)
		}
	}
	if _, err := mxs.Release(ctx, users["mando"], mxIDs, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := uss.Release(ctx, users["watch"], usIDs, nil, nil); err != nil {
		t.Fatal(err)
	}
	gun, err := mxs.Record(ctx, users["poli"], seizures.Seizure{Ref: "SSP-SON/2026/118", At: now.Add(-3 * time.Hour), Lat: 30.71, Lon: -112.15, Pair: "tca-son",
		Place: "Caborca", Conveyance: "vehicle", Concealment: "hidden_compartment", Detained: 1,
		Items: []seizures.Item{{Kind: seizures.ItemFirearm, Type: "rifle", Make: "Colt", Model: "M4 Carbine", Calibre: "5.56x45", Serial: "LW318842", Country: "US"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := area.WaitFor("the seizures to cross", 30*time.Second, func() bool {
		a, _ := mxs.Figures(ctx)
		b, _ := uss.Figures(ctx)
		return a != nil && b != nil && a.Sides[1].Released == 24 && b.Sides[0].Released == 24
	}); err != nil {
		t.Fatal(err)
	}

	mx := newBrowser(t, 240*time.Second)
	us, cancel := chromedp.NewContext(mx)
	defer cancel()
	login := func(base, user string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.Navigate(base + "/login"), chromedp.WaitVisible("#username"),
			chromedp.SendKeys("#username", user), chromedp.SendKeys("#password", "browser-password"),
			chromedp.Click("#login-submit"), chromedp.WaitVisible("#link-indicator"),
		}
	}
	logout := chromedp.Tasks{chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery), chromedp.WaitVisible("#username")}
	began := time.Now()
	phase := func(name string) { t.Logf("%6.1fs %s", time.Since(began).Seconds(), name) }

	// 1. The dashboards render their charts on both nodes.
	for _, side := range []struct {
		ctx        context.Context
		party, who string
	}{{mx, "MX", "poli"}, {us, "US", "cbp"}} {
		if err := chromedp.Run(side.ctx, login(p.URL(side.party), side.who), chromedp.Navigate(p.URL(side.party)+"/seizures/dashboard"),
			chromedp.WaitVisible("#chart-drug_month svg.chart")); err != nil {
			t.Fatalf("%s dashboard: %v", side.party, err)
		}
		until(t, side.ctx, "charts on "+side.party, `document.querySelectorAll("svg.chart").length >= 5 && document.querySelectorAll("#chart-drug_month polyline").length >= 2 && document.querySelectorAll("#chart-map .area").length >= 2`)
		screenshot(t, side.ctx, "seizures-dashboard-"+side.party+".png")
	}
	if err := chromedp.Run(us, logout); err != nil {
		t.Fatal(err)
	}
	phase("dashboards")

	// 2. The completeness check reacts as she types a foreign gun without
	// its importer.
	if err := chromedp.Run(mx, chromedp.Navigate(p.URL("MX")+"/traces/new"), chromedp.WaitVisible("#tr-serial"),
		chromedp.SendKeys("#tr-manufacturer", "Glock"), chromedp.SendKeys("#tr-country", "AT"), chromedp.SendKeys("#tr-serial", "G19")); err != nil {
		t.Fatal(err)
	}
	until(t, mx, "the check naming the missing importer", `!!document.querySelector("#tr-problems .problem-foreign_without_importer") && !!document.querySelector("#tr-problems .problem-serial_looks_like_model")`)
	screenshot(t, mx, "trace-check-MX.png")
	phase("live check")

	// 3. She prepares the trace of her seizure's rifle.
	if err := chromedp.Run(mx, chromedp.Navigate(p.URL("MX")+"/seizures/s/"+gun.ID), chromedp.WaitVisible("#sz-trace")); err != nil {
		t.Fatal(err)
	}
	send(t, mx, map[string]string{"#sz-trace-officer": "Agente M. Villa"}, "#sz-trace")
	until(t, mx, "the prepared trace in the list", `location.pathname === "/traces" && document.querySelector("#tr-list").innerText.includes("LW318842")`)
	tr, err := traces.Of(p.Nodes["MX"]).List(ctx, users["poli"], traces.StatusDraft)
	if err != nil || len(tr) != 1 {
		t.Fatalf("drafts %v, %v", tr, err)
	}
	id := tr[0].ID
	if err := chromedp.Run(mx, logout); err != nil {
		t.Fatal(err)
	}
	phase("prepared")

	// 4. FGR sponsors it and keeps the page open.
	if err := chromedp.Run(mx, login(p.URL("MX"), "fgr"), chromedp.Navigate(p.URL("MX")+"/traces/t/"+id)); err != nil {
		t.Fatal(err)
	}
	clickLive(t, mx, "#tr-submit") // the trace page refreshes live
	until(t, mx, "submitted", `(document.querySelector("#tr-state")||{innerText:""}).innerText.includes("enviado") && document.body.getAttribute("data-live-ready") === "1"`)
	phase("sponsored")

	// 5. ATF accepts, works and completes it.
	if err := area.WaitFor("the trace on the US", 30*time.Second, func() bool { _, err := traces.Of(p.Nodes["US"]).Get(ctx, users["atf"], id); return err == nil }); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(us, login(p.URL("US"), "atf"), chromedp.Navigate(p.URL("US")+"/traces/t/"+id)); err != nil {
		t.Fatal(err)
	}
	clickLive(t, us, "#tr-accept")
	until(t, us, "accepted", `!!document.querySelector("#tr-progress")`)
	send(t, us, map[string]string{"#tr-stage": "dealer"}, "#tr-progress")
	until(t, us, "in progress", `!!document.querySelector("#tr-complete")`)
	purchase := now.AddDate(0, -14, 0).Format("2006-01-02")
	send(t, us, map[string]string{"#tr-licence": "9-86-019-01-7K-04410", "#tr-dealer": "Desert Sportsman", "#tr-city": "Tucson", "#tr-dstate": "AZ",
		"#tr-purchaser": "Straw Purchaser", "#tr-purchase": purchase}, "#tr-complete")
	until(t, us, "completed on the US", `!!document.querySelector("#tr-result")`)
	screenshot(t, us, "trace-completed-US.png")
	phase("completed")

	// 6. The result is on FGR's open page, without a reload.
	until(t, mx, "the result live on MX", `!!document.querySelector("#tr-result") && document.querySelector("#tr-ttc").innerText.includes("3 años")`)
	screenshot(t, mx, "trace-result-MX.png")
	phase("live result")

	// 7. The trace figures: the charts drawn, and the dealer counted for
	// FGR, whom the result's caveats name as the sponsor.
	if err := chromedp.Run(mx, chromedp.Navigate(p.URL("MX")+"/traces/figures")); err != nil {
		t.Fatal(err)
	}
	until(t, mx, "the trace figures", `!!document.querySelector("#chart-requests_month svg") && !!document.querySelector("#chart-time_to_crime svg") && document.querySelector("#tr-dealers").innerText.includes("Desert Sportsman")`)
	screenshot(t, mx, "trace-figures-MX.png")
	phase("trace figures")
}
