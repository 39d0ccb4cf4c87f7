package web

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/input"
	"puente/internal/training"
)

func init() {
	Register(training.Name, func(s *Server) Face {
		return Face{
			Nav: []NavItem{{Path: "/training", ID: "nav-training", Label: "nav.training", Permission: auth.TrainRead},
				{Path: "/training/certificates", ID: "nav-certificates", Label: "nav.certificates", Permission: auth.TrainRead}},
			LogKinds: []string{training.KindLogDrafted, training.KindLogPublished, training.KindLogReceived, training.KindLogStep, training.KindLogIssued, training.KindLogRevoked},
			ErrorKey: "trn.error.", FieldKey: "trn.field.",
			Keys: slices.Concat(
				keysOf("trn.status.", training.Statuses...),
				keysOf("trn.type.", training.Types...),
				keysOf("trn.subject.", training.Subjects...),
				keysOf("trn.lang.", training.Languages...),
				keysOf("trn.nom.", training.NomStatuses...),
				keysOf("trn.vet.", training.VetStatuses...),
				keysOf("trn.result.", training.Results...),
				keysOf("trn.resource.", training.ResourceKinds...),
				keysOf("trn.id_type.", training.IDTypes...),
				keysOf("trn.step.", append([]string{"drafted", "edited", "published"}, training.Steps...)...),
				keysOf("trn.flash.", trnFlashKeys...),
				keysOf("trn.field.", "title", "type", "subject", "language", "place", "start", "end", "nominate_by", "seats", "hours", "instructors", "name", "agency",
					"prerequisites", "cost", "amount", "currency", "paid_by", "audience", "scenario", "participant", "dob", "id_type", "national_id", "rank", "unit",
					"vetting", "status", "date", "unit_vetted", "result", "reason", "nomination_id", "nominations", "step", "commitment", "units", "personnel",
					"resources", "report", "summary", "lessons", "certificate", "file"),
				keysOf("trn.chart.", "offers_month", "hours_month", "trained_agency"),
				[]string{"trn.work.publish", "trn.work.answer", "trn.work.nominate", "trn.work.results"},
			),
			Pages: []Page{
				{Pattern: "GET /training", Permission: auth.TrainRead, Handle: s.trnList},
				{Pattern: "GET /training/new", Permission: auth.TrainWrite, Handle: s.trnNew},
				{Pattern: "POST /training", Permission: auth.TrainWrite, Handle: s.trnCreate},
				{Pattern: "GET /training/o/{id}", Permission: auth.TrainRead, Handle: s.trnView},
				{Pattern: "POST /training/o/{id}/{action}", Permission: auth.TrainWrite, Handle: s.trnAction},
				{Pattern: "GET /training/figures", Permission: auth.TrainRead, Handle: s.trnFigures},
				{Pattern: "GET /training/figures.csv", Permission: auth.TrainRead, Handle: s.trnFiguresCSV},
				{Pattern: "GET /training/certificates", Permission: auth.TrainRead, Handle: s.trnCerts},
				{Pattern: "GET /training/certificates/{id}", Permission: auth.TrainRead, Handle: s.trnCert},
				{Pattern: "GET /training/certificates/{id}/file", Permission: auth.TrainRead, Handle: s.trnCertFile},
				{Pattern: "POST /training/verify", Permission: auth.TrainRead, Handle: s.trnVerify},
			},
		}
	})
}

var trnFlashKeys = []string{"drafted", "edited", "published", "step", "certified"}

func (s *Server) trnError(v *view, err error) string {
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		v.markField(fe.Field)
		return v.T("trn.error.field", "Field", trnFieldLabel(v, fe.Field), "Reason", v.T("trn.error."+fe.Code))
	}
	return describeError(v, err, "trn.error.", "wrong_status")
}

func trnFieldLabel(v *view, field string) string {
	var parts []string
	for _, p := range strings.Split(field, ".") {
		name, _, _ := strings.Cut(p, "[")
		parts = append(parts, v.T("trn.field."+name))
	}
	return strings.Join(parts, " · ")
}

func trnFlash(v *view, r *http.Request) string { return flashOf(v, r, "trn.flash.", trnFlashKeys) }

type trnListData struct {
	Statuses []string
	Offers   []*training.Offer
	Self     string
	Status   string
}

