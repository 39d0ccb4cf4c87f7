package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/caveats"
	"puente/internal/extradition"
	"puente/internal/fault"
	"puente/internal/input"
	"puente/internal/screen"
	"puente/internal/seizures"
)

func init() {
	Register(extradition.Name, func(s *Server) Face {
		return Face{
			Nav: []NavItem{{Path: "/extradition/targets", ID: "nav-targets", Label: "nav.targets", Permission: auth.ExtRead},
				{Path: "/extradition/cases", ID: "nav-cases", Label: "nav.cases", Permission: auth.ExtRead, Show: func(u *auth.User) bool { return extradition.Of(s.n).CaseVisible(u) }}},
			LogKinds: []string{extradition.KindLogAssurance, extradition.KindLogDocument, extradition.KindLogCaseOpened, extradition.KindLogCaseReceived, extradition.KindLogCaseStage, extradition.KindLogClockOverdue, extradition.KindLogClockWarned, extradition.KindLogAcked, extradition.KindLogAdded, extradition.KindLogChanged, extradition.KindLogNominated, extradition.KindLogReceived, extradition.KindLogReleased, extradition.KindLogReturned, extradition.KindLogSubmitted, extradition.KindLogUpdated},
			ErrorKey: "ext.error.", FieldKey: "ext.field.",
			Keys: slices.Concat(
				keysOf("ext.status.", extradition.Statuses...),
				keysOf("ext.stage.", extradition.Stages...),
				keysOf("ext.flash.", extFlashKeys...),
				keysOf("ext.stagename.", extradition.AllStages...),
				keysOf("ext.error.", extradition.BeforeCodes()...),
				keysOf("ext.outcome.", extradition.Granted, extradition.Denied),
				keysOf("ext.kind.", extradition.KindExtradition, extradition.KindTransfer),
				keysOf("ext.term.", extTerms()...),
				keysOf("ext.work.clock.", extTerms()...),
				keysOf("ext.field.", "name", "aliases", "dob", "nationalities", "curp", "rfc", "passport", "passport_country", "ssn", "organisation",
					"charges", "offence", "court", "warrant", "date", "summary", "status", "identifiers", "reason", "text", "caveats", "releasable_to",
					"destination", "notice", "notices", "notice_type", "entity_id", "forename", "date_of_birth", "arrest_warrants", "charge", "issuing_country_id", "issuing_country"),
				keysOf("ext.notice.kind.", extradition.NoticeRed, extradition.NoticeDiffusion),
				keysOf("ext.doc.kind.", extradition.DocumentKinds...),
				keysOf("ext.chart.", "handed_over", "by_stage"),
				keysOf("ext.assurance.kind.", extradition.AssuranceKinds...),
				keysOf("ext.assurance.status.", extradition.AssuranceStatuses...),
				[]string{"ext.work.release", "ext.work.correct", "ext.work.ack", "ext.recip.nominated", "ext.recip.acknowledged", "ext.recip.median_ack", "ext.recip.hours",
					"ext.work.clock", "ext.work.partner_overdue", "ext.escalated"},
			),
			Pages: []Page{
				{Pattern: "GET /extradition/targets", Permission: auth.ExtRead, Handle: s.tgList},
				{Pattern: "GET /extradition/targets/new", Permission: auth.ExtWrite, Handle: s.tgNew},
				{Pattern: "POST /extradition/targets", Permission: auth.ExtWrite, Handle: s.tgCreate},
				{Pattern: "GET /extradition/targets/t/{id}", Permission: auth.ExtRead, Handle: s.tgView},
				{Pattern: "POST /extradition/targets/t/{id}/{action}", Permission: auth.ExtRead, Handle: s.tgAction},
				{Pattern: "POST /extradition/targets/t/{id}/photo", Permission: auth.ExtWrite, MaxBody: extradition.MaxPhoto + 1<<20, Handle: s.tgPhotoAdd},
				{Pattern: "GET /extradition/targets/t/{id}/photos/{sha}", Permission: auth.ExtRead, Handle: s.tgPhoto},
				{Pattern: "GET /extradition/cases", Permission: auth.ExtRead, Handle: s.caseList},
				{Pattern: "GET /extradition/cases/new", Permission: auth.ExtWrite, Handle: s.caseNew},
				{Pattern: "GET /extradition/cases/figures.csv", Permission: auth.ExtRead, Handle: s.caseChartsCSV},
				{Pattern: "POST /extradition/cases", Permission: auth.ExtWrite, Handle: s.caseCreate},
				{Pattern: "GET /extradition/cases/c/{id}", Permission: auth.ExtRead, Handle: s.caseView},
				{Pattern: "POST /extradition/cases/c/{id}/stage", Permission: auth.ExtWrite, Handle: s.caseStage},
				{Pattern: "POST /extradition/cases/c/{id}/document", Permission: auth.ExtWrite, MaxBody: 2*extradition.MaxDocument + 1<<20, Handle: s.caseDocument},
				{Pattern: "GET /extradition/cases/c/{id}/documents/{doc}", Permission: auth.ExtRead, Handle: s.caseDocFile},
				{Pattern: "GET /extradition/cases/c/{id}/record.json", Permission: auth.ExtRead, Handle: s.caseRecordFile},
				{Pattern: "POST /extradition/cases/c/{id}/assurance", Permission: auth.ExtWrite, Handle: s.caseAssurance},
			},
		}
	})
}

