package operations

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/border"
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/input"
)

// Kinds of operation.
const (
	Mirror     = "mirror"     // paired with the partner, crosses the link
	Unilateral = "unilateral" // one side's own, never crosses
)

// Statuses of an operation.
const (
	StatusDraft     = "draft"     // a mirror operation not yet released
	StatusProposed  = "proposed"  // released, waiting for the partner's answer
	StatusCountered = "countered" // one side proposed another window or area
	StatusJoint     = "joint"     // both sides approved
	StatusDeclined  = "declined"
	StatusPlanned   = "planned" // a registered unilateral operation
	StatusActive    = "active"
	StatusConcluded = "concluded"
	StatusReported  = "reported" // both sides filed their after-action report (one, for a unilateral one)
	StatusCancelled = "cancelled"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []string{StatusDraft, StatusProposed, StatusCountered, StatusJoint, StatusDeclined, StatusPlanned, StatusActive, StatusConcluded, StatusReported, StatusCancelled}

// Objectives an operation may have.
var Objectives = []string{"arms_trafficking", "drug_trafficking", "bulk_cash", "human_smuggling", "other"}

// UnitStatuses a unit reports.
var UnitStatuses = []string{"staged", "moving", "in_position", "engaged", "withdrawn", "completed"}

// Resolutions of a conflict.
var Resolutions = []string{"proceed_separately", "make_joint", "delay", "cancel"}

// TargetKinds an operation's targets may be.
var TargetKinds = []string{"phone", "plate", "vin", "person"}

// OpsAgencies are the agencies that take part in operations, per side.
var OpsAgencies = map[string][]string{
	"MX": {"SEDENA", "SEMAR", "GN", "FGR", "SSPC"},
	"US": {"CBP", "HSI", "ATF", "DEA", "FBI"},
}

// Limits of an operation.
const (
	MaxWindow       = 7 * 24 * time.Hour
	MaxAreas        = 8
	MaxRadius       = 25_000.0 // metres
	MaxPolygon      = 64       // vertices
	MaxPolygonKm2   = 2_500.0
	MaxUnits        = 40
	MaxTargets      = 40
	MaxShort        = 200
	MaxText         = 20_000
	maxPastStart    = time.Hour // a window may start this long ago (entered late)
	reportMaxFuture = 5 * time.Minute
)

// Operation is one operation, as both nodes keep it.
type Operation struct {
	ID        string    `json:"id"`
	Origin    string    `json:"origin"` // the side that drafted it
	Kind      string    `json:"kind"`
	Status    string    `json:"status"`
	Title     string    `json:"title"`
	Objective string    `json:"objective"`
	Urgent    bool      `json:"urgent,omitempty"`
	Pair      string    `json:"pair"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	// Counterpart are the partner's agencies the origin asks to take part.
	Counterpart []string         `json:"counterpart,omitempty"`
	Sides       map[string]*Side `json:"sides"`
	Caveats     caveats.Caveats  `json:"caveats"`
	CreatedBy   string           `json:"created_by"`
	CreatedAt   time.Time        `json:"created_at"`
	ReleasedBy  string           `json:"released_by,omitempty"`
	ReleasedAt  time.Time        `json:"released_at,omitzero"`
	AnswerDue   time.Time        `json:"answer_due,omitzero"`
	AnsweredAt  time.Time        `json:"answered_at,omitzero"`
	Counter     *Counter         `json:"counter,omitempty"`
	Reason      string           `json:"reason,omitempty"`
	History     []Event          `json:"history"`
	// Targets are this side's own: they never cross the link.
	Targets []Target `json:"targets,omitempty"`
}

// Side is one side's part of an operation.
type Side struct {
	Agencies    []string  `json:"agencies"`
	Units       []Unit    `json:"units"`
	Areas       []Area    `json:"areas"`
	Contact     string    `json:"contact"`
	AfterAction string    `json:"after_action,omitempty"`
	Results     *Results  `json:"results,omitempty"`
	ReportedAt  time.Time `json:"reported_at,omitzero"`
	ReportedBy  string    `json:"reported_by,omitempty"`
}

// Unit is one participating unit. Shared says the partner's board may
// show it (a joint operation's units are shared unless a side says not).
type Unit struct {
	Callsign string `json:"callsign"`
	Agency   string `json:"agency"`
	Shared   bool   `json:"shared"`
}

// Area is where a side operates: a point with a radius, or a polygon of
// [lat, lon] vertices.
type Area struct {
	Lat     float64      `json:"lat,omitempty"`
	Lon     float64      `json:"lon,omitempty"`
	RadiusM float64      `json:"radius_m,omitempty"`
	Polygon [][2]float64 `json:"polygon,omitempty"`
}

// Results are what one side's part of an operation achieved.
type Results struct {
	Arrests  int      `json:"arrests"`
	Seizures int      `json:"seizures"`
	Weapons  int      `json:"weapons"`
	CashUSD  int64    `json:"cash_usd"`
	Refs     []string `json:"refs,omitempty"` // seizure records, case numbers
}

// Counter is a pending counter-proposal of another window or area.
type Counter struct {
	Side   string    `json:"side"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Areas  []Area    `json:"areas,omitempty"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Event is one step in an operation's history.
type Event struct {
	At     time.Time `json:"at"`
	Side   string    `json:"side"`
	Actor  string    `json:"actor"`
	What   string    `json:"what"`
	Detail string    `json:"detail,omitempty"`
}

// Target is a phone, a licence plate, a VIN or a person (name with year
// of birth) an operation is after.
type Target struct {
	Kind    string `json:"kind"`
	Value   string `json:"value,omitempty"`
	Country string `json:"country,omitempty"` // of a plate or phone
	Name    string `json:"name,omitempty"`
	DOB     string `json:"dob,omitempty"`
}

// Draft is what a user enters to plan an operation.
type Draft struct {
	Kind        string           `json:"kind"`
	Title       string           `json:"title"`
	Objective   string           `json:"objective"`
	Urgent      bool             `json:"urgent"`
	Pair        string           `json:"pair"`
	Start       string           `json:"start"` // RFC 3339, or local "2006-01-02T15:04" in the pair's zone of this side
	End         string           `json:"end"`
	Units       []Unit           `json:"units"`
	Areas       []Area           `json:"areas"`
	Contact     string           `json:"contact"`
	Counterpart []string         `json:"counterpart"`
	Targets     []Target         `json:"targets"`
	Caveats     *caveats.Caveats `json:"caveats"`
}

// Report is a unit's status at a moment.
type Report struct {
	ID          string    `json:"id"`
	OperationID string    `json:"operation_id"`
	Side        string    `json:"side"`
	Unit        string    `json:"unit"`
	Lat         float64   `json:"lat"`
	Lon         float64   `json:"lon"`
	Status      string    `json:"status"`
	Note        string    `json:"note,omitempty"`
	At          time.Time `json:"at"`
	ReceivedAt  time.Time `json:"received_at"`
	By          string    `json:"by,omitempty"`
}

// Conflict is a blind deconfliction hit between one of our operations and
// one of the partner's, of which we know only the overlap.
type Conflict struct {
	ID             string    `json:"id"`
	OperationID    string    `json:"operation_id"`
	Kind           string    `json:"kind"` // "space_time" or "target"
	FoundBy        string    `json:"found_by"`
	Cells          []string  `json:"cells,omitempty"` // S2 cell tokens of the overlap
	Lat            float64   `json:"lat,omitempty"`   // the overlap's centre
	Lon            float64   `json:"lon,omitempty"`
	From           time.Time `json:"from,omitzero"` // the overlapping window
	To             time.Time `json:"to,omitzero"`
	TargetKinds    []string  `json:"target_kinds,omitempty"`
	PartnerContact string    `json:"partner_contact,omitempty"`
	Status         string    `json:"status"` // "open" or "resolved"
	Resolution     string    `json:"resolution,omitempty"`
	ResolvedBy     string    `json:"resolved_by,omitempty"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	EscalatedAt    time.Time `json:"escalated_at,omitzero"`
	FoundAt        time.Time `json:"found_at"`

	keys []string // the hit keys: stored, never shown
}

var (
	plateRE = regexp.MustCompile(`^[A-Z0-9]{2,10}$`)
	vinRE   = regexp.MustCompile(`^[A-HJ-NPR-Z0-9]{17}$`)
)

func text(field, v string, max int, required bool) error {
	r := input.Rule(0)
	if required {
		r = input.Required
	}
	return input.Text(field, v, max, r)
}

// ParseTime reads a window's end point: RFC 3339 with its offset, or a
// wall-clock time "2006-01-02T15:04" in loc, which is refused when that
// wall-clock time does not exist (the spring gap) or happens twice (the
// autumn overlap).
func ParseTime(field, s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fault.Field(field, "required")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Truncate(time.Second), nil
	}
	w, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		return time.Time{}, fault.Field(field, "invalid_time")
	}
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, loc)
	if t.Hour() != w.Hour() || t.Minute() != w.Minute() || t.Day() != w.Day() {
		return time.Time{}, fault.Field(field, "nonexistent_time")
	}
	for _, d := range []time.Duration{-time.Hour, time.Hour} {
		alt := t.Add(d).In(loc)
		if alt.Hour() == t.Hour() && alt.Minute() == t.Minute() && alt.Day() == t.Day() {
			return time.Time{}, fault.Field(field, "ambiguous_time")
		}
	}
	return t.UTC(), nil
}

