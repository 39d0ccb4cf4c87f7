package operations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/match"
	"puente/internal/node"
	"puente/internal/operations"
	"puente/internal/testenv"
)

func user(t *testing.T, n *node.Node, name string, role auth.Role, agency string) *auth.User {
	t.Helper()
	u, err := n.Auth.Create(context.Background(), auth.NewUser{Username: name, DisplayName: name, Role: role, Agency: agency, Password: "operations-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// TestMirrorLifecycle: the US drafts and releases (four eyes), MX
// counters, the US accepts the counter, both start, units report to both
// boards, both conclude and report, and the figures agree.
func TestMirrorLifecycle(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	omx, ous := operations.Of(mx), operations.Of(us)
	coordUS := user(t, us, "coord", auth.Coordinator, "CBP")
	supUS := user(t, us, "sup", auth.Supervisor, "CBP")
	coordMX := user(t, mx, "coordmx", auth.Coordinator, "GN")
	otherMX := user(t, mx, "semar", auth.Coordinator, "SEMAR")
	now := time.Now()
	d := operations.Draft{Kind: operations.Mirror, Title: "Sasabe corridor", Objective: "arms_trafficking", Pair: "tca-son",
		Start: rfc(now.Add(20 * time.Minute)), End: rfc(now.Add(6 * time.Hour)), Contact: "TCA watch +1 520 000 0000",
		Units:       []operations.Unit{{Callsign: "BORTAC-1", Agency: "CBP", Shared: true}, {Callsign: "AIR-2", Agency: "CBP"}},
		Areas:       []operations.Area{{Lat: 31.53, Lon: -111.55, RadiusM: 1000}},
		Counterpart: []string{"GN"}}
	op, err := ous.Create(ctx, coordUS, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ous.Release(ctx, coordUS, op.ID); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("a coordinator released: %v", err)
	}
	if _, err := ous.Release(ctx, supUS, op.ID); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the proposal on MX", func() bool {
		o, err := omx.Get(ctx, coordMX, op.ID)
		return err == nil && o.Status == operations.StatusProposed
	})
	work := func(svc *operations.Service, u *auth.User) []string {
		_, items, err := svc.Work(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.Key)
		}
		return out
	}
	if w := work(omx, coordMX); !slices.Contains(w, "ops.work.answer") {
		t.Fatalf("MX's work list does not ask to answer: %v", w)
	}
	if w := work(omx, otherMX); len(w) != 0 {
		t.Fatalf("an agency not asked has work: %v", w)
	}
	if _, err := omx.Get(ctx, otherMX, op.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("an agency not asked sees the proposal: %v", err)
	}
	got, _ := omx.Get(ctx, coordMX, op.ID)
	if len(got.Sides["US"].Units) != 1 || len(got.Targets) != 0 {
		t.Fatalf("the unshared unit crossed: %+v", got.Sides["US"].Units)
	}
	// MX counters with a later window; a point on the US side is refused.
	ans := operations.Answer{Units: []operations.Unit{{Callsign: "GN-SON-7", Agency: "GN", Shared: true}}, Contact: "GN Sonora C4",
		Areas: []operations.Area{{Lat: 31.60, Lon: -111.30, RadiusM: 2000}}, Start: rfc(now.Add(25 * time.Minute)), End: rfc(now.Add(7 * time.Hour)), Reason: "relief at 06:00"}
	if _, err := omx.Take(ctx, coordMX, op.ID, operations.StepCountered, ans); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("an MX area on the US side: %v", err)
	}
	// MX's side of it lies just across the line from the US's: a joint
	// operation never conflicts with itself.
	ans.Areas = []operations.Area{{Lat: 31.50, Lon: -111.55, RadiusM: 1000}}
	if _, err := omx.Take(ctx, coordMX, op.ID, operations.StepCountered, ans); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the counter on the US", func() bool {
		o, err := ous.Get(ctx, coordUS, op.ID)
		return err == nil && o.Status == operations.StatusCountered
	})
	if w := work(omx, coordMX); slices.Contains(w, "ops.work.answer") {
		t.Fatalf("MX still has the proposal to answer: %v", w)
	}
	if w := work(ous, coordUS); !slices.Contains(w, "ops.work.counter") {
		t.Fatalf("the US's work list does not ask to answer the counter: %v", w)
	}
	if _, err := ous.Take(ctx, coordUS, op.ID, operations.StepCounterAccepted, operations.Answer{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "joint on MX", func() bool {
		o, err := omx.Get(ctx, coordMX, op.ID)
		return err == nil && o.Status == operations.StatusJoint
	})
	if _, err := omx.Take(ctx, coordMX, op.ID, operations.StepStarted, operations.Answer{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // both sides' checks and re-checks have run
	for _, c := range []struct {
		svc *operations.Service
		u   *auth.User
	}{{omx, coordMX}, {ous, coordUS}} {
		if cs, _ := c.svc.Conflicts(ctx, c.u, op.ID); len(cs) != 0 {
			t.Fatalf("the joint operation conflicts with itself: %+v", cs[0])
		}
	}
	testenv.Eventually(t, 20*time.Second, "active on the US", func() bool {
		o, err := ous.Get(ctx, coordUS, op.ID)
		return err == nil && o.Status == operations.StatusActive
	})
	// Reports: an MX report reaches the US board; one from a unit not in
	// the operation is refused.
	if _, err := omx.Report(ctx, coordMX, op.ID, operations.NewReport{Unit: "GN-SON-99", Lat: 31.28, Lon: -111.3, Status: "moving"}); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("a unit not in the operation reported: %v", err)
	}
	if _, err := omx.Report(ctx, coordMX, op.ID, operations.NewReport{Unit: "GN-SON-7", Lat: 31.29, Lon: -111.31, Status: "in_position", Note: "at the wash"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ous.Report(ctx, coordUS, op.ID, operations.NewReport{Unit: "AIR-2", Lat: 31.60, Lon: -111.30, Status: "moving"}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the MX report on the US board", func() bool {
		rs, _ := ous.Latest(ctx, coordUS)
		for _, r := range rs {
			if r.Side == "MX" && r.Unit == "GN-SON-7" && r.Status == "in_position" {
				return true
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond)
	rs, _ := omx.Latest(ctx, coordMX)
	for _, r := range rs {
		if r.Unit == "AIR-2" {
			t.Fatal("the unshared unit's report reached MX")
		}
	}
	if _, err := ous.Take(ctx, coordUS, op.ID, operations.StepConcluded, operations.Answer{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "concluded on MX", func() bool {
		o, _ := omx.Get(ctx, coordMX, op.ID)
		return o != nil && o.Status == operations.StatusConcluded
	})
	if _, err := omx.Take(ctx, coordMX, op.ID, operations.StepAfterAction, operations.Answer{AfterAction: "Two detained.", Results: &operations.Results{Arrests: 2, Weapons: 5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ous.Take(ctx, coordUS, op.ID, operations.StepAfterAction, operations.Answer{AfterAction: "Nothing crossed.", Results: &operations.Results{}}); err != nil {
		t.Fatal(err)
	}
	var fmx, fus *operations.Figures
	testenv.Eventually(t, 20*time.Second, "both reported and equal figures", func() bool {
		o, _ := omx.Get(ctx, coordMX, op.ID)
		fmx, _ = omx.Figures(ctx)
		fus, _ = ous.Figures(ctx)
		return o != nil && o.Status == operations.StatusReported && reflect.DeepEqual(fmx, fus)
	})
	if fus.Sides[1].Proposed != 1 || fus.Sides[0].Countered != 1 || fus.Sides[1].Joint != 1 || fus.Sides[0].AfterActionFiled != 1 {
		t.Fatalf("figures: %+v", fus.Sides)
	}
}

// TestBlindDeconfliction: two unilateral operations 600 m apart across
// the border in overlapping windows conflict, and both sides learn it
// with the other's contact only; one far away does not conflict; neither
// operation crosses the link.
func TestBlindDeconfliction(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	omx, ous := operations.Of(mx), operations.Of(us)
	gn := user(t, mx, "gn", auth.Coordinator, "GN")
	hsi := user(t, us, "hsi", auth.Coordinator, "HSI")
	now := time.Now()
	mk := func(lat, lon float64, from, to time.Duration, contact string, unit, agency string) operations.Draft {
		return operations.Draft{Kind: operations.Unilateral, Title: "Controlled delivery " + unit, Objective: "drug_trafficking", Pair: "tca-son",
			Start: rfc(now.Add(from)), End: rfc(now.Add(to)), Contact: contact, Units: []operations.Unit{{Callsign: unit, Agency: agency}},
			Areas: []operations.Area{{Lat: lat, Lon: lon, RadiusM: 300}}}
	}
	a, err := omx.Create(ctx, gn, mk(31.3290, -110.9440, 2*time.Hour, 6*time.Hour, "GN Nogales +52 631 000", "GN-NOG-1", "GN"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ous.Create(ctx, hsi, mk(31.3380, -110.9400, 5*time.Hour, 9*time.Hour, "HSI Nogales +1 520 111", "HSI-3", "HSI"))
	if err != nil {
		t.Fatal(err)
	}
	far, err := ous.Create(ctx, hsi, mk(31.3400, -109.5600, 2*time.Hour, 6*time.Hour, "HSI Douglas", "HSI-9", "HSI"))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, "the conflict on both sides, with contacts", func() bool {
		cm, _ := omx.Conflicts(ctx, gn, a.ID)
		cu, _ := ous.Conflicts(ctx, hsi, b.ID)
		return len(cm) == 1 && len(cu) == 1 && cm[0].ID == cu[0].ID && cm[0].PartnerContact == "HSI Nogales +1 520 111" && cu[0].PartnerContact == "GN Nogales +52 631 000"
	})
	cu, _ := ous.Conflicts(ctx, hsi, b.ID)
	c := cu[0]
	if c.Kind != "space_time" || len(c.Cells) == 0 || c.From.IsZero() || c.To.Before(now.Add(5*time.Hour)) || c.From.After(now.Add(6*time.Hour)) {
		t.Fatalf("overlap: %+v", c)
	}
	if cs, _ := ous.Conflicts(ctx, hsi, far.ID); len(cs) != 0 {
		t.Fatalf("an operation 135 km away conflicts: %+v", cs)
	}
	for _, pair := range []struct {
		svc *operations.Service
		u   *auth.User
		id  string
	}{{omx, gn, b.ID}, {omx, gn, far.ID}, {ous, hsi, a.ID}} {
		if _, err := pair.svc.Get(ctx, pair.u, pair.id); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("a unilateral operation crossed the link: %v", err)
		}
	}
	// What crosses for a check: blinded group elements and their count,
	// nothing else; and no envelope the US sent names its operation.
	var crossed [][]byte
	probe := match.New(match.Config{DB: us.DB, Link: us.Link, Hub: us.Hub, Inspect: func(_ string, b []byte) { crossed = append(crossed, b) }})
	inspecting := operations.New(operations.Config{DB: us.DB, Link: us.Link, Hub: us.Hub, Agreement: us.Agreement.Body(), Match: probe})
	if _, err := inspecting.Check(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if len(crossed) != 2 {
		t.Fatalf("%d bodies crossed for one check", len(crossed))
	}
	for _, body := range crossed {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if len(m) != 2 || m["epoch"] == nil || m["elements"] == nil {
			t.Fatalf("a check sent more than an epoch and elements: %s", body[:min(len(body), 200)])
		}
	}
	secrets := []string{"Controlled delivery", "HSI-3", "HSI Douglas", "31.338", "-110.94"}
	rows, err := us.DB.Read().Query(ctx, `SELECT kind, raw FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind string
		var raw []byte
		if err := rows.Scan(&kind, &raw); err != nil {
			t.Fatal(err)
		}
		for _, sec := range secrets {
			if bytes.Contains(raw, []byte(sec)) {
				t.Errorf("a %s envelope carries %q", kind, sec)
			}
		}
	}
	rows.Close()
	if err := omx.Resolve(ctx, gn, c.ID, "proceed_separately"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the resolution on the US", func() bool {
		cu, _ := ous.Conflicts(ctx, hsi, b.ID)
		return len(cu) == 1 && cu[0].Status == "resolved" && cu[0].Resolution == "proceed_separately"
	})
}
