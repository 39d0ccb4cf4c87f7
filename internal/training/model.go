package training

import (
	"slices"
	"time"
)

// Statuses of an offer.
const (
	StatusDraft     = "draft"     // ours, waiting for a second coordinator to publish it
	StatusPublished = "published" // open to the partner's nominations
	StatusCompleted = "completed" // held; results recorded
	StatusCancelled = "cancelled"
)

// Statuses lists them in lifecycle order.
var Statuses = []string{StatusDraft, StatusPublished, StatusCompleted, StatusCancelled}

// Types of an offer.
const (
	TypeCourse   = "course"
	TypeExercise = "exercise"
	TypeExchange = "exchange"
	TypeSeminar  = "seminar"
)

// Types lists them.
var Types = []string{TypeCourse, TypeExercise, TypeExchange, TypeSeminar}

// Subjects an offer may teach or exercise.
var Subjects = []string{"firearm_tracing", "financial_investigations", "border_operations", "disaster_dn3e", "disaster_plan_marina",
	"forensics", "counter_narcotics", "human_rights", "other"}

// SubjectTracing is the subject whose later use the figures follow in the
// traces area.
const SubjectTracing = "firearm_tracing"

// Languages an offer is given in.
var Languages = []string{"es", "en", "es_en"}

// Nomination statuses.
const (
	NomNominated   = "nominated"   // waiting for vetting and confirmation
	NomConfirmed   = "confirmed"   // holds a seat
	NomWaitlisted  = "waitlisted"  // waits for a seat
	NomDeclined    = "declined"    // the offering side said no
	NomWithdrawn   = "withdrawn"   // the nominating side took it back
	NomSubstituted = "substituted" // replaced by another participant
)

// NomStatuses lists them.
var NomStatuses = []string{NomNominated, NomConfirmed, NomWaitlisted, NomDeclined, NomWithdrawn, NomSubstituted}

// Vetting statuses (for US-funded training, Leahy vetting of the person
// and the unit).
const (
	VetPending   = "pending"
	VetApproved  = "approved"
	VetDenied    = "denied"
	VetSuspended = "suspended"
	VetExpired   = "expired"
)

// VetStatuses lists them.
var VetStatuses = []string{VetPending, VetApproved, VetDenied, VetSuspended, VetExpired}

// Results of a participant.
const (
	ResultPassed    = "passed"
	ResultNotPassed = "not_passed"
	ResultAttended  = "attended"
)

// Results lists them.
var Results = []string{ResultPassed, ResultNotPassed, ResultAttended}

// ResourceKinds an exercise's sides commit.
var ResourceKinds = []string{"personnel", "vehicles", "aircraft", "vessels", "field_kitchens", "water_plants"}

// Payers of an offer's cost.
var Payers = []string{"MX", "US", "shared"}

// Identifier types a participant is nominated with.
var IDTypes = []string{"curp", "passport", "rfc"}

// Limits.
const (
	MaxShort       = 200
	MaxText        = 4000
	MaxSeats       = 500
	MaxHours       = 2000
	MaxNominations = 1000
	MaxInstructors = 30
)

// Instructor is one instructor and their agency.
type Instructor struct {
	Name   string `json:"name"`
	Agency string `json:"agency"`
}

// Cost is what the offer costs and who pays.
type Cost struct {
	Amount   int64  `json:"amount"`   // whole units of Currency
	Currency string `json:"currency"` // USD or MXN
	PaidBy   string `json:"paid_by"`  // MX, US or shared
}

// Participant is the person nominated.
type Participant struct {
	Name       string `json:"name"`
	DOB        string `json:"dob"` // 2006-01-02
	IDType     string `json:"id_type"`
	NationalID string `json:"national_id"`
	Rank       string `json:"rank"`
	Unit       string `json:"unit"`
	Agency     string `json:"agency"`
	// Withheld is set on a copy shown to a user who may not see the
	// participant's identifiers (never stored).
	Withheld bool `json:"identifiers_withheld,omitempty"`
}

// Vetting is the offering side's record of a nomination's vetting.
type Vetting struct {
	Status string    `json:"status"`
	Date   string    `json:"date,omitempty"` // the vetting decision's date
	Unit   string    `json:"unit_vetted,omitempty"`
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at,omitzero"` // when it was recorded
}

// Day is one day's attendance.
type Day struct {
	Date  string `json:"date"`
	Hours int    `json:"hours"`
}

// Nomination is one participant for one seat.
type Nomination struct {
	ID          string      `json:"id"`
	Participant Participant `json:"participant"`
	Status      string      `json:"status"`
	NominatedBy string      `json:"nominated_by"`
	NominatedAt time.Time   `json:"nominated_at"`
	// VettingDue is when the offering side owes the vetting decision:
	// its commitment in days from the nomination, no later than the
	// course's start.
	VettingDue time.Time `json:"vetting_due,omitzero"`
	Vetting    *Vetting  `json:"vetting,omitempty"`
	// Substitutes is the nomination this one replaced.
	Substitutes string `json:"substitutes,omitempty"`
	Reason      string `json:"reason,omitempty"` // declined or withdrawn: why
	Attendance  []Day  `json:"attendance,omitempty"`
	Result      string `json:"result,omitempty"`
	Hours       int    `json:"hours,omitempty"` // completed, with the result
	Certificate string `json:"certificate,omitempty"`
}