var extFlashKeys = []string{"nominated", "saved", "submitted", "returned", "released", "status", "acknowledged", "added", "opened", "stage", "notice", "document", "assurance", "photo"}

// extTerms are the ids of the reference agreement's terms, which have
// texts of their own (another agreement's show their id).
func extTerms() []string {
	var out []string
	for _, t := range agreement.DefaultTerms() {
		out = append(out, t.ID)
	}
	return out
}

// extError is an error of the area in the page's language, or "" for one
// that is not the user's to fix.
func (s *Server) extError(v *view, err error) string {
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		v.markField(fe.Field)
		reason := v.T("ext.error." + fe.Code)
		if k := "ident." + fe.Code; reason == "ext.error."+fe.Code && v.T(k) != k {
			reason = v.T(k)
		}
		var dup *extradition.ErrDuplicate
		if errors.As(err, &dup) {
			reason = v.T("ext.error.duplicate_of", "ID", dup.Target)
		}
		return v.T("ext.error.field", "Field", extFieldLabel(v, fe.Field), "Reason", reason)
	}
	return describeError(v, err, "ext.error.", "wrong_stage")
}

// extFieldLabel names "charges[1].date" as "Charges 2 · Date".
func extFieldLabel(v *view, field string) string {
	var parts []string
	for _, p := range strings.Split(field, ".") {
		name, idx, _ := strings.Cut(p, "[")
		label := v.T("ext.field." + name)
		if idx != "" {
			var n int
			fmt.Sscanf(idx, "%d", &n)
			label += fmt.Sprintf(" %d", n+1)
		}
		parts = append(parts, label)
	}
	return strings.Join(parts, " · ")
}

func extFlash(v *view, r *http.Request) string { return flashOf(v, r, "ext.flash.", extFlashKeys) }

type tgListData struct {
	Side, Status, Query string
	Statuses            []string
	Targets             []*extradition.Target
	Self                string
}

func (s *Server) tgList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query()
	f := extradition.Filter{Side: q.Get("side"), Status: q.Get("status"), Query: q.Get("q")}
	if f.Side != "MX" && f.Side != "US" {
		f.Side = ""
	}
	if !slices.Contains(extradition.Statuses, f.Status) {
		f.Status = ""
	}
	if len(f.Query) > 200 {
		f.Query = f.Query[:200]
	}
	list, err := extradition.Of(s.n).List(r.Context(), u, f)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, tgListData{Side: f.Side, Status: f.Status, Query: f.Query, Statuses: extradition.Statuses, Targets: list, Self: s.n.Config.Party})
	v.Title = v.T("ext.targets")
	v.Flash = extFlash(v, r)
	s.render(w, r, http.StatusOK, "targets", v)
}

