package web

import (
	"errors"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/seizures"
	"puente/internal/traces"
)

func init() {
	Register(traces.Name, func(s *Server) Face {
		return Face{
			Nav: []NavItem{{Path: "/traces", ID: "nav-traces", Label: "nav.traces", Permission: auth.TraceRead},
				{Path: "/traces/figures", ID: "nav-trace-figures", Label: "nav.trace_figures", Permission: auth.TraceRead}},
			LogKinds: []string{traces.KindLogChanged, traces.KindLogMerged, traces.KindLogPrepared, traces.KindLogReceived, traces.KindLogStep, traces.KindLogSent},
			ErrorKey: "tr.error.", FieldKey: "tr.field.",
			Keys: slices.Concat(
				keysOf("tr.status.", traces.Statuses...),
				keysOf("tr.stage.", traces.Stages...),
				keysOf("tr.reason.", traces.NotCompletedReasons...),
				keysOf("tr.crime.", traces.CrimeCodes...),
				keysOf("tr.type.", traces.FirearmTypes...),
				keysOf("tr.problem.", traces.Problems()...),
				keysOf("tr.priority.", traces.Routine, traces.Urgent),
				keysOf("tr.step.", "prepared", "merged", "edited", "submitted", traces.StepAccept, traces.StepReturn, traces.StepProgress, traces.StepComplete, traces.StepNotComplete),
				keysOf("tr.flash.", trFlashKeys...),
				keysOf("tr.ttc.", traces.TTCBuckets...),
				keysOf("tr.field.", "priority", "justification", "crime_code", "officer", "case_number", "firearm", "serial", "obliterated", "manufacturer", "type",
					"calibre", "model", "country", "importer", "markings", "possessor", "name", "aliases", "dob", "address", "recovery", "date", "place",
					"quality", "stage", "reason", "result", "source", "dealer", "licence", "city", "state", "purchaser", "purchase_date", "step", "seizure"),
				[]string{"tr.work.sponsor", "tr.work.correct", "tr.work.trace"},
				keysOf("tr.chart.", "requests_month", "by_agency", "success_agency", "time_to_crime", "source_states"),
			),
			Pages: []Page{
				{Pattern: "GET /traces", Permission: auth.TraceRead, Handle: s.trList},
				{Pattern: "GET /traces/new", Permission: auth.TraceRequest, Handle: s.trNew},
				{Pattern: "POST /traces", Permission: auth.TraceRequest, Handle: s.trCreate},
				{Pattern: "POST /traces/check", Permission: auth.TraceRequest, Handle: s.trCheck},
				{Pattern: "POST /traces/from-seizure/{id}", Permission: auth.TraceRequest, Handle: s.trFromSeizure},
				{Pattern: "GET /traces/t/{id}", Permission: auth.TraceRead, Handle: s.trView},
				{Pattern: "GET /traces/figures", Permission: auth.TraceRead, Handle: s.trFigures},
				{Pattern: "GET /traces/figures.csv", Permission: auth.TraceRead, Handle: s.trFiguresCSV},
				{Pattern: "POST /traces/t/{id}/{action}", Permission: auth.TraceRead, Handle: s.trAction},
			},
		}
	})
}

var trFlashKeys = []string{"prepared", "merged", "submitted", "step", "batch", "edited"}

func (s *Server) trError(v *view, err error) string {
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		v.markField(fe.Field)
		reason := v.T("tr.error." + fe.Code)
		if fe.Field == "quality" {
			reason = v.T("tr.problem." + fe.Code)
		}
		return v.T("tr.error.field", "Field", trFieldLabel(v, fe.Field), "Reason", reason)
	}
	return describeError(v, err, "tr.error.", "wrong_status")
}

func trFieldLabel(v *view, field string) string {
	var parts []string
	for _, p := range strings.Split(field, ".") {
		name, _, _ := strings.Cut(p, "[")
		parts = append(parts, v.T("tr.field."+name))
	}
	return strings.Join(parts, " · ")
}

func trFlash(v *view, r *http.Request) string { return flashOf(v, r, "tr.flash.", trFlashKeys) }

type trListData struct {
	Status   string
	Statuses []string
	Traces   []*traces.Trace
	Self     string
}

func (s *Server) trList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	st := r.URL.Query().Get("status")
	if !slices.Contains(traces.Statuses, st) {
		st = ""
	}
	list, err := traces.Of(s.n).List(r.Context(), u, st)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, trListData{Status: st, Statuses: traces.Statuses, Traces: list, Self: s.n.Config.Party})
	v.Title = v.T("tr.title")
	v.Flash = trFlash(v, r)
	s.render(w, r, http.StatusOK, "traces", v)
}