// checkWindow checks a window against now.
func checkWindow(start, end, now time.Time) error {
	switch {
	case !end.After(start):
		return fault.Field("end", "ends_before_start")
	case start.Before(now.Add(-maxPastStart)):
		return fault.Field("start", "in_the_past")
	case end.Sub(start) > MaxWindow:
		return fault.Field("end", "window_too_long")
	}
	return nil
}

// checkAreas checks one side's areas: in the border region, on that
// side, of a sensible size, polygons simple.
func checkAreas(field string, areas []Area, party string, required bool) error {
	if len(areas) == 0 && required {
		return fault.Field(field, "required")
	}
	if len(areas) > MaxAreas {
		return fault.Field(field, "too_many")
	}
	for i, a := range areas {
		f := fmt.Sprintf("%s[%d]", field, i)
		if len(a.Polygon) > 0 {
			if a.RadiusM != 0 || a.Lat != 0 || a.Lon != 0 {
				return fault.Field(f, "point_or_polygon")
			}
			if err := checkPolygon(f, a.Polygon, party); err != nil {
				return err
			}
			continue
		}
		if err := checkPoint(f, a.Lat, a.Lon, party); err != nil {
			return err
		}
		if !(a.RadiusM >= 50 && a.RadiusM <= MaxRadius) || math.IsNaN(a.RadiusM) {
			return fault.Field(f+".radius_m", "radius_out_of_range")
		}
	}
	return nil
}