// Active reports whether the nomination still counts for a seat or the
// waiting list.
func (n *Nomination) Active() bool {
	return n.Status == NomNominated || n.Status == NomConfirmed || n.Status == NomWaitlisted
}

// Open reports whether the nominating side may still withdraw or
// replace it: an active or declined nomination (a nominee denied vetting
// is replaced by another).
func (n *Nomination) Open() bool { return n.Active() || n.Status == NomDeclined }

// AttendedHours is the sum of the attendance recorded.
func (n *Nomination) AttendedHours() int {
	h := 0
	for _, d := range n.Attendance {
		h += d.Hours
	}
	return h
}

// Unit is a unit one side brings to an exercise.
type Unit struct {
	Name      string `json:"name"`
	Agency    string `json:"agency"`
	Personnel int    `json:"personnel"`
}

// Commitment is what one side brings to an exercise.
type Commitment struct {
	Units     []Unit         `json:"units"`
	Resources map[string]int `json:"resources"`
	By        string         `json:"by"`
	At        time.Time      `json:"at"`
}

// Report is one side's after-action report.
type Report struct {
	Side    string    `json:"side"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Summary string    `json:"summary"`
	Lessons []string  `json:"lessons"`
}

// Event is one step in an offer's history.
type Event struct {
	At   time.Time `json:"at"`
	Side string    `json:"side"`
	By   string    `json:"by"`
	What string    `json:"what"`
	// Nomination is the nomination the step was about; Value, a value the
	// page translates under "trn." ("vet.approved", "result.passed").
	Nomination string `json:"nomination,omitempty"`
	Value      string `json:"value,omitempty"`
	Detail     string `json:"detail,omitempty"`
}

// Offer is one course, exercise, exchange or seminar, as both nodes keep
// it once published.
type Offer struct {
	ID            string       `json:"id"`
	Origin        string       `json:"origin"`  // the offering side
	Nominee       string       `json:"nominee"` // the side that nominates participants
	Status        string       `json:"status"`
	Title         string       `json:"title"`
	Type          string       `json:"type"`
	Subject       string       `json:"subject"`
	Language      string       `json:"language"`
	Place         string       `json:"place"`
	Start         string       `json:"start"` // 2006-01-02
	End           string       `json:"end"`
	Seats         int          `json:"seats"`
	Hours         int          `json:"hours"`
	Instructors   []Instructor `json:"instructors"`
	Prerequisites string       `json:"prerequisites,omitempty"`
	Cost          Cost         `json:"cost"`
	// Vetting: each participant is vetted by the offering side before a
	// seat is confirmed (US-funded training: Leahy vetting).
	Vetting bool `json:"vetting_required"`
	// Waitlist: nominations beyond the seats wait for one.
	Waitlist bool `json:"waitlist"`
	// Audience are the partner's agencies invited (none: any).
	Audience []string `json:"audience,omitempty"`
	// Scenario describes an exercise.
	Scenario string `json:"scenario,omitempty"`
	Agency   string `json:"agency"` // the offering agency
	// NominateBy is the last day for the partner's nominations.
	NominateBy string `json:"nominate_by"`
	// VettingDays is the offering side's commitment, from the agreement,
	// for a vetting decision (and any answer to a nomination).
	VettingDays int           `json:"vetting_days"`
	DraftedBy   string        `json:"drafted_by"`
	PublishedBy string        `json:"published_by,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	PublishedAt time.Time     `json:"published_at,omitzero"`
	Nominations []*Nomination `json:"nominations"`
	// Commitments are an exercise's units and resources, by side.
	Commitments map[string]*Commitment `json:"commitments,omitempty"`
	Reports     []Report               `json:"reports,omitempty"`
	History     []Event                `json:"history"`
}

// Nomination returns the nomination id, or nil.
func (o *Offer) Nomination(id string) *Nomination {
	for _, n := range o.Nominations {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Count is the number of nominations with one of the statuses.
func (o *Offer) Count(status ...string) int {
	c := 0
	for _, n := range o.Nominations {
		if slices.Contains(status, n.Status) {
			c++
		}
	}
	return c
}

// Days are the course's days, first to last.
func (o *Offer) Days() []string {
	s, err1 := time.Parse(time.DateOnly, o.Start)
	e, err2 := time.Parse(time.DateOnly, o.End)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	for d := s; !d.After(e) && len(out) < 400; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func (o *Offer) event(at time.Time, side, by, what, detail string) {
	o.History = append(o.History, Event{At: at, Side: side, By: by, What: what, Detail: detail})
}
