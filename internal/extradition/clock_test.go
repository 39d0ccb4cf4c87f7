package extradition

import (
	"testing"
	"time"

	"puente/internal/agreement"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestDue counts calendar and business days across each country's
// holidays and across year ends.
func TestDue(t *testing.T) {
	ag := &agreement.Agreement{Extradition: agreement.Extradition{ClosedDays: map[string][]string{"MX": {"2026-12-21"}}}}
	c := NewCalendars(ag)
	for _, tc := range []struct {
		name, side, start string
		days              int
		business          bool
		want              string
	}{
		{"calendar days run through holidays", "MX", "2026-11-10", 60, false, "2027-01-09"},
		{"US: Christmas on a Friday", "US", "2026-12-22", 5, true, "2026-12-30"},
		{"US: across the year end and New Year's Day", "US", "2026-12-29", 5, true, "2027-01-06"},
		{"US: Independence Day observed on the Friday before", "US", "2026-07-02", 1, true, "2026-07-06"},
		{"MX: the first Monday of February and the courts' 5 February", "MX", "2027-01-29", 5, true, "2027-02-09"},
		{"MX: the third Monday of November and the courts' 20 November", "MX", "2026-11-13", 3, true, "2026-11-19"},
		{"MX: across the year end", "MX", "2026-12-30", 3, true, "2027-01-05"},
		{"MX: the agreement's closed day", "MX", "2026-12-18", 1, true, "2026-12-22"},
		{"MX: the six-yearly 1 October of 2030", "MX", "2030-09-30", 1, true, "2030-10-02"},
		{"MX: 1 October of another year is a business day", "MX", "2029-09-28", 1, true, "2029-10-01"},
		{"a start on a weekend does not count", "US", "2026-12-19", 1, true, "2026-12-21"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Due(tc.side, day(tc.start), tc.days, tc.business).Format(time.DateOnly); got != tc.want {
				t.Fatalf("Due(%s, %s, %d, %t) = %s, want %s", tc.side, tc.start, tc.days, tc.business, got, tc.want)
			}
		})
	}
}

func TestLeft(t *testing.T) {
	c := NewCalendars(&agreement.Agreement{})
	cal, bus := c.Left("US", day("2026-12-22"), day("2026-12-30"))
	if cal != 8 || bus != 5 {
		t.Fatalf("Left = %d calendar, %d business; want 8 and 5", cal, bus)
	}
	if cal, bus := c.Left("MX", day("2027-01-10"), day("2027-01-09")); cal != -1 || bus != -1 {
		t.Fatalf("overdue: %d, %d", cal, bus)
	}
}

// TestClocks: the formal request's 60 days start at the arrest and stop
// at the formal request, met or missed; a term of the requested side's
// law runs only for that side; the same facts give the same clocks.
func TestClocks(t *testing.T) {
	ag := &agreement.Agreement{Commitments: map[string]agreement.Commitments{"US": {FormalRequestDays: 60}, "MX": {FormalRequestDays: 45}}}
	c := NewCalendars(ag)
	cs := &Case{Kind: KindExtradition, Requesting: "US", Requested: "MX",
		Stages: []Stage{{Stage: ProvisionalRequest, Date: "2026-10-01"}, {Stage: Arrested, Date: "2026-10-05"}}}
	ks := c.clocks(cs, day("2026-11-29"))
	if len(ks) != 1 || ks[0].Term != "formal_request" || ks[0].Party != "US" || ks[0].Due.Format(time.DateOnly) != "2026-12-04" || ks[0].Left != 5 || ks[0].Overdue {
		t.Fatalf("clocks after the arrest: %+v", ks)
	}
	if ks := c.clocks(cs, day("2026-12-05")); !ks[0].Overdue {
		t.Fatalf("not overdue the day after: %+v", ks)
	}
	cs.Stages = append(cs.Stages, Stage{Stage: FormalRequest, Date: "2026-12-01"}, Stage{Stage: ProceedingsOpened, Date: "2026-12-07"})
	ks = c.clocks(cs, day("2026-12-08"))
	if len(ks) != 2 || !ks[0].Met || ks[0].Open() {
		t.Fatalf("the formal request in time: %+v", ks)
	}
	if ks[1].Term != "mx_judge_opinion" || ks[1].Party != "MX" || !ks[1].Business || ks[1].Due.Format(time.DateOnly) != c.Due("MX", day("2026-12-07"), 28, true).Format(time.DateOnly) {
		t.Fatalf("the judge's term: %+v", ks[1])
	}
	// Mexico requesting: its own commitment (45 days), and no Mexican
	// terms for a case the United States decides.
	mx := &Case{Kind: KindExtradition, Requesting: "MX", Requested: "US", Stages: []Stage{{Stage: Arrested, Date: "2026-10-05"}, {Stage: FormalRequest, Date: "2026-11-25"}, {Stage: ProceedingsOpened, Date: "2026-11-30"}}}
	ks = c.clocks(mx, day("2026-12-01"))
	if len(ks) != 1 || ks[0].Due.Format(time.DateOnly) != "2026-11-19" || ks[0].Met {
		t.Fatalf("a missed formal request: %+v", ks)
	}
}