// tgFromForm reads a nomination from the form: one alias per line,
// nationalities separated by commas, up to three charges.
func tgFromForm(r *http.Request) extradition.Target {
	var t extradition.Target
	decodeForm(r, &t, "curp", "rfc", "passport", "passport_country")
	t.Aliases = nil
	for _, line := range strings.Split(r.PostFormValue("aliases"), "\n") {
		if a := strings.TrimSpace(line); a != "" {
			t.Aliases = append(t.Aliases, a)
		}
	}
	t.Nationalities = nil
	for _, n := range strings.Split(r.PostFormValue("nationalities"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			t.Nationalities = append(t.Nationalities, n)
		}
	}
	t.Charges = nil
	for i := range 3 {
		c := extradition.Charge{Offence: strings.TrimSpace(r.PostFormValue(fmt.Sprintf("offence_%d", i))), Court: strings.TrimSpace(r.PostFormValue(fmt.Sprintf("court_%d", i))),
			Warrant: strings.TrimSpace(r.PostFormValue(fmt.Sprintf("warrant_%d", i))), Date: strings.TrimSpace(r.PostFormValue(fmt.Sprintf("date_%d", i)))}
		if c != (extradition.Charge{}) {
			t.Charges = append(t.Charges, c)
		}
	}
	return t
}

// tgForm is a target as the form's fields, for editing.
func tgForm(t *extradition.Target) map[string]string {
	f := map[string]string{"name": t.Name, "aliases": strings.Join(t.Aliases, "\n"), "dob": t.DOB, "nationalities": strings.Join(t.Nationalities, ", "),
		"curp": t.CURP, "rfc": t.RFC, "passport": t.Passport, "passport_country": t.PassportCountry, "ssn": t.SSN, "organisation": t.Organisation, "summary": t.Summary}
	for i, c := range t.Charges {
		if i == 3 {
			break
		}
		f[fmt.Sprintf("offence_%d", i)], f[fmt.Sprintf("court_%d", i)], f[fmt.Sprintf("warrant_%d", i)], f[fmt.Sprintf("date_%d", i)] = c.Offence, c.Court, c.Warrant, c.Date
	}
	return f
}

type tgNewData struct {
	Edit string // the target being edited, or "" for a new one
}

func (s *Server) renderTgNew(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText, edit string, form map[string]string) {
	v := s.newView(r, u, tgNewData{Edit: edit})
	v.Title = v.T("ext.new")
	v.Form = form
	v.Error = errText
	s.render(w, r, status, "target_new", v)
}

func (s *Server) tgNew(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if id := r.URL.Query().Get("edit"); id != "" {
		t, err := extradition.Of(s.n).Get(r.Context(), u, id)
		if err != nil {
			s.notFound(w, r, u)
			return
		}
		s.renderTgNew(w, r, u, http.StatusOK, "", t.ID, tgForm(t))
		return
	}
	s.renderTgNew(w, r, u, http.StatusOK, "", "", map[string]string{})
}

func (s *Server) tgCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	svc := extradition.Of(s.n)
	in := tgFromForm(r)
	edit := r.PostFormValue("edit")
	var t *extradition.Target
	var err error
	flash := "nominated"
	if edit != "" {
		t, err = svc.Edit(r.Context(), u, edit, in)
		flash = "saved"
	} else {
		t, err = svc.Nominate(r.Context(), u, in)
	}
	if err == nil {
		http.Redirect(w, r, "/extradition/targets/t/"+url.PathEscape(t.ID)+"?flash=ext.flash."+flash, http.StatusSeeOther)
		return
	}
	v := s.newView(r, u, nil)
	msg := s.extError(v, err)
	if msg == "" {
		s.fail(w, r, u, err)
		return
	}
	s.renderTgNew(w, r, u, fault.Status(err), msg, edit, formOf(r))
}