func (s *Server) trnList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	st := r.URL.Query().Get("status")
	if !slices.Contains(training.Statuses, st) {
		st = ""
	}
	svc := training.Of(s.n)
	list, err := svc.List(r.Context(), u, training.Filter{Status: st})
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, trnListData{Statuses: training.Statuses, Offers: list, Self: svc.Self(), Status: st})
	v.Title = v.T("trn.title")
	v.Flash = trnFlash(v, r)
	s.render(w, r, http.StatusOK, "training", v)
}

type trnNewData struct {
	Types, Subjects, Languages, Payers, Agencies []string
	Edit                                         string
	Audience                                     map[string]bool
}

func (s *Server) renderTrnNew(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string, form map[string]string, audience []string) {
	svc := training.Of(s.n)
	d := trnNewData{Types: training.Types, Subjects: training.Subjects, Languages: training.Languages, Payers: training.Payers,
		Agencies: auth.Agencies[svc.Partner()], Edit: form["edit"], Audience: map[string]bool{}}
	for _, a := range audience {
		d.Audience[a] = true
	}
	v := s.newView(r, u, d)
	v.Title = v.T("trn.new")
	v.Form = form
	v.Error = errText
	s.render(w, r, status, "training_new", v)
}

// trnForm is an offer as the form's fields.
func trnForm(o *training.Offer) map[string]string {
	f := map[string]string{"title": o.Title, "type": o.Type, "subject": o.Subject, "language": o.Language, "place": o.Place, "start": o.Start, "end": o.End,
		"nominate_by": o.NominateBy, "seats": strconv.Itoa(o.Seats), "hours": strconv.Itoa(o.Hours), "prerequisites": o.Prerequisites, "scenario": o.Scenario,
		"cost_amount": strconv.FormatInt(o.Cost.Amount, 10), "cost_currency": o.Cost.Currency, "paid_by": o.Cost.PaidBy}
	var lines []string
	for _, in := range o.Instructors {
		lines = append(lines, in.Name+" | "+in.Agency)
	}
	f["instructors"] = strings.Join(lines, "\n")
	if o.Vetting {
		f["vetting"] = "on"
	}
	if o.Waitlist {
		f["waitlist"] = "on"
	}
	return f
}

// trnFromForm reads an offer from the form. Instructors are one per line,
// "Name | Agency".
func trnFromForm(r *http.Request) training.Offer {
	num := func(k string) int { n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(k))); return n }
	o := training.Offer{Title: strings.TrimSpace(r.PostFormValue("title")), Type: r.PostFormValue("type"), Subject: r.PostFormValue("subject"),
		Language: r.PostFormValue("language"), Place: strings.TrimSpace(r.PostFormValue("place")), Start: r.PostFormValue("start"), End: r.PostFormValue("end"),
		NominateBy: r.PostFormValue("nominate_by"), Seats: num("seats"), Hours: num("hours"), Prerequisites: strings.TrimSpace(r.PostFormValue("prerequisites")),
		Scenario: strings.TrimSpace(r.PostFormValue("scenario")), Vetting: r.PostFormValue("vetting") == "on", Waitlist: r.PostFormValue("waitlist") == "on",
		Audience: r.PostForm["audience"]}
	amount, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("cost_amount")), 10, 64)
	o.Cost = training.Cost{Amount: amount, Currency: r.PostFormValue("cost_currency"), PaidBy: r.PostFormValue("paid_by")}
	for _, line := range strings.Split(r.PostFormValue("instructors"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, agency, _ := strings.Cut(line, "|")
		o.Instructors = append(o.Instructors, training.Instructor{Name: strings.TrimSpace(name), Agency: strings.TrimSpace(agency)})
	}
	return o
}

func (s *Server) trnNew(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if id := r.URL.Query().Get("edit"); id != "" {
		o, err := training.Of(s.n).Get(r.Context(), u, id)
		if err != nil {
			s.missing(w, r, u, err)
			return
		}
		form := trnForm(o)
		form["edit"] = o.ID
		s.renderTrnNew(w, r, u, http.StatusOK, "", form, o.Audience)
		return
	}
	form := map[string]string{"type": training.TypeCourse, "language": "es_en", "cost_currency": "USD", "paid_by": training.Of(s.n).Self(), "seats": "20", "hours": "40"}
	s.renderTrnNew(w, r, u, http.StatusOK, "", form, nil)
}

