package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/seizures"
	"puente/internal/traces"
)

func init() {
	Register(traces.Name, func(s *Server) Face {
		return Face{
			Nav:      []NavItem{{Path: "/traces", ID: "nav-traces", Label: "nav.traces", Permission: auth.TraceRead}},
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
			),
			Pages: []Page{
				{Pattern: "GET /traces", Permission: auth.TraceRead, Handle: s.trList},
				{Pattern: "GET /traces/new", Permission: auth.TraceRequest, Handle: s.trNew},
				{Pattern: "POST /traces", Permission: auth.TraceRequest, Handle: s.trCreate},
				{Pattern: "POST /traces/check", Permission: auth.TraceRequest, Handle: s.trCheck},
				{Pattern: "POST /traces/from-seizure/{id}", Permission: auth.TraceRequest, Handle: s.trFromSeizure},
				{Pattern: "GET /traces/t/{id}", Permission: auth.TraceRead, Handle: s.trView},
				{Pattern: "POST /traces/t/{id}/{action}", Permission: auth.TraceRead, Handle: s.trAction},
			},
		}
	})
}

var trFlashKeys = []string{"prepared", "merged", "submitted", "step", "batch"}

func (s *Server) trError(v *view, err error) string {
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		reason := v.T("tr.error." + fe.Code)
		if fe.Field == "quality" {
			reason = v.T("tr.problem." + fe.Code)
		}
		return v.T("tr.error.field", "Field", trFieldLabel(v, fe.Field), "Reason", reason)
	}
	if e, ok := fault.Describe(err); ok {
		switch {
		case e.Reason != "":
			return v.T("tr.error." + e.Reason)
		case e.Code == "forbidden":
			return v.T("error.forbidden")
		case e.Code == "not_found":
			return v.T("error.not_found")
		}
		return v.T("tr.error.wrong_status")
	}
	return ""
}

func trFieldLabel(v *view, field string) string {
	var parts []string
	for _, p := range strings.Split(field, ".") {
		name, _, _ := strings.Cut(p, "[")
		parts = append(parts, v.T("tr.field."+name))
	}
	return strings.Join(parts, " · ")
}

func trFlash(v *view, r *http.Request) string {
	k, ok := strings.CutPrefix(r.URL.Query().Get("flash"), "tr.flash.")
	if !ok || !slices.Contains(trFlashKeys, k) {
		return ""
	}
	return v.T("tr.flash." + k)
}

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
	v := s.newView(r, u, trNewData{CrimeCodes: traces.CrimeCodes, FirearmTypes: traces.FirearmTypes, Quality: q, Checked: checked})
	v.Title = v.T("tr.new")
	v.Form = form
	v.Error = errText
	s.render(w, r, status, "trace_new", v)
}

func (s *Server) trNew(w http.ResponseWriter, r *http.Request, u *auth.User) {
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
	t, merged, err := traces.Of(s.n).Prepare(r.Context(), u, in)
	if err == nil {
		flash := "prepared"
		if merged {
			flash = "merged"
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
	if errors.Is(err, fault.ErrNotFound) {
		s.notFound(w, r, u)
		return
	} else if err != nil {
		s.fail(w, r, u, err)
		return
	}
	self := svc.Self()
	mine := t.Origin == self
	write := !u.Can(auth.ReadAll)
	sponsor := write && u.Can(auth.TraceSponsor) && slices.Contains(traces.SponsorAgencies[self], u.Agency)
	work := write && !mine && u.Can(auth.TraceWork)
	d := trViewData{T: t, Self: self, Stages: traces.Stages, Reasons: traces.NotCompletedReasons, QualityPct: strconv.Itoa(int(t.Quality.Expected*100 + 0.5)),
		Actions: map[string]bool{
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