type tgViewData struct {
	T        *extradition.Target
	Self     string
	Mine     bool
	Statuses []string
	Actions  map[string]bool
	Caveats  caveats.Caveats
	Agencies []string
	// Classifications are offered in the release's caveats.
	Classifications []string
}

func (s *Server) tgView(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderTg(w, r, u, http.StatusOK, "")
}

func (s *Server) renderTg(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string) {
	svc := extradition.Of(s.n)
	t, err := svc.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	self := svc.Self()
	mine := t.Origin == self
	write := svc.MayWrite(u)
	review := write && u.Can(auth.ExtRelease) && mine && t.Stage == extradition.StageSubmitted
	shared := t.Stage == extradition.StageReleased || t.Stage == extradition.StageReceived
	d := tgViewData{T: t, Self: self, Mine: mine, Statuses: extradition.Statuses, Caveats: svc.DefaultCaveats(), Agencies: auth.Agencies[svc.Partner()],
		Classifications: caveats.Classifications,
		Actions: map[string]bool{
			"edit":        write && mine && t.Status != extradition.Withdrawn && ((t.Stage == extradition.StageDraft && t.Agency == u.Agency) || t.Stage == extradition.StageReleased),
			"submit":      write && mine && t.Stage == extradition.StageDraft && t.Agency == u.Agency,
			"release":     review && t.CreatedBy != u.Username,
			"release_own": review && t.CreatedBy == u.Username,
			"return":      review,
			"status":      write && mine && t.Stage == extradition.StageReleased && t.Status != extradition.Withdrawn,
			"ack":         write && !mine && t.Ack == nil,
			"add":         write && shared,
		}}
	v := s.newView(r, u, d)
	v.Title = t.Title()
	v.Flash = extFlash(v, r)
	v.Error = errText
	s.render(w, r, status, "target", v)
}

func (s *Server) tgAction(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	svc := extradition.Of(s.n)
	id := r.PathValue("id")
	var err error
	action := r.PathValue("action")
	flash := action
	switch action {
	case "submit":
		_, err = svc.Submit(r.Context(), u, id)
		flash = "submitted"
	case "return":
		_, err = svc.Return(r.Context(), u, id, r.PostFormValue("reason"))
		flash = "returned"
	case "release":
		c := caveatsFromForm(r)
		_, err = svc.Release(r.Context(), u, id, &c)
		flash = "released"
	case "status":
		_, err = svc.SetStatus(r.Context(), u, id, r.PostFormValue("status"))
	case "ack":
		_, err = svc.Acknowledge(r.Context(), u, id)
		flash = "acknowledged"
	case "add":
		_, err = svc.Add(r.Context(), u, id, r.PostFormValue("text"))
		flash = "added"
	case "notice":
		_, err = svc.AddNotice(r.Context(), u, id, []byte(r.PostFormValue("notice")))
		flash = "notice"
	default:
		s.notFound(w, r, u)
		return
	}
	s.extDone(w, r, u, err, "/extradition/targets/t/"+url.PathEscape(id), flash, func(status int, msg string) { s.renderTg(w, r, u, status, msg) })
}

type caseListData struct {
	Open   bool
	Kind   string
	Group  string
	Cases  []*extradition.Case
	Self   string
	Tables []chartTable
}

func (s *Server) caseList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query()
	f := extradition.CaseFilter{Open: q.Get("open") != "0", Kind: q.Get("kind"), Group: q.Get("group")}
	if f.Kind != extradition.KindExtradition && f.Kind != extradition.KindTransfer {
		f.Kind = ""
	}
	list, err := extradition.Of(s.n).ListCases(r.Context(), u, f)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, nil)
	tables, err := s.caseCharts(r, u, v)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v.Data = caseListData{Open: f.Open, Kind: f.Kind, Group: f.Group, Cases: list, Self: s.n.Config.Party, Tables: tables}
	v.Title = v.T("ext.cases")
	v.Flash = extFlash(v, r)
	s.render(w, r, http.StatusOK, "cases", v)
}

