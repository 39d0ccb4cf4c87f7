package extradition

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"puente/internal/fault"
	"puente/internal/input"
)

// Case kinds: an extradition under the treaty, or a transfer under
// another legal basis (the 29 of February 2025 and the 26 of August were
// transfers, each a group with one list, one date and one set of
// destination districts).
const (
	KindExtradition = "extradition"
	KindTransfer    = "transfer"
)

// Stages of a case, each recorded by the side it belongs to (Owner).
const (
	ProvisionalRequest = "provisional_request" // requesting: provisional arrest requested (urgent)
	Arrested           = "arrested"            // requested: arrest made (date, place)
	FormalRequest      = "formal_request"      // requesting: the formal request and its Art. 10 documents
	ProceedingsOpened  = "proceedings_opened"  // requested: the judge takes the case
	JudgeOpinion       = "judge_opinion"       // MX: the judge's opinion (LEI Art. 27)
	MinistryDecision   = "ministry_decision"   // MX: the foreign ministry's decision (LEI Art. 30); outcome
	AmparoFiled        = "amparo_filed"        // MX: the person seeks amparo
	AmparoResolved     = "amparo_resolved"     // MX: the amparo is decided; outcome
	Hearing            = "hearing"             // US: the extradition hearing (18 U.S.C. § 3184)
	Certification      = "certification"       // US: certification of extraditability; outcome
	SecretaryDecision  = "secretary_decision"  // US: the Secretary of State's decision; outcome
	SurrenderOrdered   = "surrender_ordered"   // requested: the person is placed at the requesting side's disposal
	TemporarySurrender = "temporary_surrender" // requested: surrendered for trial while serving a sentence here (1997 Protocol)
	TemporaryReturn    = "temporary_return"    // requesting: the person is returned after the trial
	Surrendered        = "surrendered"         // requested: date, port or airport, escorting agency
	Refused            = "refused"             // requested: extradition refused
	Released           = "released"            // requested: the person is set free (a lapsed term, say)
	TransferAgreed     = "transfer_agreed"     // requested: a transfer under another legal basis agreed
	Transferred        = "transferred"         // requested: the person handed over
)

// Outcomes of the stages that decide.
const (
	Granted = "granted"
	Denied  = "denied"
)

// flows are the stages of a case, in order, by kind and requested side.
var flows = map[string][]string{
	KindExtradition + ":MX": {ProvisionalRequest, Arrested, FormalRequest, ProceedingsOpened, JudgeOpinion, MinistryDecision, AmparoFiled, AmparoResolved, TemporarySurrender, TemporaryReturn, SurrenderOrdered, Surrendered, Refused, Released},
	KindExtradition + ":US": {ProvisionalRequest, Arrested, FormalRequest, ProceedingsOpened, Hearing, Certification, SecretaryDecision, TemporarySurrender, TemporaryReturn, SurrenderOrdered, Surrendered, Refused, Released},
	KindTransfer + ":MX":    {TransferAgreed, Transferred},
	KindTransfer + ":US":    {TransferAgreed, Transferred},
}

// AllStages lists every stage, for translations.
var AllStages = []string{ProvisionalRequest, Arrested, FormalRequest, ProceedingsOpened, JudgeOpinion, MinistryDecision, AmparoFiled, AmparoResolved,
	Hearing, Certification, SecretaryDecision, TemporarySurrender, TemporaryReturn, SurrenderOrdered, Surrendered, Refused, Released, TransferAgreed, Transferred}

// requestingStages are recorded by the requesting side; every other by
// the requested side.
var requestingStages = []string{ProvisionalRequest, FormalRequest, TemporaryReturn}

// Decisions are the stages with an outcome.
var Decisions = []string{MinistryDecision, AmparoResolved, Certification, SecretaryDecision}

// final stages close a case.
var final = []string{Surrendered, Refused, Released, Transferred}

// requires says what must have happened before a stage (any one of).
var requires = map[string][]string{
	ProceedingsOpened: {FormalRequest},
	JudgeOpinion:      {ProceedingsOpened},
	MinistryDecision:  {JudgeOpinion},
	AmparoFiled:       {MinistryDecision},
	AmparoResolved:    {AmparoFiled},
	Hearing:           {ProceedingsOpened},
	Certification:     {Hearing},
	SecretaryDecision: {Certification},
	Surrendered:       {SurrenderOrdered},
	TemporaryReturn:   {TemporarySurrender},
	Released:          {Arrested},
	Transferred:       {TransferAgreed},
}