type trNewData struct {
	CrimeCodes   []string
	FirearmTypes []string
	Quality      traces.Quality
	Checked      bool
	// Edit is the trace being corrected, or "" for a new one.
	Edit string
}

// trForm is a trace as the form's fields, to correct it.
func trForm(t *traces.Trace) map[string]string {
	f := map[string]string{"priority": t.Priority, "justification": t.Justification, "crime_code": t.CrimeCode, "officer": t.Officer, "case_number": t.Case,
		"serial": t.Firearm.Serial, "manufacturer": t.Firearm.Manufacturer, "type": t.Firearm.Type, "calibre": t.Firearm.Calibre, "model": t.Firearm.Model,
		"country": t.Firearm.Country, "importer": t.Firearm.Importer, "markings": t.Firearm.Markings,
		"possessor_name": t.Possessor.Name, "possessor_dob": t.Possessor.DOB, "possessor_address": t.Possessor.Address, "possessor_aliases": strings.Join(t.Possessor.Aliases, " | "),
		"recovery_date": t.Recovery.Date, "recovery_place": t.Recovery.Place, "seizure_id": t.Recovery.SeizureID}
	if t.Firearm.Obliterated {
		f["obliterated"] = "on"
	}
	return f
}

// trFromForm reads a trace request from the form.
func trFromForm(r *http.Request) traces.Trace {
	t := traces.Trace{Priority: r.PostFormValue("priority"), Justification: r.PostFormValue("justification"), CrimeCode: r.PostFormValue("crime_code"),
		Officer: strings.TrimSpace(r.PostFormValue("officer")), Case: strings.TrimSpace(r.PostFormValue("case_number"))}
	decodeForm(r, &t.Firearm, "country")
	t.Possessor = traces.Possessor{Name: strings.TrimSpace(r.PostFormValue("possessor_name")), DOB: strings.TrimSpace(r.PostFormValue("possessor_dob")),
		Address: strings.TrimSpace(r.PostFormValue("possessor_address")), Aliases: splitList(r.PostFormValue("possessor_aliases"))}
	t.Recovery = traces.Recovery{Date: strings.TrimSpace(r.PostFormValue("recovery_date")), Place: strings.TrimSpace(r.PostFormValue("recovery_place")),
		SeizureID: strings.TrimSpace(r.PostFormValue("seizure_id"))}
	return t
}

func (s *Server) renderTrNew(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string, form map[string]string, q traces.Quality, checked bool) {
	v := s.newView(r, u, trNewData{CrimeCodes: traces.CrimeCodes, FirearmTypes: traces.FirearmTypes, Quality: q, Checked: checked, Edit: form["edit"]})
	v.Title = v.T("tr.new")
	v.Form = form
	v.Error = errText
	s.render(w, r, status, "trace_new", v)
}

func (s *Server) trNew(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if id := r.URL.Query().Get("edit"); id != "" {
		t, err := traces.Of(s.n).Get(r.Context(), u, id)
		if err != nil {
			s.notFound(w, r, u)
			return
		}
		form := trForm(t)
		form["edit"] = t.ID
		s.renderTrNew(w, r, u, http.StatusOK, "", form, t.Quality, true)
		return
	}
	form := map[string]string{"priority": traces.Routine}
	for _, k := range []string{"serial", "manufacturer", "model", "calibre", "type", "country", "importer", "recovery_date", "recovery_place", "seizure_id", "case_number"} {
		if v := r.URL.Query().Get(k); v != "" {
			form[k] = v
		}
	}
	s.renderTrNew(w, r, u, http.StatusOK, "", form, traces.Quality{}, false)
}

// trCheck answers the form's live completeness check with the page.
func (s *Server) trCheck(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	s.renderTrNew(w, r, u, http.StatusOK, "", formOf(r), traces.Of(s.n).Check(trFromForm(r)), true)
}

func (s *Server) trCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	in := trFromForm(r)
	var t *traces.Trace
	var merged bool
	var err error
	edit := r.PostFormValue("edit")
	if edit != "" {
		t, err = traces.Of(s.n).Edit(r.Context(), u, edit, in)
	} else {
		t, merged, err = traces.Of(s.n).Prepare(r.Context(), u, in)
	}
	if err == nil {
		flash := "prepared"
		if merged {
			flash = "merged"
		}
		if edit != "" {
			flash = "edited"
		}
		http.Redirect(w, r, "/traces/t/"+url.PathEscape(t.ID)+"?flash=tr.flash."+flash, http.StatusSeeOther)
		return
	}
	v := s.newView(r, u, nil)
	msg := s.trError(v, err)
	if msg == "" {
		s.fail(w, r, u, err)
		return
	}
	s.renderTrNew(w, r, u, fault.Status(err), msg, formOf(r), traces.Of(s.n).Check(in), true)
}