func (s *Server) trnCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	in := trnFromForm(r)
	var o *training.Offer
	var err error
	flash := "drafted"
	if edit := r.PostFormValue("edit"); edit != "" {
		o, err = training.Of(s.n).Edit(r.Context(), u, edit, in)
		flash = "edited"
	} else {
		o, err = training.Of(s.n).Draft(r.Context(), u, in)
	}
	if err == nil {
		http.Redirect(w, r, "/training/o/"+url.PathEscape(o.ID)+"?flash=trn.flash."+flash, http.StatusSeeOther)
		return
	}
	v := s.newView(r, u, nil)
	msg := s.trnError(v, err)
	if msg == "" {
		s.fail(w, r, u, err)
		return
	}
	s.renderTrnNew(w, r, u, fault.Status(err), msg, formOf(r), in.Audience)
}

// trnNomActions are what u may do with one nomination.
type trnNom struct {
	*training.Nomination
	Do map[string]bool
	// Late: the vetting decision is past the commitment's date.
	Late bool
}

type trnViewData struct {
	O           *training.Offer
	Self        string
	Mine        bool
	Noms        []trnNom
	Do          map[string]bool
	Agencies    []string // the nominating side's, for the nomination form
	OurAgencies []string
	IDTypes     []string
	VetStatuses []string
	Results     []string
	Resources   []string
	Days        []string
	Certs       []*training.Issued
	Commitments []trnCommit
	Seats       int // confirmed
	// Names are the participants by nomination, for the history.
	Names map[string]string
}

type trnCommit struct {
	Side string
	*training.Commitment
}

func (s *Server) trnView(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderTrn(w, r, u, http.StatusOK, "")
}

func (s *Server) renderTrn(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string) {
	svc := training.Of(s.n)
	o, err := svc.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	self := svc.Self()
	mine := o.Origin == self
	write := u.Can(auth.TrainWrite) && !u.Can(auth.ReadAll)
	open := o.Status == training.StatusPublished
	today := svc.Now().Format("2006-01-02")
	d := trnViewData{O: o, Self: self, Mine: mine, Agencies: auth.Agencies[o.Nominee], OurAgencies: auth.Agencies[self], IDTypes: training.IDTypes,
		VetStatuses: training.VetStatuses, Results: training.Results, Resources: training.ResourceKinds, Days: o.Days(), Seats: o.Count(training.NomConfirmed),
		Do: map[string]bool{
			"edit":           write && mine && o.Status == training.StatusDraft,
			"publish":        write && mine && o.Status == training.StatusDraft && u.Can(auth.TrainRelease) && o.DraftedBy != u.Username,
			"publish_others": write && mine && o.Status == training.StatusDraft && o.DraftedBy == u.Username,
			"cancel":         write && mine && open && u.Can(auth.TrainRelease),
			"complete":       write && mine && open && today >= o.End,
			"nominate":       write && !mine && open && today <= o.NominateBy,
			"commit":         write && open && o.Type == training.TypeExercise,
			"report":         write && o.Status != training.StatusDraft && o.Status != training.StatusCancelled && o.Type == training.TypeExercise && today >= o.Start,
		}}
	d.Names = map[string]string{}
	for _, n := range o.Nominations {
		d.Names[n.ID] = n.Participant.Name
		act := map[string]bool{
			"withdraw":   write && !mine && open && n.Open() && n.Result == "",
			"substitute": write && !mine && open && n.Open() && n.Result == "" && today < o.Start,
			"vet":        write && mine && open && o.Vetting && n.Active(),
			"confirm":    write && mine && open && (n.Status == training.NomNominated || n.Status == training.NomWaitlisted),
			"waitlist":   write && mine && open && o.Waitlist && (n.Status == training.NomNominated || n.Status == training.NomConfirmed),
			"decline":    write && mine && open && n.Active() && n.Result == "",
			"attend":     write && mine && open && n.Status == training.NomConfirmed && n.Result == "" && today >= o.Start,
			"result":     write && mine && open && n.Status == training.NomConfirmed && n.Certificate == "" && today >= o.Start,
			"certify":    write && mine && n.Result == training.ResultPassed && n.Certificate == "",
			"revoke":     write && mine && n.Certificate != "" && u.Can(auth.TrainRelease),
		}
		// Confirming waits for approved vetting: shown, not offered.
		act["vetting_blocks"] = act["confirm"] && o.Vetting && (n.Vetting == nil || n.Vetting.Status != training.VetApproved)
		act["confirm"] = act["confirm"] && !act["vetting_blocks"]
		late := n.Active() && n.Vetting != nil && n.Vetting.Status == training.VetPending && svc.Now().After(n.VettingDue)
		d.Noms = append(d.Noms, trnNom{Nomination: n, Do: act, Late: late})
	}
	for _, side := range []string{o.Origin, o.Nominee} {
		if c := o.Commitments[side]; c != nil {
			d.Commitments = append(d.Commitments, trnCommit{Side: side, Commitment: c})
		}
	}
	if d.Certs, err = svc.Certificates(r.Context(), u, o.ID); err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, d)
	v.Title = o.Title
	v.Flash = trnFlash(v, r)
	v.Error = errText
	s.render(w, r, status, "training_offer", v)
}

