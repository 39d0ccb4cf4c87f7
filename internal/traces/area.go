package traces

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/seizures"
	"puente/internal/store"
)

// Open builds the traces area of a node, after the seizures area.
func Open(d area.Deps) (area.Area, error) {
	return New(Config{DB: d.DB, Link: d.Link, Hub: d.Hub, Agreement: d.Agreement, Logger: d.Logger, Seizures: area.Find[*seizures.Service](d.Opened)}), nil
}

// Of returns the traces area of a node.
func Of(h area.Holder) *Service { return area.Find[*Service](h) }

// Name is the area's name.
func (s *Service) Name() string { return Name }

// Kinds are the kinds the partner sends.
func (s *Service) Kinds() []area.Kind {
	return []area.Kind{
		{Kind: KindRequest, Version: 1, Handler: link.HandlerFunc(s.applyRequest)},
		{Kind: KindUpdate, Version: 1, Handler: link.HandlerFunc(s.applyUpdate)},
	}
}

// Event: a change to a trace refreshes its page ("traces:ID") and the
// list, for users who may see it.
func (s *Service) Event(ctx context.Context, u *auth.User, e live.Event) (string, string, bool) {
	if e.Topic != Name || !u.Can(auth.TraceRead) {
		return "", "", false
	}
	t, err := load(ctx, s.db.Read(), e.Key)
	if err != nil || !t.Visible(u, s.self) {
		return "", "", false
	}
	return Name, e.Key, true
}

// Work is what waits for u: drafts to sponsor (a sponsor who did not
// prepare them), returned traces to correct (the preparing agency), the
// partner's traces to accept and work, with their deadline.
func (s *Service) Work(ctx context.Context, u *auth.User) (string, []area.WorkItem, error) {
	if !u.Can(auth.TraceRead) || u.Can(auth.ReadAll) {
		return Name, nil, nil
	}
	list, err := s.List(ctx, u, "")
	if err != nil {
		return Name, nil, err
	}
	now := s.Now()
	var out []area.WorkItem
	for _, t := range list {
		it := area.WorkItem{Title: t.Title(), Link: "/traces/t/" + t.ID}
		switch {
		case t.Origin == s.self && t.Status == StatusDraft && u.Can(auth.TraceSponsor) && slices.Contains(SponsorAgencies[s.self], u.Agency) && t.PreparedBy != u.Username:
			it.Key = "tr.work.sponsor"
		case t.Origin == s.self && t.Status == StatusReturned && u.Agency == t.Agency && u.Can(auth.TraceRequest):
			it.Key = "tr.work.correct"
		case t.Origin != s.self && t.Open() && t.Status != StatusReturned && u.Can(auth.TraceWork):
			it.Key = "tr.work.trace"
			it.Due, it.Overdue = t.Due, now.After(t.Due)
			if t.Priority == Urgent {
				it.Flag = "tr.priority.urgent"
			}
		default:
			continue
		}
		out = append(out, it)
	}
	return Name, out, nil
}

// SideFigures are the figures of the traces one side requested: the
// same on both nodes, computed from the submitted traces both hold.
type SideFigures struct {
	Party          string         `json:"party"`
	Requested      int            `json:"requested"`
	Completed      int            `json:"completed"`
	NotCompleted   int            `json:"not_completed"`
	Open           int            `json:"open"`
	Overdue        int            `json:"overdue"`
	OnTime         int            `json:"answered_on_time"`
	Late           int            `json:"answered_late"`
	SuccessRate    float64        `json:"success_rate"`
	MedianHours    float64        `json:"median_turnaround_hours"`
	CommitmentDays int            `json:"commitment_days"`
	ByAgency       map[string]int `json:"requests_by_agency"`
	SuccessAgency  map[string]int `json:"completed_by_agency"`
	AnsweredAgency map[string]int `json:"answered_by_agency"`
	ByMonth        map[string]int `json:"requests_by_month"`
	TimeToCrime    map[string]int `json:"time_to_crime"` // buckets
	ShortTTC       int            `json:"short_time_to_crime"`
	SourceStates   map[string]int `json:"source_states"`
}

// TTCBuckets are the time-to-crime buckets, in years.
var TTCBuckets = []string{"under_1", "1_3", "3_5", "5_10", "over_10"}