// trFromSeizure prepares a trace of every firearm of one of our seizures.
func (s *Server) trFromSeizure(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	base := traces.Trace{Priority: traces.Routine, CrimeCode: r.PostFormValue("crime_code"), Officer: strings.TrimSpace(r.PostFormValue("officer")),
		Case: strings.TrimSpace(r.PostFormValue("case_number"))}
	_, err := traces.Of(s.n).FromSeizure(r.Context(), u, r.PathValue("id"), base)
	if err != nil {
		v := s.newView(r, u, nil)
		msg := s.trError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		s.renderSz(w, r, u, fault.Status(err), msg)
		return
	}
	http.Redirect(w, r, "/traces?flash=tr.flash.batch", http.StatusSeeOther)
}

type trViewData struct {
	T          *traces.Trace
	Self       string
	Actions    map[string]bool
	Stages     []string
	Reasons    []string
	QualityPct string
}

func (s *Server) trView(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderTr(w, r, u, http.StatusOK, "")
}

func (s *Server) renderTr(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string) {
	svc := traces.Of(s.n)
	t, err := svc.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	self := svc.Self()
	mine := t.Origin == self
	write := !u.Can(auth.ReadAll)
	sponsor := write && u.Can(auth.TraceSponsor) && slices.Contains(traces.SponsorAgencies[self], u.Agency)
	work := write && !mine && u.Can(auth.TraceWork)
	d := trViewData{T: t, Self: self, Stages: traces.Stages, Reasons: traces.NotCompletedReasons, QualityPct: strconv.Itoa(int(t.Quality.Expected*100 + 0.5)),
		Actions: map[string]bool{
			"edit":           write && mine && (t.Status == traces.StatusDraft || t.Status == traces.StatusReturned) && (u.Agency == t.Agency || sponsor) && u.Can(auth.TraceRequest),
			"submit":         sponsor && mine && (t.Status == traces.StatusDraft || t.Status == traces.StatusReturned) && t.PreparedBy != u.Username,
			"submit_blocked": sponsor && mine && (t.Status == traces.StatusDraft || t.Status == traces.StatusReturned) && t.PreparedBy == u.Username,
			"accept":         work && t.Status == traces.StatusSubmitted,
			"return":         work && (t.Status == traces.StatusSubmitted || t.Status == traces.StatusAccepted),
			"progress":       work && (t.Status == traces.StatusAccepted || t.Status == traces.StatusInProgress),
			"complete":       work && t.Status == traces.StatusInProgress,
		}}
	v := s.newView(r, u, d)
	v.Title = t.Title()
	v.Flash = trFlash(v, r)
	v.Error = errText
	s.render(w, r, status, "trace", v)
}

func (s *Server) trAction(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	svc := traces.Of(s.n)
	id := r.PathValue("id")
	var err error
	flash := "step"
	switch a := r.PathValue("action"); a {
	case "submit":
		_, err = svc.Submit(r.Context(), u, id)
		flash = "submitted"
	case traces.StepAccept, traces.StepReturn, traces.StepProgress, traces.StepNotComplete:
		_, err = svc.Step(r.Context(), u, id, traces.Update{Step: a, Stage: r.PostFormValue("stage"), Reason: r.PostFormValue("reason")})
	case traces.StepComplete:
		res := &traces.Result{Source: strings.TrimSpace(r.PostFormValue("source")), Purchase: strings.TrimSpace(r.PostFormValue("purchase_date")),
			Dealer: &traces.Dealer{Licence: strings.TrimSpace(r.PostFormValue("licence")), Name: strings.TrimSpace(r.PostFormValue("dealer_name")),
				City: strings.TrimSpace(r.PostFormValue("city")), State: strings.TrimSpace(r.PostFormValue("state"))},
			Purchaser: traces.Possessor{Name: strings.TrimSpace(r.PostFormValue("purchaser_name")), Address: strings.TrimSpace(r.PostFormValue("purchaser_address"))}}
		_, err = svc.Step(r.Context(), u, id, traces.Update{Step: a, Result: res})
	default:
		s.notFound(w, r, u)
		return
	}
	if err != nil {
		v := s.newView(r, u, nil)
		msg := s.trError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		s.renderTr(w, r, u, fault.Status(err), msg)
		return
	}
	http.Redirect(w, r, "/traces/t/"+url.PathEscape(id)+"?flash=tr.flash."+flash, http.StatusSeeOther)
}

// trSeizureFirearms reports whether a seizure of ours holds firearms to
// trace (the seizure page offers the batch request).
func trSeizureFirearms(sz *seizures.Seizure, self string) bool {
	if sz.Origin != self {
		return false
	}
	return slices.ContainsFunc(sz.Items, func(it seizures.Item) bool { return it.Kind == seizures.ItemFirearm })
}

