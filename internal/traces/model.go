package traces

import (
	"regexp"
	"strings"
	"time"
)

// Statuses of a trace.
const (
	StatusDraft        = "draft"         // prepared, waiting for the sponsor to submit it
	StatusSubmitted    = "submitted"     // sent to the tracing side
	StatusReturned     = "returned"      // sent back for missing data
	StatusAccepted     = "accepted"      // the tracing side took it
	StatusInProgress   = "in_progress"   // at the manufacturer or importer, wholesaler, dealer
	StatusCompleted    = "completed"     // first retail purchaser identified
	StatusNotCompleted = "not_completed" // with a reason
)

// Statuses lists every status in lifecycle order.
var Statuses = []string{StatusDraft, StatusSubmitted, StatusReturned, StatusAccepted, StatusInProgress, StatusCompleted, StatusNotCompleted}

// Stages of a trace in progress.
var Stages = []string{"manufacturer", "importer", "wholesaler", "dealer"}

// NotCompletedReasons a trace may end with.
var NotCompletedReasons = []string{"no_serial", "manufacturer_unknown", "records_unavailable", "dealer_out_of_business", "too_old", "foreign_no_import_record", "other"}

// Priorities of a trace.
const (
	Routine = "routine"
	Urgent  = "urgent"
)

// CrimeCodes are the offences a trace may name (ATF's crime codes, in
// words).
var CrimeCodes = []string{"firearms_trafficking", "drug_trafficking", "homicide", "assault", "kidnapping", "organized_crime", "possession", "other"}

// FirearmTypes a traced gun may be.
var FirearmTypes = []string{"pistol", "revolver", "rifle", "shotgun", "submachine_gun", "machine_gun", "receiver_frame", "other"}

// SponsorAgencies are, per side, the agencies that submit traces to the
// partner; any other agency of that side prepares them for a sponsor.
var SponsorAgencies = map[string][]string{"MX": {"FGR"}, "US": {"ATF"}}

// RequestAgencies are, per side, the agencies that prepare traces.
var RequestAgencies = map[string][]string{"MX": {"FGR", "SSP-SON", "GN", "SEDENA", "SEMAR", "SSPC"}, "US": {"ATF", "CBP", "HSI", "DEA", "FBI"}}

// TraceAgencies are, per side, the agencies that work the partner's
// traces, on the side that traces.
var TraceAgencies = map[string][]string{"MX": {"FGR"}, "US": {"ATF"}}

// ShortTimeToCrime is ATF's trafficking indicator: a gun recovered less
// than three years after its first retail sale.
const ShortTimeToCrime = 3 * 365 * 24 * time.Hour

// Limits.
const (
	MaxShort = 200
	MaxText  = 4000
)

// Firearm is the gun, as Form 3312.1 asks for it.
type Firearm struct {
	Serial       string `json:"serial"` // from the frame or receiver
	Obliterated  bool   `json:"obliterated"`
	Manufacturer string `json:"manufacturer"`
	Type         string `json:"type"`
	Calibre      string `json:"calibre"`
	Model        string `json:"model"`
	Country      string `json:"country"`  // of manufacture, ISO alpha-2
	Importer     string `json:"importer"` // for a gun not made in the US
	Markings     string `json:"markings,omitempty"`
}

// Key is what makes two traces the same gun: make and serial.
func (f Firearm) Key() string {
	if f.Serial == "" {
		return ""
	}
	return strings.ToUpper(strings.TrimSpace(f.Manufacturer)) + "|" + NormSerial(f.Serial)
}

// Possessor is who had the gun.
type Possessor struct {
	Name    string   `json:"name,omitempty"`
	Aliases []string `json:"aliases,omitempty"`
	DOB     string   `json:"dob,omitempty"`
	Address string   `json:"address,omitempty"`
}

// Recovery is where and when the gun was recovered.
type Recovery struct {
	Date      string  `json:"date"` // 2006-01-02
	Place     string  `json:"place"`
	Lat       float64 `json:"lat,omitempty"`
	Lon       float64 `json:"lon,omitempty"`
	SeizureID string  `json:"seizure_id,omitempty"`
	Case      string  `json:"case_number,omitempty"`
}

// Dealer is a federal firearms licensee.
type Dealer struct {
	Licence string `json:"licence"`
	Name    string `json:"name"`
	City    string `json:"city"`
	State   string `json:"state"` // US state, two letters
}

// Result is what the tracing side found.
type Result struct {
	Source    string    `json:"source"` // the manufacturer or importer
	Dealer    *Dealer   `json:"dealer,omitempty"`
	Purchaser Possessor `json:"purchaser"` // first retail purchaser: personal data
	Purchase  string    `json:"purchase_date,omitempty"`
	// TimeToCrimeDays is from the purchase to the recovery; Short flags
	// less than three years.
	TimeToCrimeDays int  `json:"time_to_crime_days,omitempty"`
	Short           bool `json:"short_time_to_crime,omitempty"`
	// Withheld is set on a copy shown to a user whom the result's caveats
	// do not name: the purchaser is left out (never stored).
	Withheld bool `json:"purchaser_withheld,omitempty"`
}

// Event is one step in a trace's history.
type Event struct {
	At     time.Time `json:"at"`
	Side   string    `json:"side"`
	By     string    `json:"by"`
	What   string    `json:"what"`
	Detail string    `json:"detail,omitempty"`
}

// Trace is one trace request, as both nodes keep it once submitted.
type Trace struct {
	ID            string    `json:"id"`
	Origin        string    `json:"origin"` // the requesting side
	Tracer        string    `json:"tracer"` // the tracing side
	Status        string    `json:"status"`
	Priority      string    `json:"priority"`
	Justification string    `json:"justification,omitempty"`
	CrimeCode     string    `json:"crime_code"`
	Agency        string    `json:"agency"`  // the requesting agency (the preparer's)
	Officer       string    `json:"officer"` // the requesting officer
	Case          string    `json:"case_number"`
	Firearm       Firearm   `json:"firearm"`
	Possessor     Possessor `json:"possessor"`
	Recovery      Recovery  `json:"recovery"`
	// Recoveries are further recoveries of the same gun merged into this
	// trace (duplicates of one serial and make).
	Recoveries  []Recovery `json:"recoveries,omitempty"`
	Quality     Quality    `json:"quality"`
	PreparedBy  string     `json:"prepared_by"`
	SponsoredBy string     `json:"sponsored_by,omitempty"`
	Sponsor     string     `json:"sponsor_agency,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	SubmittedAt time.Time  `json:"submitted_at,omitzero"`
	Due         time.Time  `json:"due,omitzero"`
	AnsweredAt  time.Time  `json:"answered_at,omitzero"`
	Stage       string     `json:"stage,omitempty"`
	Reason      string     `json:"reason,omitempty"` // returned or not completed: why
	Result      *Result    `json:"result,omitempty"`
	History     []Event    `json:"history"`
}

// Title names a trace in lists.
func (t *Trace) Title() string {
	serial := t.Firearm.Serial
	if serial == "" {
		serial = "—"
	}
	return strings.TrimSpace(t.Firearm.Manufacturer+" "+t.Firearm.Model) + " · " + serial
}

// Open reports whether the trace still waits for an answer.
func (t *Trace) Open() bool {
	switch t.Status {
	case StatusCompleted, StatusNotCompleted:
		return false
	}
	return true
}

var serialRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{0,29}$`)

// NormSerial is a serial as compared: upper case, without spaces.
func NormSerial(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

func (t *Trace) event(at time.Time, side, by, what, detail string) {
	t.History = append(t.History, Event{At: at, Side: side, By: by, What: what, Detail: detail})
}