// Case is one extradition or transfer, from one side to the other.
type Case struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Requesting string `json:"requesting"` // the side that wants the person
	Requested  string `json:"requested"`  // the side that holds or seeks them
	OpenedBy   string `json:"opened_by"`  // the side that opened the case here
	Agency     string `json:"agency"`     // the opening agency
	Person     Person `json:"person"`
	// Target is the priority target the case is about, if any.
	Target string `json:"target,omitempty"`
	Group  string `json:"group,omitempty"` // a grouped transfer's name
	// Destination is the district or court the person goes to ("S.D.N.Y.").
	Destination string    `json:"destination,omitempty"`
	Charges     string    `json:"charges,omitempty"`
	Opened      time.Time `json:"opened_at"`
	Stages      []Stage   `json:"stages"`
	// Assurances are the requesting side's undertakings, tracked until
	// the outcome.
	Assurances []Assurance `json:"assurances,omitempty"`

	// Kept on each node, never crossing: the partner's envelopes behind
	// the case (reported when our users read it), and the clocks as of
	// today (computed).
	Envelopes []string `json:"-"`
	Clocks    []Clock  `json:"clocks,omitempty"`
}

// Person is who a case is about.
type Person struct {
	Name        string `json:"name"`
	DOB         string `json:"dob,omitempty"`
	Nationality string `json:"nationality,omitempty"`
}

// Stage is one step of a case: a fact the side it belongs to records.
type Stage struct {
	Case    string    `json:"case"`
	Stage   string    `json:"stage"`
	Date    string    `json:"date"` // YYYY-MM-DD: when it happened
	Place   string    `json:"place,omitempty"`
	Outcome string    `json:"outcome,omitempty"` // granted or denied, for the stages that decide
	Escort  string    `json:"escort,omitempty"`  // the escorting agency of a surrender or transfer
	Note    string    `json:"note,omitempty"`
	Side    string    `json:"side"`
	Agency  string    `json:"agency"`
	By      string    `json:"by"`
	At      time.Time `json:"at"` // when it was recorded
}

// Owner is the side that records stage st in c.
func (c *Case) Owner(st string) string {
	if slices.Contains(requestingStages, st) {
		return c.Requesting
	}
	return c.Requested
}

// reached returns the date of stage st, if the case reached it.
func (c *Case) reached(st string) (time.Time, bool) {
	for _, s := range c.Stages {
		if s.Stage == st {
			d, err := time.Parse(time.DateOnly, s.Date)
			return d, err == nil
		}
	}
	return time.Time{}, false
}

func (c *Case) stage(st string) *Stage {
	for i := range c.Stages {
		if c.Stages[i].Stage == st {
			return &c.Stages[i]
		}
	}
	return nil
}

// Current is the last stage reached, or "" for none.
func (c *Case) Current() string {
	if len(c.Stages) == 0 {
		return ""
	}
	return c.Stages[len(c.Stages)-1].Stage
}

// Closed reports whether the case reached a final stage.
func (c *Case) Closed() bool { return slices.Contains(final, c.Current()) }

// Flow is the stages of the case, in order.
func (c *Case) Flow() []string { return flows[c.Kind+":"+c.Requested] }

// checkCase verifies a case as it is opened and as the partner's copy
// arrives.
func checkCase(c *Case, parties []string) error {
	if c.Kind != KindExtradition && c.Kind != KindTransfer {
		return fault.Field("kind", "invalid_kind")
	}
	if !slices.Contains(parties, c.Requesting) || !slices.Contains(parties, c.Requested) || c.Requesting == c.Requested {
		return fault.Field("requested", "invalid_side")
	}
	c.Person.Name = strings.Join(strings.Fields(c.Person.Name), " ")
	if err := text("person.name", c.Person.Name, MaxShort, true); err != nil {
		return err
	}
	if err := date("person.dob", c.Person.DOB, time.Now().Add(24*time.Hour), false); err != nil {
		return err
	}
	if n := c.Person.Nationality; n != "" && (len(n) != 2 || strings.ToUpper(n) != n) {
		return fault.Field("person.nationality", "invalid_country")
	}
	if err := text("group", c.Group, MaxShort, false); err != nil {
		return err
	}
	if err := text("destination", c.Destination, MaxShort, false); err != nil {
		return err
	}
	if c.Group != "" && c.Kind != KindTransfer {
		return fault.Field("group", "group_only_transfers")
	}
	return input.Text("charges", c.Charges, MaxText, input.Multiline)
}