func bucket(days int) string {
	y := float64(days) / 365
	switch {
	case y < 1:
		return "under_1"
	case y < 3:
		return "1_3"
	case y < 5:
		return "3_5"
	case y < 10:
		return "5_10"
	}
	return "over_10"
}

// Figures are the traces figures per requesting side.
type Figures struct {
	Sides []SideFigures `json:"sides"`
	// TopDealers are the dealers that sold the most traced guns, counted
	// over the results whose caveats reach the user (FiguresFor); empty
	// in the node-wide figures.
	TopDealers []DealerCount `json:"top_dealers,omitempty"`
}

// DealerCount is one dealer and the traced guns it sold, per requesting
// side.
type DealerCount struct {
	Dealer
	Guns   int            `json:"guns"`
	BySide map[string]int `json:"by_side"`
	Short  int            `json:"short_time_to_crime"`
}

// FiguresFor is Figures for u, with the top ten dealers among the results
// u may read.
func (s *Service) FiguresFor(ctx context.Context, u *auth.User) (*Figures, error) {
	if !u.Can(auth.TraceRead) {
		return nil, ErrForbidden
	}
	f, err := s.Figures(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT doc FROM traces WHERE status = ?`, StatusCompleted)
	if err != nil {
		return nil, fmt.Errorf("reading completed traces: %w", err)
	}
	done, err := store.Collect(rows, scan)
	if err != nil {
		return nil, err
	}
	by := map[string]*DealerCount{}
	for _, t := range done {
		if t.Result == nil || t.Result.Dealer == nil || !t.Visible(u, s.self) || !t.ResultReleasable(u, s.self) {
			continue
		}
		d := by[t.Result.Dealer.Licence]
		if d == nil {
			d = &DealerCount{Dealer: *t.Result.Dealer, BySide: map[string]int{}}
			by[t.Result.Dealer.Licence] = d
		}
		d.Guns++
		d.BySide[t.Origin]++
		if t.Result.Short {
			d.Short++
		}
	}
	for _, d := range by {
		f.TopDealers = append(f.TopDealers, *d)
	}
	slices.SortFunc(f.TopDealers, func(a, b DealerCount) int {
		if a.Guns != b.Guns {
			return b.Guns - a.Guns
		}
		return strings.Compare(a.Licence, b.Licence)
	})
	if len(f.TopDealers) > 10 {
		f.TopDealers = f.TopDealers[:10]
	}
	return f, nil
}

// Figures computes them from the submitted traces.
func (s *Service) Figures(ctx context.Context) (*Figures, error) {
	// Each trace decoded once per change (the figures only read them).
	all, err := s.figures.Load(ctx, s.db.Read(), `submitted_at > 0`)
	if err != nil {
		return nil, err
	}
	parties := []string{s.self, s.partner}
	slices.Sort(parties)
	now := s.Now()
	f := &Figures{}
	for _, p := range parties {
		sf := SideFigures{Party: p, ByAgency: map[string]int{}, SuccessAgency: map[string]int{}, AnsweredAgency: map[string]int{}, ByMonth: map[string]int{}, TimeToCrime: map[string]int{}, SourceStates: map[string]int{}}
		tracer := s.partner
		if p == s.partner {
			tracer = s.self
		}
		sf.CommitmentDays = int(s.Deadline(tracer, now, Routine).Sub(now).Hours() / 24)
		var hours []float64
		for _, t := range all {
			if t.Origin != p {
				continue
			}
			sf.Requested++
			sf.ByAgency[t.Agency]++
			sf.ByMonth[t.SubmittedAt.Format("2006-01")]++
			switch t.Status {
			case StatusCompleted:
				sf.Completed++
				sf.SuccessAgency[t.Agency]++
				if t.Result != nil {
					sf.TimeToCrime[bucket(t.Result.TimeToCrimeDays)]++
					if t.Result.Short {
						sf.ShortTTC++
					}
					if t.Result.Dealer != nil {
						sf.SourceStates[t.Result.Dealer.State]++
					}
				}
			case StatusNotCompleted:
				sf.NotCompleted++
			default:
				sf.Open++
				if now.After(t.Due) && t.Status != StatusReturned {
					sf.Overdue++
				}
			}
			if t.Status == StatusCompleted || t.Status == StatusNotCompleted {
				sf.AnsweredAgency[t.Agency]++
			}
			if !t.AnsweredAt.IsZero() {
				hours = append(hours, t.AnsweredAt.Sub(t.SubmittedAt).Hours())
				if t.AnsweredAt.After(t.Due) {
					sf.Late++
				} else {
					sf.OnTime++
				}
			}
		}
		if n := sf.Completed + sf.NotCompleted; n > 0 {
			sf.SuccessRate = math.Round(float64(sf.Completed)/float64(n)*1000) / 1000
		}
		if len(hours) > 0 {
			slices.Sort(hours)
			sf.MedianHours = hours[len(hours)/2]
			if len(hours)%2 == 0 {
				sf.MedianHours = (hours[len(hours)/2-1] + hours[len(hours)/2]) / 2
			}
			sf.MedianHours = math.Round(sf.MedianHours*10) / 10
		}
		f.Sides = append(f.Sides, sf)
	}
	return f, nil
}

// Answered counts, per requesting side and agency, the traces answered
// and those completed: [answered, completed]. The training area's later
// use of the tracing course reads it.
func (s *Service) Answered(ctx context.Context) (map[string]map[string][2]int, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT origin, agency, status, COUNT(*) FROM traces WHERE status IN (?, ?) GROUP BY origin, agency, status`,
		StatusCompleted, StatusNotCompleted)
	if err != nil {
		return nil, fmt.Errorf("counting answered traces: %w", err)
	}
	out := map[string]map[string][2]int{}
	_, err = store.Collect(rows, func(sc store.Scanner) (int, error) {
		var origin, agency, status string
		var n int
		if err := sc.Scan(&origin, &agency, &status, &n); err != nil {
			return 0, err
		}
		if out[origin] == nil {
			out[origin] = map[string][2]int{}
		}
		c := out[origin][agency]
		c[0] += n
		if status == StatusCompleted {
			c[1] += n
		}
		out[origin][agency] = c
		return n, nil
	})
	return out, err
}

