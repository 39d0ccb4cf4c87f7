package extradition

import (
	"fmt"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/us"

	"puente/internal/agreement"
)

// Mexico's days without business, as data with their source. The
// calendar library's own Mexican list keeps fixed dates that the Ley
// Federal del Trabajo moved to Mondays in 2006, so it is not used.
var (
	// mxRestDays are the mandatory rest days of the Ley Federal del
	// Trabajo, Art. 74 (the election days of section IX are closed days
	// the agreement adds, Extradition.ClosedDays).
	mxRestDays = []*cal.Holiday{
		{Name: "Año Nuevo", Description: "LFT Art. 74-I", Type: cal.ObservancePublic, Month: time.January, Day: 1, Func: cal.CalcDayOfMonth},
		{Name: "Día de la Constitución", Description: "LFT Art. 74-II: primer lunes de febrero", Type: cal.ObservancePublic, Month: time.February, Weekday: time.Monday, Offset: 1, Func: cal.CalcWeekdayOffset},
		{Name: "Natalicio de Benito Juárez", Description: "LFT Art. 74-III: tercer lunes de marzo", Type: cal.ObservancePublic, Month: time.March, Weekday: time.Monday, Offset: 3, Func: cal.CalcWeekdayOffset},
		{Name: "Día del Trabajo", Description: "LFT Art. 74-IV", Type: cal.ObservancePublic, Month: time.May, Day: 1, Func: cal.CalcDayOfMonth},
		{Name: "Día de la Independencia", Description: "LFT Art. 74-V", Type: cal.ObservancePublic, Month: time.September, Day: 16, Func: cal.CalcDayOfMonth},
		{Name: "Transmisión del Poder Ejecutivo Federal", Description: "LFT Art. 74-VII: 1 de octubre de cada seis años (2024, 2030…)", Type: cal.ObservancePublic, Month: time.October, Day: 1,
			Func: func(h *cal.Holiday, year int) time.Time {
				if year < 2024 || (year-2024)%6 != 0 {
					return time.Time{}
				}
				return cal.CalcDayOfMonth(h, year)
			}},
		{Name: "Día de la Revolución", Description: "LFT Art. 74-VI: tercer lunes de noviembre", Type: cal.ObservancePublic, Month: time.November, Weekday: time.Monday, Offset: 3, Func: cal.CalcWeekdayOffset},
		{Name: "Navidad", Description: "LFT Art. 74-VIII", Type: cal.ObservancePublic, Month: time.December, Day: 25, Func: cal.CalcDayOfMonth},
	}
	// mxCourtDays are the federal courts' non-working days besides
	// weekends (Ley de Amparo, Art. 19), on their fixed dates.
	mxCourtDays = []*cal.Holiday{
		{Name: "5 de febrero", Description: "Ley de Amparo Art. 19", Type: cal.ObservanceOther, Month: time.February, Day: 5, Func: cal.CalcDayOfMonth},
		{Name: "21 de marzo", Description: "Ley de Amparo Art. 19", Type: cal.ObservanceOther, Month: time.March, Day: 21, Func: cal.CalcDayOfMonth},
		{Name: "5 de mayo", Description: "Ley de Amparo Art. 19", Type: cal.ObservanceOther, Month: time.May, Day: 5, Func: cal.CalcDayOfMonth},
		{Name: "14 de septiembre", Description: "Ley de Amparo Art. 19", Type: cal.ObservanceOther, Month: time.September, Day: 14, Func: cal.CalcDayOfMonth},
		{Name: "12 de octubre", Description: "Ley de Amparo Art. 19", Type: cal.ObservanceOther, Month: time.October, Day: 12, Func: cal.CalcDayOfMonth},
		{Name: "20 de noviembre", Description: "Ley de Amparo Art. 19", Type: cal.ObservanceOther, Month: time.November, Day: 20, Func: cal.CalcDayOfMonth},
	}
)

// Calendars are the business-day calendars of both sides under one
// agreement: weekends, each side's public holidays (the United States'
// federal holidays, 5 U.S.C. § 6103, as observed; Mexico's rest days and
// federal courts' days above) and the agreement's closed days.
type Calendars struct {
	mu  sync.Mutex
	ag  *agreement.Agreement
	cal map[string]*cal.BusinessCalendar
}

// NewCalendars builds them for ag.
func NewCalendars(ag *agreement.Agreement) *Calendars {
	return &Calendars{ag: ag, cal: map[string]*cal.BusinessCalendar{}}
}