// apply adds stage s, recorded by side, to c, or says why not: the stage
// must belong to the case's flow and to side, come once, after what it
// requires and on or after every earlier stage's date, and not after the
// case closed. now bounds the date.
func apply(c *Case, side string, s *Stage, now time.Time) error {
	flow := c.Flow()
	if !slices.Contains(flow, s.Stage) {
		return fault.Field("stage", "not_in_flow")
	}
	if c.Owner(s.Stage) != side {
		return fault.Field("stage", "other_side")
	}
	if c.Closed() {
		return fault.Field("stage", "case_closed")
	}
	if c.stage(s.Stage) != nil {
		return fault.Field("stage", "already_reached")
	}
	if err := date("date", s.Date, now, true); err != nil {
		return err
	}
	// Stages are recorded in the order they happen.
	for _, prev := range c.Stages {
		if s.Date < prev.Date {
			return fault.Field("date", beforeCode(prev.Stage))
		}
	}
	if s.Stage == ProvisionalRequest && len(c.Stages) > 0 {
		return fault.Field("stage", "out_of_order")
	}
	if req, ok := requires[s.Stage]; ok && !slices.ContainsFunc(req, func(r string) bool { return c.stage(r) != nil }) {
		return fault.Field("stage", "out_of_order")
	}
	if slices.Contains(Decisions, s.Stage) {
		if s.Outcome != Granted && s.Outcome != Denied {
			return fault.Field("outcome", "required")
		}
	} else if s.Outcome != "" {
		return fault.Field("outcome", "not_a_decision")
	}
	switch s.Stage {
	case SurrenderOrdered, TemporarySurrender:
		// A surrender needs a decision that grants it, and no amparo
		// pending or granted.
		dec := c.stage(MinistryDecision)
		if c.Requested == "US" {
			dec = c.stage(SecretaryDecision)
		}
		if dec == nil || dec.Outcome != Granted {
			return fault.Field("stage", "no_decision")
		}
		if c.stage(AmparoFiled) != nil {
			if r := c.stage(AmparoResolved); r == nil || r.Outcome != Denied {
				return fault.Field("stage", "amparo_pending")
			}
		}
		if s.Stage == SurrenderOrdered && c.stage(TemporarySurrender) != nil && c.stage(TemporaryReturn) == nil {
			return fault.Field("stage", "temporarily_surrendered")
		}
	case AmparoFiled:
		if d := c.stage(MinistryDecision); d == nil || d.Outcome != Granted {
			return fault.Field("stage", "no_decision")
		}
	case SecretaryDecision:
		if c.stage(Certification).Outcome != Granted {
			return fault.Field("stage", "not_certified")
		}
	case Refused:
		if !slices.ContainsFunc(c.Stages, func(p Stage) bool { return slices.Contains(Decisions, p.Stage) && p.Outcome == Denied }) {
			return fault.Field("stage", "no_decision")
		}
	}
	for _, f := range []struct {
		field, v string
	}{{"place", s.Place}, {"escort", s.Escort}} {
		if err := text(f.field, f.v, MaxShort, false); err != nil {
			return err
		}
	}
	if (s.Stage == Arrested || s.Stage == Surrendered || s.Stage == Transferred || s.Stage == TemporarySurrender) && strings.TrimSpace(s.Place) == "" {
		return fault.Field("place", "required")
	}
	if err := input.Text("note", s.Note, MaxText, input.Multiline); err != nil {
		return err
	}
	c.Stages = append(c.Stages, *s)
	return nil
}

// beforeCode is the error code of a date before an earlier stage's:
// "before_arrested".
func beforeCode(stage string) string { return "before_" + stage }

// BeforeCodes are those codes, for translations.
func BeforeCodes() []string {
	out := make([]string, len(AllStages))
	for i, s := range AllStages {
		out[i] = beforeCode(s)
	}
	return out
}

// Title is how a case is named in lists.
func (c *Case) Title() string {
	if c.Group != "" {
		return fmt.Sprintf("%s (%s)", c.Person.Name, c.Group)
	}
	return c.Person.Name
}

// NextStages are the stages side may record now in c: those of its own
// that apply would accept today (dates aside).
func NextStages(c *Case, side string, today time.Time) []string {
	var out []string
	for _, st := range c.Flow() {
		if c.Owner(st) != side {
			continue
		}
		probe := *c
		probe.Stages = slices.Clone(c.Stages)
		s := Stage{Stage: st, Date: today.Format(time.DateOnly), Place: "-"}
		if slices.Contains(Decisions, st) {
			s.Outcome = Granted
		}
		if apply(&probe, side, &s, today) == nil {
			out = append(out, st)
			continue
		}
		// A refusal needs a denial, which the probe did not try.
		if st == Refused && slices.ContainsFunc(c.Stages, func(p Stage) bool { return slices.Contains(Decisions, p.Stage) && p.Outcome == Denied }) && !c.Closed() {
			out = append(out, st)
		}
	}
	return out
}
