package extradition_test

import (
	"context"
	"testing"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/demo"
	"puente/internal/extradition"
	"puente/internal/node"
	"puente/internal/testenv"
)

// TestSweepWarnsOnceAtEachPoint runs a provisional arrest's clock between
// two in-process nodes on a fake clock: each warning point is given once
// however often the sweep runs, and the overdue clock is flagged on both
// sides' home pages, escalated.
func TestSweepWarnsOnceAtEachPoint(t *testing.T) { sweepWarnsOnce(t, nil) }

// TestSweepWarnsOnceAtEachPointPostgres is the same on PostgreSQL.
func TestSweepWarnsOnceAtEachPointPostgres(t *testing.T) {
	testenv.PostgresSchema(t)
	sweepWarnsOnce(t, func(_ string, c *node.Config) { c.Database = testenv.PostgresSchema(t) })
}

func sweepWarnsOnce(t *testing.T, configure func(string, *node.Config)) {
	var p *demo.Pair
	if configure != nil {
		p = testenv.StartPair(t, configure)
	} else {
		p = testenv.StartPair(t)
	}
	ctx := context.Background()
	mxN, usN := p.Nodes["MX"], p.Nodes["US"]
	mx, us := extradition.Of(mxN), extradition.Of(usN)
	fgr, err := mxN.Auth.Create(ctx, auth.NewUser{Username: "fgr", DisplayName: "FGR", Role: auth.Legal, Agency: "FGR", Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	doj, err := usN.Auth.Create(ctx, auth.NewUser{Username: "doj", DisplayName: "DOJ", Role: auth.Legal, Agency: "DOJ-OIA", Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	at := func(d time.Time) {
		mx.SetClock(func() time.Time { return d })
		us.SetClock(func() time.Time { return d })
	}
	at(now)
	c, err := us.OpenCase(ctx, doj, extradition.Case{Kind: extradition.KindExtradition, Requested: "MX", Person: extradition.Person{Name: "Aurelio Bastidas Reyes"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := us.Record(ctx, doj, c.ID, extradition.Stage{Stage: extradition.ProvisionalRequest, Date: "2026-10-30"}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the case on MX", func() bool {
		got, err := mx.GetCase(ctx, fgr, c.ID)
		return err == nil && len(got.Stages) == 1
	})
	// Arrested on 1 November: the formal request is due on 31 December.
	if _, err := mx.Record(ctx, fgr, c.ID, extradition.Stage{Stage: extradition.Arrested, Date: "2026-11-01", Place: "Hermosillo"}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the arrest on US", func() bool {
		got, err := us.GetCase(ctx, doj, c.ID)
		return err == nil && len(got.Clocks) == 1 && got.Clocks[0].Due.Format(time.DateOnly) == "2026-12-31"
	})
	sweep := func(s *extradition.Service, day string, warned, overdue int) {
		t.Helper()
		d, _ := time.Parse(time.DateOnly, day)
		at(d.Add(9 * time.Hour))
		res, err := s.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Warned != warned || res.Overdue != overdue {
			t.Fatalf("%s on %s: %+v, want %d warned, %d overdue", s.Self(), day, res, warned, overdue)
		}
	}
	for _, s := range []*extradition.Service{mx, us} {
		sweep(s, "2026-11-20", 0, 0) // 41 days left: no point yet
		sweep(s, "2026-12-01", 1, 0) // 30 days left
		sweep(s, "2026-12-01", 0, 0) // again: nothing new
		sweep(s, "2026-12-10", 0, 0) // 21 days: still within 30
		sweep(s, "2026-12-16", 1, 0) // 15 days
		sweep(s, "2026-12-28", 1, 0) // 3 days (7 was slept through)
		sweep(s, "2027-01-01", 0, 1) // overdue
		sweep(s, "2027-01-02", 0, 0)
	}
	// Both homes flag it: the US must act, Mexico sees the partner late.
	find := func(s *extradition.Service, u *auth.User, key string) area.WorkItem {
		_, items, err := s.Work(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Key == key {
				return it
			}
		}
		t.Fatalf("%s: no %s in %+v", s.Self(), key, items)
		return area.WorkItem{}
	}
	if it := find(us, doj, "ext.work.clock.formal_request"); !it.Overdue || it.Flag != "ext.escalated" || it.Who != "US" {
		t.Fatalf("US item: %+v", it)
	}
	if it := find(mx, fgr, "ext.work.partner_overdue"); !it.Overdue || it.Flag != "ext.escalated" {
		t.Fatalf("MX item: %+v", it)
	}
	// The formal request stops the clock (missed), and the flags go.
	if _, err := us.Record(ctx, doj, c.ID, extradition.Stage{Stage: extradition.FormalRequest, Date: "2027-01-02"}); err != nil {
		t.Fatal(err)
	}
	got, err := us.GetCase(ctx, doj, c.ID)
	if err != nil || got.Clocks[0].Open() || got.Clocks[0].Met {
		t.Fatalf("after the late request: %+v, %v", got.Clocks, err)
	}
	if _, items, _ := us.Work(ctx, doj); len(items) != 0 {
		t.Fatalf("still flagged: %+v", items)
	}
}