// Reciprocity is the area's table on the Reciprocity page.
func (s *Service) Reciprocity(ctx context.Context, u *auth.User) (*area.Table, error) {
	if !u.Can(auth.TraceRead) {
		return nil, ErrForbidden
	}
	f, err := s.Figures(ctx)
	if err != nil {
		return nil, err
	}
	t := &area.Table{Area: Name, Title: "area.traces", Live: Name}
	for _, sd := range f.Sides {
		t.Sides = append(t.Sides, sd.Party)
	}
	row := func(label string, cell func(SideFigures) area.Cell) {
		r := area.Row{Label: label}
		for _, sd := range f.Sides {
			r.Cells = append(r.Cells, cell(sd))
		}
		t.Rows = append(t.Rows, r)
	}
	count := func(label string, n func(SideFigures) int, bad func(SideFigures) bool) {
		row(label, func(sd SideFigures) area.Cell {
			return area.Cell{Value: strconv.Itoa(n(sd)), Bad: bad != nil && bad(sd)}
		})
	}
	months := area.Months(s.Now(), area.TrendMonths)
	row("tr.recip.requested", func(sd SideFigures) area.Cell {
		return area.Cell{Value: strconv.Itoa(sd.Requested), Trend: area.Trend(months, sd.ByMonth)}
	})
	count("tr.recip.answered", func(sd SideFigures) int { return sd.Completed + sd.NotCompleted }, nil)
	count("tr.recip.on_time", func(sd SideFigures) int { return sd.OnTime }, nil)
	count("tr.recip.late", func(sd SideFigures) int { return sd.Late }, func(sd SideFigures) bool { return sd.Late > 0 })
	count("tr.recip.overdue", func(sd SideFigures) int { return sd.Overdue }, func(sd SideFigures) bool { return sd.Overdue > 0 })
	row("tr.recip.success", func(sd SideFigures) area.Cell {
		if sd.Completed+sd.NotCompleted == 0 {
			return area.Cell{Value: "—"}
		}
		return area.Cell{Value: fmt.Sprintf("%.0f%%", sd.SuccessRate*100)}
	})
	row("tr.recip.median", func(sd SideFigures) area.Cell {
		if sd.OnTime+sd.Late == 0 {
			return area.Cell{Value: "—"}
		}
		return area.Cell{Value: fmt.Sprintf("%.1f", sd.MedianHours/24), Key: "tr.recip.days", Bad: sd.MedianHours/24 > float64(sd.CommitmentDays)}
	})
	return t, nil
}