func (c *Calendars) of(side string) *cal.BusinessCalendar {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bc, ok := c.cal[side]; ok {
		return bc
	}
	bc := cal.NewBusinessCalendar()
	bc.Cacheable = true
	switch side {
	case "US":
		bc.AddHoliday(us.Holidays...)
	case "MX":
		bc.AddHoliday(mxRestDays...)
		bc.AddHoliday(mxCourtDays...)
	}
	for _, d := range c.ag.Extradition.ClosedDays[side] {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			continue // the agreement's check refuses it
		}
		bc.AddHoliday(&cal.Holiday{Name: "closed " + d, Description: "the agreement's closed days", Type: cal.ObservanceOther,
			StartYear: t.Year(), EndYear: t.Year(), Month: t.Month(), Day: t.Day(), Func: cal.CalcDayOfMonth})
	}
	c.cal[side] = bc
	return bc
}

// Workday reports whether day is a business day of side.
func (c *Calendars) Workday(side string, day time.Time) bool {
	return c.of(side).IsWorkday(dateOf(day))
}

// Due is the last day of a term of days that starts on start: calendar
// days, or business days of side (the day of the start does not count).
func (c *Calendars) Due(side string, start time.Time, days int, business bool) time.Time {
	start = dateOf(start)
	if !business {
		return start.AddDate(0, 0, days)
	}
	return c.of(side).WorkdaysFrom(start, days)
}

// Left is how many days remain from today to due: calendar days, and
// business days of side after today up to due (negative when overdue).
func (c *Calendars) Left(side string, today, due time.Time) (calendar, business int) {
	today, due = dateOf(today), dateOf(due)
	calendar = int(due.Sub(today).Hours() / 24)
	if calendar <= 0 {
		return calendar, calendar
	}
	bc := c.of(side)
	for d := today.AddDate(0, 0, 1); !d.After(due); d = d.AddDate(0, 0, 1) {
		if bc.IsWorkday(d) {
			business++
		}
	}
	return calendar, business
}

// dateOf is t's date at midnight UTC: clocks count whole days.
func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Clock is one running or stopped term of a case.
type Clock struct {
	Term     string    `json:"term"`
	Party    string    `json:"party"` // the side that must act: "MX" or "US"
	Started  time.Time `json:"started"`
	Due      time.Time `json:"due"`
	Days     int       `json:"days"`
	Business bool      `json:"business,omitempty"`
	// Stopped is the day the stage that stops it was reached; Met tells
	// whether that was by the due date.
	Stopped time.Time `json:"stopped,omitzero"`
	Met     bool      `json:"met,omitempty"`
	Source  string    `json:"source"`
	// Computed for the reader, as of today.
	Left         int  `json:"days_left"`
	BusinessLeft int  `json:"business_days_left,omitempty"`
	Overdue      bool `json:"overdue,omitempty"`
}

// Open reports whether the clock still runs.
func (k *Clock) Open() bool { return k.Stopped.IsZero() }

// clocks computes a case's clocks from its stages and the agreement's
// terms: the same facts give the same clocks on both nodes.
func (c *Calendars) clocks(cs *Case, today time.Time) []Clock {
	var out []Clock
	for _, t := range c.ag.ExtraditionTerms() {
		if t.Requested != "" && t.Requested != cs.Requested {
			continue
		}
		start, ok := cs.reached(t.From)
		if !ok {
			continue
		}
		party := cs.Requested
		if t.Party == agreement.TermRequesting {
			party = cs.Requesting
		}
		days := t.Days
		if t.ID == "formal_request" {
			if d := c.ag.Commitments[cs.Requesting].FormalRequestDays; d > 0 {
				days = d
			}
		}
		k := Clock{Term: t.ID, Party: party, Started: start, Days: days, Business: t.Business, Source: t.Source}
		k.Due = c.Due(party, start, days, t.Business)
		for _, u := range t.Until {
			if at, ok := cs.reached(u); ok && (k.Stopped.IsZero() || at.Before(k.Stopped)) {
				k.Stopped = at
			}
		}
		if k.Open() {
			k.Left, k.BusinessLeft = c.Left(party, today, k.Due)
			if !t.Business {
				k.BusinessLeft = 0
			}
			k.Overdue = dateOf(today).After(k.Due)
		} else {
			k.Met = !dateOf(k.Stopped).After(k.Due)
		}
		out = append(out, k)
	}
	return out
}

// String is a clock for logs.
func (k Clock) String() string {
	return fmt.Sprintf("%s(%s) due %s", k.Term, k.Party, k.Due.Format(time.DateOnly))
}