func (s *Server) trnAction(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	svc := training.Of(s.n)
	id := r.PathValue("id")
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	num := func(k string) int { n, _ := strconv.Atoi(f(k)); return n }
	var err error
	flash := "step"
	a := r.PathValue("action")
	st := training.Step{Step: a, NominationID: f("nomination_id"), Reason: f("reason")}
	switch a {
	case "publish":
		_, err = svc.Publish(r.Context(), u, id)
		flash = "published"
	case training.StepNominate, training.StepSubstitute:
		st.Nomination = &training.Nomination{Participant: training.Participant{Name: f("name"), DOB: f("dob"), IDType: f("id_type"), NationalID: f("national_id"),
			Rank: f("rank"), Unit: f("unit"), Agency: f("agency")}}
	case training.StepVet:
		st.Vetting = &training.Vetting{Status: f("vetting_status"), Date: f("vetting_date"), Unit: f("unit_vetted")}
	case training.StepAttend:
		st.Day = &training.Day{Date: f("date"), Hours: num("hours")}
	case training.StepResult:
		st.Result, st.Hours = f("result"), num("hours")
		if st.Result == training.ResultPassed {
			flash = "certified"
		}
	case training.StepCertify:
		flash = "certified"
	case training.StepCommit:
		c := &training.Commitment{Resources: map[string]int{}}
		for _, line := range strings.Split(r.PostFormValue("units"), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			parts := strings.Split(line, "|")
			un := training.Unit{Name: strings.TrimSpace(parts[0])}
			if len(parts) > 1 {
				un.Agency = strings.TrimSpace(parts[1])
			}
			if len(parts) > 2 {
				un.Personnel, _ = strconv.Atoi(strings.TrimSpace(parts[2]))
			}
			c.Units = append(c.Units, un)
		}
		for _, k := range training.ResourceKinds {
			if n := num("res_" + k); n != 0 || f("res_"+k) != "" {
				c.Resources[k] = n
			}
		}
		st.Commitment = c
	case training.StepReport:
		st.Report = &training.Report{Summary: f("summary"), Lessons: splitLines(r.PostFormValue("lessons"))}
	case training.StepWithdraw, training.StepConfirm, training.StepWaitlist, training.StepDecline, training.StepRevoke, training.StepCancel, training.StepComplete:
	default:
		s.notFound(w, r, u)
		return
	}
	if a != "publish" {
		_, err = svc.Act(r.Context(), u, id, st)
	}
	if err != nil {
		v := s.newView(r, u, nil)
		msg := s.trnError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		s.renderTrn(w, r, u, fault.Status(err), msg)
		return
	}
	http.Redirect(w, r, "/training/o/"+url.PathEscape(id)+"?flash=trn.flash."+flash, http.StatusSeeOther)
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

type trnCertsData struct {
	Certs    []*training.Issued
	Verified *training.Verified
	Checked  bool
}

func (s *Server) trnCerts(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderTrnCerts(w, r, u, http.StatusOK, nil, false, "")
}

func (s *Server) renderTrnCerts(w http.ResponseWriter, r *http.Request, u *auth.User, status int, ver *training.Verified, checked bool, errText string) {
	list, err := training.Of(s.n).Certificates(r.Context(), u, "")
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, trnCertsData{Certs: list, Verified: ver, Checked: checked})
	v.Title = v.T("trn.certs.title")
	v.Error = errText
	s.render(w, r, status, "training_certificates", v)
}

