package extradition

import (
	"errors"
	"testing"
	"time"

	"puente/internal/fault"
)

// TestApplyRefuses: each stage that does not fit is refused, naming the
// field and why, and leaves the case as it was.
func TestApplyRefuses(t *testing.T) {
	now := day("2026-12-05")
	base := func() *Case {
		return &Case{Kind: KindExtradition, Requesting: "US", Requested: "MX", Stages: []Stage{
			{Stage: ProvisionalRequest, Date: "2026-10-01", Side: "US"}, {Stage: Arrested, Date: "2026-10-05", Side: "MX", Place: "CDMX"}}}
	}
	for _, tc := range []struct {
		name        string
		side        string
		st          Stage
		field, code string
	}{
		{"a formal request dated before the arrest", "US", Stage{Stage: FormalRequest, Date: "2026-10-03"}, "date", "before_arrested"},
		{"a stage out of order", "MX", Stage{Stage: JudgeOpinion, Date: "2026-11-01"}, "stage", "out_of_order"},
		{"a stage of the other side", "MX", Stage{Stage: FormalRequest, Date: "2026-11-01"}, "stage", "other_side"},
		{"a stage of the other flow", "MX", Stage{Stage: Hearing, Date: "2026-11-01"}, "stage", "not_in_flow"},
		{"a surrender without a decision", "MX", Stage{Stage: SurrenderOrdered, Date: "2026-11-01"}, "stage", "no_decision"},
		{"a surrender without its order", "MX", Stage{Stage: Surrendered, Date: "2026-11-01", Place: "AICM"}, "stage", "out_of_order"},
		{"a stage twice", "MX", Stage{Stage: Arrested, Date: "2026-11-01", Place: "CDMX"}, "stage", "already_reached"},
		{"a date in the future", "US", Stage{Stage: FormalRequest, Date: "2026-12-06"}, "date", "future_date"},
		{"no date", "US", Stage{Stage: FormalRequest}, "date", "required"},
		{"a refusal without a decision", "MX", Stage{Stage: Refused, Date: "2026-11-01"}, "stage", "no_decision"},
		{"an outcome on a stage that decides nothing", "US", Stage{Stage: FormalRequest, Date: "2026-11-01", Outcome: Granted}, "outcome", "not_a_decision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			err := apply(c, tc.side, &tc.st, now)
			var fe *fault.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || fe.Code != tc.code {
				t.Fatalf("apply = %v, want %s: %s", err, tc.field, tc.code)
			}
			if len(c.Stages) != 2 {
				t.Fatalf("the case changed: %+v", c.Stages)
			}
		})
	}
}

// TestApplyWholeCase plays a case of each direction to its end.
func TestApplyWholeCase(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		requested string
		steps     []Stage
	}{
		{"MX", []Stage{{Stage: ProvisionalRequest}, {Stage: Arrested, Place: "Culiacán"}, {Stage: FormalRequest}, {Stage: ProceedingsOpened}, {Stage: JudgeOpinion},
			{Stage: MinistryDecision, Outcome: Granted}, {Stage: AmparoFiled}, {Stage: AmparoResolved, Outcome: Denied}, {Stage: SurrenderOrdered}, {Stage: Surrendered, Place: "AICM", Escort: "U.S. Marshals"}}},
		{"US", []Stage{{Stage: Arrested, Place: "San Diego"}, {Stage: FormalRequest}, {Stage: ProceedingsOpened}, {Stage: Hearing}, {Stage: Certification, Outcome: Granted},
			{Stage: SecretaryDecision, Outcome: Granted}, {Stage: SurrenderOrdered}, {Stage: Surrendered, Place: "San Ysidro", Escort: "FGR"}}},
	} {
		requesting := map[string]string{"MX": "US", "US": "MX"}[tc.requested]
		c := &Case{Kind: KindExtradition, Requesting: requesting, Requested: tc.requested}
		for i, st := range tc.steps {
			st.Date = now.AddDate(0, 0, -30+i).Format(time.DateOnly)
			if err := apply(c, c.Owner(st.Stage), &st, now); err != nil {
				t.Fatalf("%s: %s: %v", tc.requested, st.Stage, err)
			}
		}
		if !c.Closed() {
			t.Fatalf("%s: not closed at %s", tc.requested, c.Current())
		}
		if err := apply(c, tc.requested, &Stage{Stage: Released, Date: now.Format(time.DateOnly)}, now); err == nil {
			t.Fatalf("%s: a stage after the surrender was accepted", tc.requested)
		}
	}
}

// TestTemporarySurrender: a person granted but serving a sentence here
// is surrendered for trial and returned; the final surrender waits for
// the return.
func TestTemporarySurrender(t *testing.T) {
	now := day("2026-12-05")
	c := &Case{Kind: KindExtradition, Requesting: "US", Requested: "MX"}
	for i, st := range []Stage{{Stage: Arrested, Place: "Altiplano"}, {Stage: FormalRequest}, {Stage: ProceedingsOpened}, {Stage: JudgeOpinion}, {Stage: MinistryDecision, Outcome: Granted},
		{Stage: TemporarySurrender, Place: "AICM"}} {
		st.Date = now.AddDate(0, 0, -60+i).Format(time.DateOnly)
		if err := apply(c, c.Owner(st.Stage), &st, now); err != nil {
			t.Fatalf("%s: %v", st.Stage, err)
		}
	}
	err := apply(c, "MX", &Stage{Stage: SurrenderOrdered, Date: "2026-11-20"}, now)
	var fe *fault.FieldError
	if !errors.As(err, &fe) || fe.Code != "temporarily_surrendered" {
		t.Fatalf("a surrender while temporarily surrendered: %v", err)
	}
	if err := apply(c, "MX", &Stage{Stage: TemporaryReturn, Date: "2026-11-20"}, now); err == nil {
		t.Fatal("the requested side recorded the requesting side's return")
	}
	for _, st := range []Stage{{Stage: TemporaryReturn, Date: "2026-11-20"}, {Stage: SurrenderOrdered, Date: "2026-11-25"}, {Stage: Surrendered, Date: "2026-11-30", Place: "AICM"}} {
		if err := apply(c, c.Owner(st.Stage), &st, now); err != nil {
			t.Fatalf("%s: %v", st.Stage, err)
		}
	}
	if !c.Closed() {
		t.Fatal("not closed")
	}
}