func (s *Server) caseNew(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderCaseNew(w, r, u, http.StatusOK, "", map[string]string{"kind": extradition.KindExtradition, "target": r.URL.Query().Get("target")})
}

type caseNewData struct {
	Partner string
	Self    string
	Targets []*extradition.Target
}

func (s *Server) renderCaseNew(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string, form map[string]string) {
	svc := extradition.Of(s.n)
	targets, _ := svc.List(r.Context(), u, extradition.Filter{Limit: 500})
	active := targets[:0]
	for _, t := range targets {
		if t.Active() {
			active = append(active, t)
		}
	}
	v := s.newView(r, u, caseNewData{Partner: svc.Partner(), Self: svc.Self(), Targets: active})
	v.Title = v.T("ext.case.new")
	v.Form = form
	v.Error = errText
	s.render(w, r, status, "case_new", v)
}

func (s *Server) caseCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	in := extradition.Case{Kind: r.PostFormValue("kind"), Requested: r.PostFormValue("requested"), Target: r.PostFormValue("target"),
		Group: strings.TrimSpace(r.PostFormValue("group")), Destination: strings.TrimSpace(r.PostFormValue("destination")), Charges: strings.TrimSpace(r.PostFormValue("charges")),
		Person: extradition.Person{Name: strings.TrimSpace(r.PostFormValue("name")), DOB: strings.TrimSpace(r.PostFormValue("dob")),
			Nationality: strings.ToUpper(strings.TrimSpace(r.PostFormValue("nationality")))}}
	c, err := extradition.Of(s.n).OpenCase(r.Context(), u, in)
	if err == nil {
		http.Redirect(w, r, "/extradition/cases/c/"+url.PathEscape(c.ID)+"?flash=ext.flash.opened", http.StatusSeeOther)
		return
	}
	v := s.newView(r, u, nil)
	msg := s.extError(v, err)
	if msg == "" {
		s.fail(w, r, u, err)
		return
	}
	s.renderCaseNew(w, r, u, fault.Status(err), msg, formOf(r))
}

type caseViewData struct {
	C    *extradition.Case
	Self string
	// Next are the stages our side may record now; Decides those that
	// take an outcome.
	Next    []string
	Decides []string
	Write   bool
	Today   string
	// Documents and the Art. 10 checklist; Requesting says our side adds
	// them.
	Documents  []extradition.Document
	Art10      []extradition.Checklist
	Requesting bool
	Kinds      []string
	// AssuranceKinds are offered to the requesting side.
	AssuranceKinds []string
}

func (s *Server) caseView(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderCase(w, r, u, http.StatusOK, "")
}

func (s *Server) renderCase(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string) {
	svc := extradition.Of(s.n)
	c, err := svc.GetCase(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	docs, err := svc.Documents(r.Context(), u, c.ID)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	d := caseViewData{C: c, Self: svc.Self(), Next: svc.NextStages(c), Decides: extradition.Decisions, Today: svc.Now().Format("2006-01-02"),
		Write:     svc.MayWrite(u),
		Documents: docs, Art10: extradition.Art10Checklist(c, docs), Requesting: c.Requesting == svc.Self() && !c.Closed(), Kinds: extradition.DocumentKinds,
		AssuranceKinds: extradition.AssuranceKinds}
	v := s.newView(r, u, d)
	v.Title = c.Title()
	v.Flash = extFlash(v, r)
	v.Error = errText
	s.render(w, r, status, "case", v)
}

func (s *Server) caseStage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	id := r.PathValue("id")
	st := extradition.Stage{Stage: r.PostFormValue("stage"), Date: r.PostFormValue("date"), Place: r.PostFormValue("place"), Outcome: r.PostFormValue("outcome"),
		Escort: r.PostFormValue("escort"), Note: r.PostFormValue("note")}
	_, err := extradition.Of(s.n).Record(r.Context(), u, id, st)
	s.extDone(w, r, u, err, "/extradition/cases/c/"+url.PathEscape(id), "stage", func(status int, msg string) { s.renderCase(w, r, u, status, msg) })
}

