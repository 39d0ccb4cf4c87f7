package traces

import (
	"errors"
	"slices"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/fault"
)

func good() Trace {
	return Trace{Priority: Routine, CrimeCode: "firearms_trafficking", Officer: "Agente 12", Case: "FGR/SON/2026/118",
		Firearm:  Firearm{Serial: "LW123456", Manufacturer: "Colt", Type: "rifle", Calibre: "5.56x45", Model: "M4", Country: "US"},
		Recovery: Recovery{Date: "2026-11-01", Place: "Altar, Sonora"}}
}

func TestCheck(t *testing.T) {
	if q := Check(ptr(good())); len(q.Problems) != 0 || q.Expected != BaseSuccess {
		t.Fatalf("a complete request: %+v", q)
	}
	for _, tc := range []struct {
		name     string
		edit     func(*Trace)
		problem  string
		blocking bool
		max      float64 // the expected success is at most this
	}{
		{"foreign without importer", func(t *Trace) { t.Firearm.Country, t.Firearm.Manufacturer = "AT", "Glock" }, "foreign_without_importer", false, 0.14},
		{"serial is the model", func(t *Trace) { t.Firearm.Serial = "M4" }, "serial_looks_like_model", false, 0.2},
		{"serial like a model number", func(t *Trace) { t.Firearm.Serial, t.Firearm.Model = "AR15", "" }, "serial_looks_like_model", false, 0.2},
		{"serial of three digits", func(t *Trace) { t.Firearm.Serial = "223" }, "serial_looks_like_model", false, 0.2},
		{"missing calibre", func(t *Trace) { t.Firearm.Calibre = "" }, "missing_calibre", false, 0.5},
		{"obliterated", func(t *Trace) { t.Firearm.Serial, t.Firearm.Obliterated = "", true }, "obliterated", false, 0.25},
		{"no serial, not obliterated", func(t *Trace) { t.Firearm.Serial = "" }, "missing_serial", true, 0},
		{"no recovery date", func(t *Trace) { t.Recovery.Date = "" }, "missing_recovery_date", true, 0},
		{"urgent without a reason", func(t *Trace) { t.Priority = Urgent }, "urgent_without_reason", true, 0},
		{"no case number", func(t *Trace) { t.Case = "" }, "missing_case_number", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := good()
			tc.edit(&tr)
			q := Check(&tr)
			if !slices.Contains(q.Problems, tc.problem) || slices.Contains(q.Blocking, tc.problem) != tc.blocking || q.Expected > tc.max {
				t.Fatalf("got %+v, want %s (blocking %t, at most %v)", q, tc.problem, tc.blocking, tc.max)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestCheckRequestRefuses(t *testing.T) {
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		edit        func(*Trace)
		field, code string
	}{
		{func(t *Trace) { t.Firearm.Serial = "" }, "firearm.serial", "serial_or_obliterated"},
		{func(t *Trace) { t.Firearm.Serial = "AB#1/2" }, "firearm.serial", "invalid_serial"},
		{func(t *Trace) { t.Recovery.Date = "2027-01-01" }, "recovery.date", "in_the_future"},
		{func(t *Trace) { t.Recovery.Date = "1 Nov" }, "recovery.date", "invalid_date"},
		{func(t *Trace) { t.Priority = "soon" }, "priority", "unknown_value"},
		{func(t *Trace) { t.Firearm.Country = "USA" }, "firearm.country", "invalid_country"},
	} {
		tr := good()
		tc.edit(&tr)
		var fe *fault.FieldError
		if err := checkRequest(&tr, now); !errors.As(err, &fe) || fe.Field != tc.field || fe.Code != tc.code {
			t.Errorf("got %v, want %s: %s", err, tc.field, tc.code)
		}
	}
}

func TestLifecycle(t *testing.T) {
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	tr := good()
	tr.Origin, tr.Tracer, tr.Status = "MX", "US", StatusSubmitted
	step := func(side, s string, r *Result, stage, reason string) error {
		return apply(&tr, side, &Update{Step: s, At: at, By: "x", Result: r, Stage: stage, Reason: reason})
	}
	res := &Result{Source: "Colt", Dealer: &Dealer{Licence: "9-86-013-01-2A-01234", Name: "Desert Guns", City: "Tucson", State: "az"},
		Purchaser: Possessor{Name: "J. Doe"}, Purchase: "2025-03-01"}
	if err := step("MX", StepAccept, nil, "", ""); err == nil {
		t.Fatal("the requesting side accepted its own trace")
	}
	if err := step("US", StepComplete, res, "", ""); err == nil {
		t.Fatal("a result for a trace not in progress was accepted")
	}
	for _, s := range []struct{ step, stage string }{{StepAccept, ""}, {StepProgress, "manufacturer"}, {StepProgress, "dealer"}} {
		if err := step("US", s.step, nil, s.stage, ""); err != nil {
			t.Fatalf("%s: %v", s.step, err)
		}
	}
	if err := step("US", StepProgress, nil, "pawnshop", ""); err == nil {
		t.Fatal("an unknown stage was accepted")
	}
	if err := step("US", StepComplete, res, "", ""); err != nil {
		t.Fatal(err)
	}
	if tr.Status != StatusCompleted || tr.Result.TimeToCrimeDays != 610 || !tr.Result.Short || tr.Result.Dealer.State != "AZ" {
		t.Fatalf("completed: %+v %+v", tr, tr.Result)
	}
	if err := step("US", StepNotComplete, nil, "", "too_old"); err == nil {
		t.Fatal("a completed trace was ended again")
	}
}

// TestResultReleasable: the first retail purchaser reaches, on the
// requesting side, the requesting agency and its sponsor only; the
// tracing side reads its own finding; others get a copy without it.
func TestResultReleasable(t *testing.T) {
	tr := good()
	tr.Origin, tr.Tracer, tr.Agency, tr.Sponsor, tr.Status = "MX", "US", "SSP-SON", "FGR", StatusCompleted
	tr.Result = &Result{Source: "Colt", Purchaser: Possessor{Name: "J. Doe", Address: "Tucson"}}
	for _, c := range []struct {
		name, side, agency string
		role               auth.Role
		want               bool
	}{
		{"the preparing state police", "MX", "SSP-SON", auth.Coordinator, true},
		{"the sponsor", "MX", "FGR", auth.Supervisor, true},
		{"an auditor on the requesting side", "MX", "SFP", auth.Auditor, false},
		{"another Mexican agency", "MX", "SEMAR", auth.Coordinator, false},
		{"the tracer on its own side", "US", "ATF", auth.Coordinator, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := &auth.User{Username: "u", Role: c.role, Agency: c.agency}
			if got := tr.ResultReleasable(u, c.side); got != c.want {
				t.Fatalf("ResultReleasable = %t, want %t", got, c.want)
			}
			s := &Service{self: c.side}
			shown := s.shown(u, &tr)
			if withheld := shown.Result.Withheld; withheld == c.want || (shown.Result.Purchaser.Name == "") == c.want {
				t.Fatalf("shown: withheld %t, purchaser %q", withheld, shown.Result.Purchaser.Name)
			}
			if tr.Result.Purchaser.Name != "J. Doe" {
				t.Fatal("redacting changed the stored trace")
			}
		})
	}
}