// trFiguresData is the traces figures page: a summary per requesting side,
// the charts with their tables, and the dealers u may read.
type trFiguresData struct {
	Sides   []traces.SideFigures
	Tables  []chartTable
	Dealers []traces.DealerCount
	Self    string
}

func (s *Server) trFiguresData(r *http.Request, u *auth.User, v *view) (*trFiguresData, error) {
	f, err := traces.Of(s.n).FiguresFor(r.Context(), u)
	if err != nil {
		return nil, err
	}
	d := &trFiguresData{Sides: f.Sides, Dealers: f.TopDealers, Self: traces.Of(s.n).Self()}
	var sides []string
	for _, sd := range f.Sides {
		sides = append(sides, sd.Party)
	}
	// Requests per month, a line per requesting side.
	months := seizures.Months(time.Now().UTC(), 12)
	month := chartTable{Chart: "requests_month", Cols: months}
	var ss []series
	for _, sd := range f.Sides {
		vals := make([]float64, len(months))
		for i, m := range months {
			vals[i] = float64(sd.ByMonth[m])
		}
		ss = append(ss, series{Name: sd.Party, Class: "side-" + strings.ToLower(sd.Party), Values: vals})
		month.Rows = append(month.Rows, chartRow{Label: sd.Party, Values: vals})
	}
	month.SVG = lineChart(v.T("tr.chart.requests_month"), months, ss)
	d.Tables = append(d.Tables, month)
	// Bars with a part per side, over keys in order (or by size).
	bars := func(chart, unit string, value func(sd traces.SideFigures, k string) float64, keys []string, label func(string) string) chartTable {
		t := chartTable{Chart: chart, Unit: unit, Cols: sides}
		var bs []bar
		for _, k := range keys {
			b := bar{Label: label(k)}
			row := chartRow{Label: label(k)}
			for _, sd := range f.Sides {
				x := value(sd, k)
				row.Values = append(row.Values, x)
				b.Parts = append(b.Parts, barPart{Class: "side-" + strings.ToLower(sd.Party), Name: sd.Party, Value: x})
			}
			t.Rows = append(t.Rows, row)
			bs = append(bs, b)
		}
		t.SVG = barChart(v.T("tr.chart."+chart), bs)
		return t
	}
	union := func(get func(traces.SideFigures) map[string]int) []string {
		total := map[string]int{}
		for _, sd := range f.Sides {
			for k, n := range get(sd) {
				total[k] += n
			}
		}
		keys := slices.Collect(maps.Keys(total))
		slices.SortFunc(keys, func(a, b string) int {
			if total[a] != total[b] {
				return total[b] - total[a]
			}
			return strings.Compare(a, b)
		})
		return keys[:min(len(keys), 12)]
	}
	same := func(k string) string { return k }
	agencies := union(func(sd traces.SideFigures) map[string]int { return sd.ByAgency })
	d.Tables = append(d.Tables, bars("by_agency", "", func(sd traces.SideFigures, k string) float64 { return float64(sd.ByAgency[k]) }, agencies, same))
	// The success rate of each requesting agency's answered traces: the
	// data-quality feedback.
	answered := union(func(sd traces.SideFigures) map[string]int { return sd.AnsweredAgency })
	d.Tables = append(d.Tables, bars("success_agency", "%", func(sd traces.SideFigures, k string) float64 {
		if sd.AnsweredAgency[k] == 0 {
			return 0
		}
		return math.Round(float64(sd.SuccessAgency[k])/float64(sd.AnsweredAgency[k])*1000) / 10
	}, answered, same))
	d.Tables = append(d.Tables, bars("time_to_crime", "", func(sd traces.SideFigures, k string) float64 { return float64(sd.TimeToCrime[k]) },
		traces.TTCBuckets, func(k string) string { return v.T("tr.ttc." + k) }))
	states := union(func(sd traces.SideFigures) map[string]int { return sd.SourceStates })
	d.Tables = append(d.Tables, bars("source_states", "", func(sd traces.SideFigures, k string) float64 { return float64(sd.SourceStates[k]) }, states, same))
	for i := range d.Tables {
		t := &d.Tables[i]
		t.Title = v.T("tr.chart." + t.Chart)
		t.CSV = "/traces/figures.csv?chart=" + t.Chart
	}
	return d, nil
}

func (s *Server) trFigures(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	d, err := s.trFiguresData(r, u, v)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v.Data = d
	v.Title = v.T("tr.figures")
	s.render(w, r, http.StatusOK, "trace_figures", v)
}

func (s *Server) trFiguresCSV(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	d, err := s.trFiguresData(r, u, v)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	s.chartCSV(w, r, u, d.Tables, "traces-", "")
}