func (s *Server) caseDocument(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id := r.PathValue("id")
	readFile := func(field string) ([]byte, string, error) {
		f, h, err := r.FormFile(field)
		if errors.Is(err, http.ErrMissingFile) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, extradition.MaxDocument+1))
		return data, h.Filename, err
	}
	content, name, err := readFile("file")
	if err != nil {
		s.tooLarge(w, r, u)
		return
	}
	translation, trName, err := readFile("translation")
	if err != nil {
		s.tooLarge(w, r, u)
		return
	}
	in := extradition.NewDocument{Kind: r.FormValue("kind"), Name: name, Language: r.FormValue("language"), Certified: r.FormValue("certified") != "",
		Translated: r.FormValue("translated") != "", Content: content, TranslationName: trName, Translation: translation}
	_, err = extradition.Of(s.n).AddDocument(r.Context(), u, id, in)
	s.extDone(w, r, u, err, "/extradition/cases/c/"+url.PathEscape(id), "document", func(status int, msg string) { s.renderCase(w, r, u, status, msg) })
}

func (s *Server) caseDocFile(w http.ResponseWriter, r *http.Request, u *auth.User) {
	_, name, data, err := extradition.Of(s.n).DocumentData(r.Context(), u, r.PathValue("id"), r.PathValue("doc"), r.URL.Query().Get("translation") == "1")
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+input.SafeFileName(name)+`"`)
	_, _ = w.Write(data)
}