func (s *Server) trnCert(w http.ResponseWriter, r *http.Request, u *auth.User) {
	c, err := training.Of(s.n).Certificate(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	v := s.newView(r, u, c)
	v.Title = v.T("trn.cert.title")
	s.render(w, r, http.StatusOK, "training_certificate", v)
}

func (s *Server) trnCertFile(w http.ResponseWriter, r *http.Request, u *auth.User) {
	c, err := training.Of(s.n).Certificate(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	input.ServeDownload(w, "certificate-"+c.ID+".json", "", c.Raw())
}

// trnVerify checks an uploaded certificate file against the node's
// agreement and the revocations it knows of.
func (s *Server) trnVerify(w http.ResponseWriter, r *http.Request, u *auth.User) {
	r.Body = http.MaxBytesReader(w, r.Body, 2<<20)
	f, _, err := r.FormFile("file")
	if err != nil {
		v := s.newView(r, u, nil)
		s.renderTrnCerts(w, r, u, http.StatusUnprocessableEntity, nil, false, v.T("trn.error.field", "Field", v.T("trn.field.file"), "Reason", v.T("trn.error.required")))
		return
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		s.tooLarge(w, r, u)
		return
	}
	ver, err := training.Of(s.n).Check(r.Context(), u, raw)
	if err != nil {
		v := s.newView(r, u, nil)
		msg := s.trnError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		s.renderTrnCerts(w, r, u, fault.Status(err), nil, false, msg)
		return
	}
	s.renderTrnCerts(w, r, u, http.StatusOK, ver, true, "")
}

// trnFiguresData is the training figures page.
type trnFiguresData struct {
	F      *training.Figures
	Tables []chartTable
}

func (s *Server) trnFiguresData(r *http.Request, u *auth.User, v *view) (*trnFiguresData, error) {
	f, err := training.Of(s.n).FiguresFor(r.Context(), u)
	if err != nil {
		return nil, err
	}
	d := &trnFiguresData{F: f}
	line := func(chart string, get func(training.SideFigures) map[string]int) chartTable {
		t := chartTable{Chart: chart, Cols: f.Months}
		var ss []series
		for _, sd := range f.Sides {
			vals := make([]float64, len(f.Months))
			for i, m := range f.Months {
				vals[i] = float64(get(sd)[m])
			}
			ss = append(ss, series{Name: sd.Party, Class: "side-" + strings.ToLower(sd.Party), Values: vals})
			t.Rows = append(t.Rows, chartRow{Label: sd.Party, Values: vals})
		}
		t.SVG = lineChart(v.T("trn.chart."+chart), f.Months, ss)
		return t
	}
	d.Tables = append(d.Tables, line("offers_month", func(sd training.SideFigures) map[string]int { return sd.ByMonth }),
		line("hours_month", func(sd training.SideFigures) map[string]int { return sd.HoursByMonth }))
	// Participants trained per agency: each side's agencies trained by the other.
	agencies := map[string]bool{}
	for _, sd := range f.Sides {
		for a := range sd.TrainedAgency {
			agencies[a] = true
		}
	}
	keys := slices.Sorted(maps.Keys(agencies))
	t := chartTable{Chart: "trained_agency"}
	var bs []bar
	for _, sd := range f.Sides {
		t.Cols = append(t.Cols, sd.Party)
	}
	for _, a := range keys {
		b := bar{Label: a}
		row := chartRow{Label: a}
		for _, sd := range f.Sides {
			x := float64(sd.TrainedAgency[a])
			row.Values = append(row.Values, x)
			b.Parts = append(b.Parts, barPart{Class: "side-" + strings.ToLower(sd.Party), Name: sd.Party, Value: x})
		}
		t.Rows = append(t.Rows, row)
		bs = append(bs, b)
	}
	t.SVG = barChart(v.T("trn.chart.trained_agency"), bs)
	d.Tables = append(d.Tables, t)
	for i := range d.Tables {
		t := &d.Tables[i]
		t.Title = v.T("trn.chart." + t.Chart)
		t.CSV = "/training/figures.csv?chart=" + t.Chart
	}
	return d, nil
}

func (s *Server) trnFigures(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	d, err := s.trnFiguresData(r, u, v)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v.Data = d
	v.Title = v.T("trn.figures")
	s.render(w, r, http.StatusOK, "training_figures", v)
}

func (s *Server) trnFiguresCSV(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	d, err := s.trnFiguresData(r, u, v)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	s.chartCSV(w, r, u, d.Tables, "training-", "")
}