// checkPoint checks a coordinate for party's side.
func checkPoint(field string, lat, lon float64, party string) error {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return fault.Field(field, "invalid_coordinates")
	}
	if !border.InRegion(lat, lon) {
		return fault.Field(field, "outside_border_region")
	}
	if !border.OnSide(party, lat, lon) {
		return fault.Field(field, "wrong_side")
	}
	return nil
}

// checkUnits checks one side's units.
func checkUnits(field string, units []Unit, party string, required bool) error {
	if len(units) == 0 && required {
		return fault.Field(field, "required")
	}
	if len(units) > MaxUnits {
		return fault.Field(field, "too_many")
	}
	seen := map[string]bool{}
	for i, u := range units {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := text(f+".callsign", u.Callsign, 60, true); err != nil {
			return err
		}
		if seen[u.Callsign] {
			return fault.Field(f+".callsign", "duplicate")
		}
		seen[u.Callsign] = true
		if !slices.Contains(OpsAgencies[party], u.Agency) {
			return fault.Field(f+".agency", "unknown_agency")
		}
	}
	return nil
}

func checkTargets(targets []Target) error {
	if len(targets) > MaxTargets {
		return fault.Field("targets", "too_many")
	}
	for i, t := range targets {
		f := fmt.Sprintf("targets[%d]", i)
		if !slices.Contains(TargetKinds, t.Kind) {
			return fault.Field(f+".kind", "unknown_kind")
		}
		if _, err := targetKeys(t); err != nil {
			return fault.Field(f, "invalid_target")
		}
	}
	return nil
}

// sideAgencies are the agencies of a side's units.
func sideAgencies(units []Unit) []string {
	var out []string
	for _, u := range units {
		out = append(out, u.Agency)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Visible reports whether u, of this node's side self, may see op.
func (op *Operation) Visible(u *auth.User, self string) bool {
	if u.Can(auth.ReadAll) {
		return true
	}
	if !u.Can(auth.OpsRead) {
		return false
	}
	return slices.Contains(op.localAgencies(self), u.Agency)
}

// localAgencies are the agencies of this side that see op: those of its
// units, the drafter's (for our own), the counterpart asked (for the
// partner's).
func (op *Operation) localAgencies(self string) []string {
	var out []string
	if sd := op.Sides[self]; sd != nil {
		out = append(out, sd.Agencies...)
		out = append(out, sideAgencies(sd.Units)...)
	}
	if op.Origin != self {
		out = append(out, op.Counterpart...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Unit returns the unit of side with callsign.
func (op *Operation) Unit(side, callsign string) (Unit, bool) {
	if sd := op.Sides[side]; sd != nil {
		for _, u := range sd.Units {
			if u.Callsign == callsign {
				return u, true
			}
		}
	}
	return Unit{}, false
}

// Open reports whether op still lies ahead or runs (deconfliction cares).
func (op *Operation) Open() bool {
	switch op.Status {
	case StatusProposed, StatusCountered, StatusJoint, StatusPlanned, StatusActive:
		return true
	}
	return false
}

// Shared is the copy of op that may cross to the partner: no targets, and
// no unit a side chose not to share.
func (op *Operation) Shared() *Operation {
	c := *op
	c.Targets = nil
	c.Sides = map[string]*Side{}
	for party, sd := range op.Sides {
		s := *sd
		s.Units = slices.DeleteFunc(slices.Clone(sd.Units), func(u Unit) bool { return !u.Shared })
		c.Sides[party] = &s
	}
	c.History = slices.Clone(op.History)
	return &c
}