// caseRecordFile is the case record signed by this node, to keep or give
// to anyone who verifies it offline.
func (s *Server) caseRecordFile(w http.ResponseWriter, r *http.Request, u *auth.User) {
	rec, err := extradition.Of(s.n).CaseRecord(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="case-`+input.SafeFileName(rec.Case.ID)+`-record.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rec)
}

func (s *Server) caseAssurance(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	id := r.PathValue("id")
	in := extradition.Assurance{ID: r.PostFormValue("assurance"), Kind: r.PostFormValue("kind"), Text: r.PostFormValue("text"), Date: r.PostFormValue("date"),
		Status: r.PostFormValue("status"), Outcome: r.PostFormValue("outcome")}
	_, err := extradition.Of(s.n).GiveAssurance(r.Context(), u, id, in)
	s.extDone(w, r, u, err, "/extradition/cases/c/"+url.PathEscape(id), "assurance", func(status int, msg string) { s.renderCase(w, r, u, status, msg) })
}

// TargetHit is a person of a record (a seizure's detained) whose name
// matches a priority target the user may see.
type TargetHit struct {
	Name   string
	Target string // the target's id
	Listed string // the target's name as listed
	Info   string // nominating side and agency
	Score  float64
}

// targetHits screens names (with their birth dates) against the node's
// priority targets, as u may see them: a target who shows up in a record
// raises a badge there, whenever the target was nominated.
func (s *Server) targetHits(u *auth.User, people []screenPerson) []TargetHit {
	sc, err := s.n.Lists.Screener()
	if err != nil {
		return nil
	}
	var out []TargetHit
	for _, p := range people {
		year := 0
		if len(p.DOB) >= 4 {
			fmt.Sscanf(p.DOB[:4], "%d", &year)
		}
		for _, c := range screen.Visible(sc.Screen(screen.Query{Name: p.Name, Year: year, Limit: 5}), u.Agency, u.Can(auth.ReadAll)) {
			if c.List == screen.ListTargets && c.Match {
				out = append(out, TargetHit{Name: p.Name, Target: c.ID, Listed: c.Name, Score: c.Score})
			}
		}
	}
	return out
}

type screenPerson struct{ Name, DOB string }

// caseCharts are the case figures drawn: people surrendered or
// transferred per month and cases by stage, per requesting side.
func (s *Server) caseCharts(r *http.Request, u *auth.User, v *view) ([]chartTable, error) {
	fs, err := extradition.Of(s.n).CaseFigures(r.Context(), u)
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	months := seizures.Months(time.Now().UTC(), 12)
	month := chartTable{Chart: "handed_over", Cols: months}
	var ss []series
	var sides []string
	for _, f := range fs {
		sides = append(sides, f.Requesting)
		vals := make([]float64, len(months))
		for i, m := range months {
			vals[i] = float64(f.HandedOverByMonth[m])
		}
		ss = append(ss, series{Name: v.T("ext.chart.requested_by", "Side", f.Requesting), Class: "side-" + strings.ToLower(f.Requesting), Values: vals})
		month.Rows = append(month.Rows, chartRow{Label: f.Requesting, Values: vals})
	}
	month.SVG = lineChart(v.T("ext.chart.handed_over"), months, ss)
	stages := chartTable{Chart: "by_stage", Cols: sides}
	var bs []bar
	for _, st := range append([]string{""}, extradition.AllStages...) {
		label := v.T("ext.chart.no_stage")
		if st != "" {
			label = v.T("ext.stagename." + st)
		}
		row := chartRow{Label: label}
		b := bar{Label: label}
		total := 0
		for _, f := range fs {
			n := f.ByStage[st]
			total += n
			row.Values = append(row.Values, float64(n))
			b.Parts = append(b.Parts, barPart{Class: "side-" + strings.ToLower(f.Requesting), Name: f.Requesting, Value: float64(n)})
		}
		if total > 0 {
			stages.Rows = append(stages.Rows, row)
			bs = append(bs, b)
		}
	}
	stages.SVG = barChart(v.T("ext.chart.by_stage"), bs)
	out := []chartTable{month, stages}
	for i := range out {
		out[i].Title = v.T("ext.chart." + out[i].Chart)
		out[i].CSV = "/extradition/cases/figures.csv?chart=" + out[i].Chart
	}
	return out, nil
}

func (s *Server) caseChartsCSV(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	tables, err := s.caseCharts(r, u, v)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	s.chartCSV(w, r, u, tables, "extradition-", "")
}

func (s *Server) tgPhotoAdd(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id := r.PathValue("id")
	f, h, err := r.FormFile("photo")
	var data []byte
	name := ""
	if err == nil {
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, extradition.MaxPhoto+1))
		name = h.Filename
	}
	if err != nil && !errors.Is(err, http.ErrMissingFile) {
		s.tooLarge(w, r, u)
		return
	}
	_, err = extradition.Of(s.n).AddPhoto(r.Context(), u, id, name, data)
	s.extDone(w, r, u, err, "/extradition/targets/t/"+url.PathEscape(id), "photo", func(status int, msg string) { s.renderTg(w, r, u, status, msg) })
}

func (s *Server) tgPhoto(w http.ResponseWriter, r *http.Request, u *auth.User) {
	p, data, err := extradition.Of(s.n).PhotoData(r.Context(), u, r.PathValue("id"), r.PathValue("sha"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	w.Header().Set("Content-Type", p.ContentType)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write(data)
}

// extDone ends a form post of the area: on success, back to page with the
// flash; else the page again, rendered by again with the error in the
// page's language, or the failure page for what is not the user's to fix.
func (s *Server) extDone(w http.ResponseWriter, r *http.Request, u *auth.User, err error, page, flash string, again func(status int, msg string)) {
	if err == nil {
		http.Redirect(w, r, page+"?flash=ext.flash."+flash, http.StatusSeeOther)
		return
	}
	v := s.newView(r, u, nil)
	msg := s.extError(v, err)
	if msg == "" {
		s.fail(w, r, u, err)
		return
	}
	again(fault.Status(err), msg)
}
