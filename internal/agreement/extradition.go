package agreement

import (
	"fmt"
	"slices"
	"time"
)

// Extradition holds the legal terms of extradition cases that the parties
// agreed to track: each term with the article or law it comes from, so
// the clocks come from the signed agreement, not from code. Zero values:
// the defaults of the reference agreement (DefaultTerms), which Draft
// writes out in full.
type Extradition struct {
	Terms []Term `json:"terms,omitempty"`
	// WarnDays are the days before a due date at which the responsible
	// side's legal and coordinator users are warned.
	WarnDays []int `json:"warn_days,omitempty"`
	// ClosedDays are days, per side ("MX", "US"), on which that side's
	// offices and courts do not count as business days besides the
	// public holidays (YYYY-MM-DD): judicial vacations, closures.
	ClosedDays map[string][]string `json:"closed_days,omitempty"`
}

// Term is one legal term: a clock that starts when a case reaches From
// and stops when it reaches any of Until.
type Term struct {
	ID string `json:"id"`
	// Party is who must act before the term runs out: "requesting" or
	// "requested".
	Party string `json:"party"`
	// Requested, when set, limits the term to cases whose requested side
	// it names: the requested side's own law ("MX": Ley de Extradición
	// Internacional).
	Requested string   `json:"requested,omitempty"`
	From      string   `json:"from"`
	Until     []string `json:"until"`
	Days      int      `json:"days"`
	// Business counts business days on the calendar of the side that
	// must act (its public holidays and closed days); else calendar days.
	Business bool   `json:"business,omitempty"`
	Source   string `json:"source"`
	// Assumption says what about the term is the drafters' reading, to
	// be confirmed by the parties' lawyers.
	Assumption string `json:"assumption,omitempty"`
}

// Term parties.
const (
	TermRequesting = "requesting"
	TermRequested  = "requested"
)

// DefaultWarnDays are the warning points of the reference agreement.
var DefaultWarnDays = []int{30, 15, 7, 3, 1}

// DefaultTerms are the terms of the reference agreement, under the 1978
// extradition treaty between Mexico and the United States, Mexico's Ley
// de Extradición Internacional (LEI) and Ley de Amparo, and 18 U.S.C.
// §§ 3184–3188. docs/extradition.md lists each with what is verified.
func DefaultTerms() []Term {
	return []Term{
		{ID: "formal_request", Party: TermRequesting, From: "arrested", Until: []string{"formal_request", "released"}, Days: 60,
			Source: "Extradition Treaty MX–US (1978), Art. 11(3): the person provisionally arrested is released if the formal request is not received within 60 days of the arrest; the requesting side's commitment formal_request_days"},
		{ID: "mx_judge_opinion", Party: TermRequested, Requested: "MX", From: "proceedings_opened", Until: []string{"judge_opinion"}, Days: 28, Business: true,
			Source:     "Ley de Extradición Internacional, Arts. 25 and 27: three days to raise objections, up to twenty to prove them, then five for the judge's opinion",
			Assumption: "the three terms are added end to end in business days; a judge may shorten the evidence term"},
		{ID: "mx_ministry_decision", Party: TermRequested, Requested: "MX", From: "judge_opinion", Until: []string{"ministry_decision"}, Days: 20, Business: true,
			Source: "Ley de Extradición Internacional, Art. 30: the foreign ministry decides within twenty days of the judge's opinion"},
		{ID: "mx_amparo", Party: TermRequested, Requested: "MX", From: "ministry_decision", Until: []string{"amparo_filed", "surrendered", "refused"}, Days: 15, Business: true,
			Source:     "Ley de Amparo, Art. 17: fifteen days to seek amparo against the decision",
			Assumption: "counted from the decision, not from its notification to the person"},
		{ID: "mx_surrender", Party: TermRequesting, Requested: "MX", From: "surrender_ordered", Until: []string{"surrendered"}, Days: 60,
			Source:     "Ley de Extradición Internacional, Art. 35: the person is set free if the requesting state does not take custody within sixty calendar days of being placed at its disposal",
			Assumption: "the person is placed at the requesting side's disposal on the day surrender is ordered"},
		{ID: "us_surrender", Party: TermRequesting, Requested: "US", From: "surrender_ordered", Until: []string{"surrendered"}, Days: 60,
			Source:     "18 U.S.C. § 3188: a person not delivered within two calendar months of commitment may be discharged",
			Assumption: "two calendar months counted as sixty days, from the Secretary's surrender warrant"},
	}
}

// ExtraditionTerms are the agreement's terms, or the defaults for an
// agreement drafted before they were written out.
func (a *Agreement) ExtraditionTerms() []Term {
	if len(a.Extradition.Terms) > 0 {
		return a.Extradition.Terms
	}
	return DefaultTerms()
}

// ExtraditionWarnDays are the warning points.
func (a *Agreement) ExtraditionWarnDays() []int {
	if len(a.Extradition.WarnDays) > 0 {
		return a.Extradition.WarnDays
	}
	return DefaultWarnDays
}

// check refuses terms a node could not run: each needs an id of its own,
// a party, the stages that start and stop it, 1 to 3,650 days and its
// source; warning points are 1 to 365 days; closed days are dates.
func (e Extradition) check(a *Agreement) error {
	seen := map[string]bool{}
	for i, t := range e.Terms {
		switch {
		case t.ID == "" || seen[t.ID]:
			return fmt.Errorf("extradition.terms[%d]: an id, different from the others", i)
		case t.Party != TermRequesting && t.Party != TermRequested:
			return fmt.Errorf("extradition.terms[%d] (%s): party is requesting or requested", i, t.ID)
		case t.From == "" || len(t.Until) == 0:
			return fmt.Errorf("extradition.terms[%d] (%s): the stages that start and stop it (from, until)", i, t.ID)
		case t.Days < 1 || t.Days > 3650:
			return fmt.Errorf("extradition.terms[%d] (%s): days is 1 to 3,650", i, t.ID)
		case t.Source == "":
			return fmt.Errorf("extradition.terms[%d] (%s): the treaty article or law it comes from (source)", i, t.ID)
		case t.Requested != "" && !slices.ContainsFunc(a.Parties, func(p Party) bool { return p.Code == t.Requested }):
			return fmt.Errorf("extradition.terms[%d] (%s): requested names no party", i, t.ID)
		}
		seen[t.ID] = true
	}
	for _, d := range e.WarnDays {
		if d < 1 || d > 365 {
			return fmt.Errorf("extradition.warn_days: 1 to 365, not %d", d)
		}
	}
	for side, days := range e.ClosedDays {
		for _, d := range days {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return fmt.Errorf("extradition.closed_days.%s: %q is not a date (YYYY-MM-DD)", side, d)
			}
		}
	}
	return nil
}
