package web

import (
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/finintel"
	"puente/internal/input"
	"regexp"
	"slices"

	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"puente/internal/auth"
	"puente/internal/liaison"
)

func init() {
	Register(finintel.Name, func(s *Server) Face {
		return Face{
			Nav:      []NavItem{{Path: "/finintel", ID: "nav-finintel", Label: "nav.finintel", Permission: auth.FinIntelRead}},
			LogKinds: []string{finintel.KindLogConsent, finintel.KindLogReminder, finintel.KindLogReleased, finintel.KindLogSealed},
			ErrorKey: "fi.error.", FieldKey: "fi.field.",
			Keys: slices.Concat(
				keysOf("fi.delivery.", "pending", "delivered", "rejected", "received"),
				keysOf("fi.status.", finintel.StatusDraft, finintel.StatusSubmitted, finintel.StatusReleased, finintel.StatusRecalled, finintel.StatusReceived, finintel.StatusSealed),
				keysOf("rfi.status.", finintel.RFIOpen, finintel.RFIPartial, finintel.RFIAnswered, finintel.RFIDeclined),
				keysOf("rfi.kind.", finintel.RespondPartial, finintel.RespondFull, finintel.RespondDecline),
				keysOf("fi.feedback.", finintel.FeedbackKinds...),
				keysOf("fi.channel.", finintel.Channels...),
				keysOf("fi.flash.", FlashKeys...),
				keysOf("fi.work.", "draft", "release", "consent", "rfi"),
				keysOf("fi.seal.", "recall", "retention"),
				keysOf("fi.consent.", finintel.ConsentPending, finintel.ConsentGranted, finintel.ConsentDenied),
				keysOf("fi.use.", finintel.UseDisseminate, finintel.UseEvidential),
				keysOf("fi.purpose.", caveats.PurposeIntelligence, caveats.PurposeEvidential),
				keysOf("fi.list.", "subjects", "accounts", "transactions"),
				// Fields named by path ("subjects[2].curp") or by a CSV column.
				keysOf("fi.field.", "ref", "given_names", "first_surname", "second_surname", "aliases", "dob", "nationality", "curp", "rfc", "ssn",
					"ein", "passport", "phone", "email", "name", "country", "type", "bank", "number", "clabe", "iban", "wallet", "currency", "holder",
					"date", "amount", "from", "to", "channel", "subjects", "accounts", "transactions", "file"),
			),
			Pages: []Page{
				{Pattern: "GET /finintel", Permission: auth.FinIntelRead, Handle: s.fiList},
				{Pattern: "GET /finintel/new", Permission: auth.FinIntelWrite, Handle: s.fiNew},
				{Pattern: "POST /finintel", Handle: s.fiCreate},
				{Pattern: "POST /finintel/goaml", Permission: auth.FinIntelWrite, MaxBody: finintel.MaxGoAMLBytes + 1<<20, Handle: s.fiGoAML},
				{Pattern: "GET /finintel/d/{id}", Handle: s.fiView},
				{Pattern: "POST /finintel/d/{id}/{action}", MaxBody: maxUpload, Handle: s.fiAction},
				{Pattern: "GET /finintel/d/{id}/export", Handle: s.fiExport},
				{Pattern: "GET /finintel/d/{id}/attachments/{sha}", Handle: s.fiAttachment},
				{Pattern: "POST /finintel/consents/{id}", Handle: s.fiDecide},
				{Pattern: "GET /finintel/rfis", Handle: s.fiRFIs},
				{Pattern: "POST /finintel/rfis", Handle: s.fiCreateRFI},
				{Pattern: "GET /finintel/r/{id}", Handle: s.fiRFIView},
				{Pattern: "POST /finintel/r/{id}/respond", Handle: s.fiRespond},
			},
		}
	})
}

// fiError translates a financial-intelligence error for the user, or
// returns "" for an unexpected one.
func (s *Server) fiError(v *view, err error) string {
	var fe *fault.FieldError
	var ie *finintel.ImportError
	switch {
	case errors.As(err, &fe):
		v.markField(fe.Field)
		return v.T("fi.error.field", "Field", fiFieldLabel(v, fe.Field), "Reason", fiReason(v, fe.Code))
	case errors.As(err, &ie):
		where := ie.Path
		if where == "" {
			where = v.T("fi.import.line", "Line", ie.Line, "Column", ie.Field)
		}
		reason := ie.Reason
		if ie.Code() != "" {
			reason = fiReason(v, ie.Code())
		}
		return v.T("fi.error.import", "Where", where, "Reason", reason)
	}
	if e, ok := fault.Describe(err); ok {
		switch e.Code {
		case "forbidden":
			if e.Reason != "" {
				return v.T("fi.error." + e.Reason)
			}
			return v.T("error.forbidden")
		case "not_found":
			return v.T("error.not_found")
		}
		return v.T("fi.error." + e.Reason)
	}
	return ""
}

// FlashKeys are the confirmations a redirect may ask a page to show.
var FlashKeys = []string{"saved", "added", "attached", "removed", "imported", "submitted", "returned", "released", "recalled", "passed_on", "evidential",
	"consent_requested", "feedback_sent", "decided", "responded"}

// flash translates the ?flash= confirmation, if it is one of ours.
func flash(v *view, r *http.Request) string {
	k, ok := strings.CutPrefix(r.URL.Query().Get("flash"), "fi.flash.")
	if !ok || !slices.Contains(FlashKeys, k) {
		return ""
	}
	return v.T("fi.flash." + k)
}

func fiReason(v *view, code string) string {
	if strings.HasPrefix(code, "ident.") {
		return v.T(code)
	}
	return v.T("fi.error." + code)
}

var fieldPathRE = regexp.MustCompile(`^(subjects|accounts|transactions)\[(\d+)\]\.(.+)$`)

// fiFieldLabel names a field path such as "subjects[2].curp" for people:
// "Subject 3 · CURP".
func fiFieldLabel(v *view, field string) string {
	if m := fieldPathRE.FindStringSubmatch(field); m != nil {
		i, _ := strconv.Atoi(m[2])
		sub, _, _ := strings.Cut(m[3], "[")
		return v.T("fi.list."+m[1], "N", i+1) + " · " + v.T("fi.field."+sub)
	}
	return v.T("fi.field." + strings.ReplaceAll(field, "caveats.", ""))
}

type fiListData struct {
	Direction   string
	Query       string
	Disclosures []*finintel.Disclosure
	RFIs        []*finintel.RFI
}

func (s *Server) fiList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	v.Title = v.T("fi.title")
	q := r.URL.Query()
	d := fiListData{Direction: q.Get("direction"), Query: q.Get("q")}
	ds, err := finintel.Of(s.n).List(r.Context(), u, finintel.ListFilter{Direction: d.Direction, Query: d.Query})
	if msg := s.fiError(v, err); msg != "" {
		v.Error = msg
	} else if err != nil {
		s.fail(w, r, u, err)
		return
	}
	d.Disclosures = ds
	rs, err := finintel.Of(s.n).ListRFIs(r.Context(), u, "")
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	for _, x := range rs {
		if x.FinalAt.IsZero() {
			d.RFIs = append(d.RFIs, x)
		}
	}
	v.Data = d
	v.Flash = flash(v, r)
	s.render(w, r, http.StatusOK, "finintel", v)
}

type fiDraftData struct {
	Caveats         caveats.Caveats
	Classifications []string
	Agencies        []string // the partner's, for releasable_to
}

func (s *Server) fiDraftData() fiDraftData {
	return fiDraftData{Caveats: finintel.Of(s.n).DefaultCaveats(), Classifications: caveats.Classifications, Agencies: auth.Agencies[finintel.Of(s.n).Partner()]}
}

func (s *Server) fiNew(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, s.fiDraftData())
	v.Title = v.T("fi.new")
	v.Form = map[string]string{"rfi_id": r.URL.Query().Get("rfi")}
	s.render(w, r, http.StatusOK, "finintel_new", v)
}

// caveatsFromForm reads the caveats fields of a draft form; the third-party
// rule always holds.
func caveatsFromForm(r *http.Request) caveats.Caveats {
	var c caveats.Caveats
	decodeForm(r, &c)
	c.ThirdPartyRule = true
	return c
}

// draftFromForm reads a draft's heading and caveats.
func draftFromForm(r *http.Request) finintel.Draft {
	var d finintel.Draft
	decodeForm(r, &d)
	d.Caveats = caveatsFromForm(r)
	return d
}

func (s *Server) fiCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := s.parseForm(w, r); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	d := draftFromForm(r)
	got, err := finintel.Of(s.n).CreateDraft(r.Context(), u, d)
	if err != nil {
		if errors.Is(err, finintel.ErrForbidden) {
			s.forbidden(w, r, u)
			return
		}
		v := s.newView(r, u, s.fiDraftData())
		if v.Error = s.fiError(v, err); v.Error == "" {
			s.fail(w, r, u, err)
			return
		}
		v.Form = map[string]string{"title": d.Title, "criminal_group": d.CriminalGroup, "narrative": d.Narrative, "rfi_id": d.RFIID}
		s.render(w, r, http.StatusUnprocessableEntity, "finintel_new", v)
		return
	}
	http.Redirect(w, r, "/finintel/d/"+got.ID, http.StatusSeeOther)
}

func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	v.Error = v.T("error.upload_too_large")
	s.render(w, r, http.StatusRequestEntityTooLarge, "error", v)
}

func (s *Server) fiGoAML(w http.ResponseWriter, r *http.Request, u *auth.User) {
	r.Body = http.MaxBytesReader(w, r.Body, finintel.MaxGoAMLBytes+1<<20)
	f, _, err := r.FormFile("file")
	if err != nil {
		s.fiListError(w, r, u, "fi.error.no_file")
		return
	}
	defer f.Close()
	dr, err := finintel.ImportGoAML(f, finintel.Of(s.n).DefaultCaveats())
	var got *finintel.Disclosure
	if err == nil {
		got, err = finintel.Of(s.n).CreateDraft(r.Context(), u, *dr)
	}
	if err != nil {
		v := s.newView(r, u, nil)
		if msg := s.fiError(v, err); msg != "" {
			s.fiListErrorText(w, r, u, msg)
			return
		}
		s.fail(w, r, u, err)
		return
	}
	http.Redirect(w, r, "/finintel/d/"+got.ID, http.StatusSeeOther)
}

func (s *Server) fiListError(w http.ResponseWriter, r *http.Request, u *auth.User, key string) {
	v := s.newView(r, u, nil)
	s.fiListErrorText(w, r, u, v.T(key))
}

func (s *Server) fiListErrorText(w http.ResponseWriter, r *http.Request, u *auth.User, msg string) {
	v := s.newView(r, u, nil)
	v.Title = v.T("fi.title")
	ds, _ := finintel.Of(s.n).List(r.Context(), u, finintel.ListFilter{})
	v.Data = fiListData{Disclosures: ds}
	v.Error = msg
	s.render(w, r, http.StatusUnprocessableEntity, "finintel", v)
}

type fiViewData struct {
	D               *finintel.Disclosure
	Own             bool
	Editable        bool
	Transactions    []finintel.Transaction // the first rows shown
	MoreTx          int
	Refs            []string // subject and account refs, for transaction forms
	Classifications []string
	PartnerAgencies []string
	OwnAgencies     []string // for consent requests
	// PassOn are the agencies this disclosure may go to now (its caveats
	// release it to them, or the originator consented); NeedConsent the
	// others, which the page names with the way to ask.
	PassOn, NeedConsent []string
	Channels            []string
	FeedbackKinds       []string
	Pending             []finintel.Consent // the partner's requests awaiting our decision
}

const maxShownTx = 500

func (s *Server) fiView(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderDisclosure(w, r, u, http.StatusOK, "", nil)
}

func (s *Server) renderDisclosure(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string, form map[string]string) {
	d, err := finintel.Of(s.n).Get(r.Context(), u, r.PathValue("id"))
	switch {
	case errors.Is(err, finintel.ErrNotFound):
		s.notFound(w, r, u)
		return
	case errors.Is(err, finintel.ErrForbidden):
		s.forbidden(w, r, u)
		return
	case err != nil:
		s.fail(w, r, u, err)
		return
	}
	self := finintel.Of(s.n).Self()
	data := fiViewData{D: d, Own: d.Origin == self, Editable: d.Origin == self && d.Status == finintel.StatusDraft && u.Can(auth.FinIntelWrite),
		Classifications: caveats.Classifications, PartnerAgencies: auth.Agencies[finintel.Of(s.n).Partner()], Channels: finintel.Channels,
		FeedbackKinds: finintel.FeedbackKinds}
	for _, a := range auth.Agencies[self] {
		if a == d.ToAgency {
			continue
		}
		data.OwnAgencies = append(data.OwnAgencies, a)
		granted := slices.ContainsFunc(d.Consents, func(c finintel.Consent) bool {
			return c.Use == finintel.UseDisseminate && c.Agency == a && c.Status == finintel.ConsentGranted
		})
		if granted || d.Caveats.Permits(caveats.Disseminate, a) {
			data.PassOn = append(data.PassOn, a)
		} else {
			data.NeedConsent = append(data.NeedConsent, a)
		}
	}
	if d.Content != nil {
		data.Transactions = d.Content.Transactions[:min(len(d.Content.Transactions), maxShownTx)]
		data.MoreTx = len(d.Content.Transactions) - len(data.Transactions)
		dr := finintel.DraftOf(d)
		data.Refs = partyRefs(&dr)
	}
	for _, c := range d.Consents {
		if data.Own && c.Status == finintel.ConsentPending {
			data.Pending = append(data.Pending, c)
		}
	}
	v := s.newView(r, u, data)
	v.Title = d.Title
	v.Error = errText
	v.Flash = flash(v, r)
	v.Form = form
	if v.Form == nil {
		v.Form = map[string]string{}
	}
	s.render(w, r, status, "disclosure", v)
}

// nextRef is the first unused ref with prefix.
func nextRef(prefix string, used []string) string {
	for i := len(used) + 1; ; i++ {
		ref := prefix + strconv.Itoa(i)
		if !slices.Contains(used, ref) {
			return ref
		}
	}
}

// partyRefs are the refs of a draft's subjects and accounts, which share
// one namespace (a transaction's from and to name either).
func partyRefs(d *finintel.Draft) []string {
	var refs []string
	for _, x := range d.Subjects {
		refs = append(refs, x.Ref)
	}
	for _, x := range d.Accounts {
		refs = append(refs, x.Ref)
	}
	return refs
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == ';' || r == '\n' }) {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// fiAction handles every button and form on a disclosure's page.
func (s *Server) fiAction(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := s.parseForm(w, r); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	fi := finintel.Of(s.n)
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = r.PostForm.Get(k)
	}
	flash := ""
	// edit applies f to the current draft and saves it.
	edit := func(f func(d *finintel.Draft) error) error {
		cur, err := fi.Get(ctx, u, id)
		if err != nil {
			return err
		}
		dr := finintel.DraftOf(cur)
		if err := f(&dr); err != nil {
			return err
		}
		_, err = fi.UpdateDraft(ctx, u, id, dr)
		return err
	}
	var err error
	switch r.PathValue("action") {
	case "update":
		err = edit(func(d *finintel.Draft) error {
			f := draftFromForm(r)
			d.Title, d.CriminalGroup, d.Narrative, d.Caveats = f.Title, f.CriminalGroup, f.Narrative, f.Caveats
			return nil
		})
		flash = "fi.flash.saved"
	case "subject":
		err = edit(func(d *finintel.Draft) error {
			var sub finintel.Subject
			decodeForm(r, &sub, "nationality", "passport_country", "country")
			sub.Ref = nextRef("S", partyRefs(d))
			d.Subjects = append(d.Subjects, sub)
			return nil
		})
		flash = "fi.flash.added"
	case "account":
		err = edit(func(d *finintel.Draft) error {
			var a finintel.Account
			decodeForm(r, &a, "currency")
			a.Ref = nextRef("A", partyRefs(d))
			d.Accounts = append(d.Accounts, a)
			return nil
		})
		flash = "fi.flash.added"
	case "transaction":
		err = edit(func(d *finintel.Draft) error {
			var refs []string
			for _, x := range d.Transactions {
				refs = append(refs, x.Ref)
			}
			var x finintel.Transaction
			decodeForm(r, &x, "currency")
			x.Ref = nextRef("T", refs)
			d.Transactions = append(d.Transactions, x)
			return nil
		})
		flash = "fi.flash.added"
	case "remove":
		ref := r.FormValue("ref")
		err = edit(func(d *finintel.Draft) error {
			d.Subjects = slices.DeleteFunc(d.Subjects, func(x finintel.Subject) bool { return x.Ref == ref })
			d.Accounts = slices.DeleteFunc(d.Accounts, func(x finintel.Account) bool { return x.Ref == ref })
			d.Transactions = slices.DeleteFunc(d.Transactions, func(x finintel.Transaction) bool { return x.Ref == ref })
			return nil
		})
		flash = "fi.flash.removed"
	case "csv":
		f, _, ferr := r.FormFile("file")
		if ferr != nil {
			err = &fault.FieldError{Field: "file", Code: "no_file"}
			break
		}
		err = edit(func(d *finintel.Draft) error { return finintel.ImportCSV(r.FormValue("kind"), f, &d.Content) })
		f.Close()
		flash = "fi.flash.imported"
	case "attach":
		var atts []liaison.NewAttachment
		if atts, err = s.readAttachments(r); err == nil && len(atts) == 0 {
			err = &fault.FieldError{Field: "file", Code: "no_file"}
		}
		for _, a := range atts {
			if err != nil {
				break
			}
			_, err = fi.AddAttachment(ctx, u, id, a.Name, a.ContentType, a.Data)
		}
		flash = "fi.flash.attached"
	case "unattach":
		err, flash = fi.RemoveAttachment(ctx, u, id, r.FormValue("sha256")), "fi.flash.removed"
	case "submit":
		err, flash = fi.Submit(ctx, u, id), "fi.flash.submitted"
	case "return":
		err, flash = fi.Return(ctx, u, id, r.FormValue("note")), "fi.flash.returned"
	case "release":
		err, flash = fi.Release(ctx, u, id), "fi.flash.released"
	case "recall":
		err, flash = fi.Recall(ctx, u, id), "fi.flash.recalled"
	case "passon":
		err, flash = fi.PassOn(ctx, u, id, r.FormValue("agency")), "fi.flash.passed_on"
	case "evidential":
		err, flash = fi.MarkEvidential(ctx, u, id), "fi.flash.evidential"
	case "consent":
		_, err = fi.RequestConsent(ctx, u, id, r.FormValue("use"), r.FormValue("agency"), r.FormValue("reason"))
		flash = "fi.flash.consent_requested"
	case "feedback":
		var fb finintel.Feedback
		decodeForm(r, &fb, "currency")
		_, err = fi.SendFeedback(ctx, u, id, fb)
		flash = "fi.flash.feedback_sent"
	default:
		s.notFound(w, r, u)
		return
	}
	switch {
	case errors.Is(err, finintel.ErrNotFound):
		s.notFound(w, r, u)
	case err != nil:
		v := s.newView(r, u, nil)
		msg := s.fiError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		status := http.StatusUnprocessableEntity
		if e, ok := fault.Describe(err); ok && e.Code == "forbidden" {
			status = http.StatusForbidden
		} else if ok && e.Code == "conflict" {
			status = http.StatusConflict
		}
		s.renderDisclosure(w, r, u, status, msg, form)
	default:
		http.Redirect(w, r, "/finintel/d/"+id+"?flash="+url.QueryEscape(flash), http.StatusSeeOther)
	}
}

func (s *Server) fiExport(w http.ResponseWriter, r *http.Request, u *auth.User) {
	out, err := finintel.Of(s.n).Export(r.Context(), u, r.PathValue("id"))
	if err != nil {
		if errors.Is(err, finintel.ErrNotFound) {
			s.notFound(w, r, u)
			return
		}
		v := s.newView(r, u, nil)
		if msg := s.fiError(v, err); msg != "" {
			s.renderDisclosure(w, r, u, http.StatusForbidden, msg, nil)
			return
		}
		s.fail(w, r, u, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "disclosure-"+r.PathValue("id")+".ftm.json"))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(out)
}

func (s *Server) fiAttachment(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a, data, err := finintel.Of(s.n).AttachmentData(r.Context(), u, r.PathValue("id"), r.PathValue("sha"))
	switch {
	case errors.Is(err, finintel.ErrNotFound):
		s.notFound(w, r, u)
	case err != nil:
		v := s.newView(r, u, nil)
		if msg := s.fiError(v, err); msg != "" {
			s.renderDisclosure(w, r, u, http.StatusForbidden, msg, nil)
			return
		}
		s.fail(w, r, u, err)
	default:
		input.ServeDownload(w, a.Name, a.SHA256, data)
	}
}

func (s *Server) fiDecide(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := s.parseForm(w, r); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	did := r.FormValue("disclosure")
	err := finintel.Of(s.n).DecideConsent(r.Context(), u, r.PathValue("id"), r.FormValue("decision") == "grant", r.FormValue("conditions"))
	if err != nil {
		v := s.newView(r, u, nil)
		msg := s.fiError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		r.SetPathValue("id", did)
		s.renderDisclosure(w, r, u, http.StatusUnprocessableEntity, msg, nil)
		return
	}
	http.Redirect(w, r, "/finintel/d/"+url.PathEscape(did)+"?flash=fi.flash.decided", http.StatusSeeOther)
}

type fiRFIsData struct {
	RFIs      []*finintel.RFI
	Urgencies []string
	Days      int // the partner's commitment
}

func (s *Server) fiRFIs(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderRFIs(w, r, u, http.StatusOK, "", nil)
}

func (s *Server) renderRFIs(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string, form map[string]string) {
	if !u.Can(auth.FinIntelRead) {
		s.forbidden(w, r, u)
		return
	}
	rs, err := finintel.Of(s.n).ListRFIs(r.Context(), u, "")
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, fiRFIsData{RFIs: rs, Urgencies: finintel.Urgencies, Days: finintel.Of(s.n).ResponseDays(finintel.Of(s.n).Partner())})
	v.Title = v.T("rfi.title")
	v.Error = errText
	v.Form = form
	if v.Form == nil {
		// A blind lookup's hit prefills the request (step 2).
		v.Form = map[string]string{"urgency": "routine", "type": "person"}
		for k, vals := range r.URL.Query() {
			if len(vals) > 0 && len(vals[0]) <= finintel.MaxText {
				v.Form[k] = vals[0]
			}
		}
	}
	s.render(w, r, status, "rfis", v)
}

func (s *Server) fiCreateRFI(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := s.parseForm(w, r); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = strings.TrimSpace(r.PostForm.Get(k))
	}
	in := finintel.NewRFI{Title: form["title"], Urgency: form["urgency"], Questions: r.FormValue("questions")}
	if form["given_names"] != "" || form["first_surname"] != "" || form["name"] != "" {
		in.Subjects = []finintel.Subject{{Ref: "S1", Type: form["type"], GivenNames: form["given_names"], FirstSurname: form["first_surname"],
			SecondSurname: form["second_surname"], DOB: form["dob"], CURP: form["curp"], RFC: form["rfc"], Passport: form["passport"],
			PassportCtry: strings.ToUpper(form["passport_country"]), SSN: form["ssn"], EIN: form["ein"], Name: form["name"]}}
	}
	rfi, err := finintel.Of(s.n).CreateRFI(r.Context(), u, in)
	if err != nil {
		if errors.Is(err, finintel.ErrForbidden) {
			s.forbidden(w, r, u)
			return
		}
		v := s.newView(r, u, nil)
		msg := s.fiError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		s.renderRFIs(w, r, u, http.StatusUnprocessableEntity, msg, form)
		return
	}
	http.Redirect(w, r, "/finintel/r/"+rfi.ID, http.StatusSeeOther)
}

type fiRFIData struct {
	R           *finintel.RFI
	Own         bool
	Disclosures []*finintel.Disclosure // ours, released, to attach
}

func (s *Server) fiRFIView(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderRFI(w, r, u, http.StatusOK, "")
}

func (s *Server) renderRFI(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string) {
	rfi, err := finintel.Of(s.n).GetRFI(r.Context(), u, r.PathValue("id"))
	if errors.Is(err, finintel.ErrNotFound) {
		s.notFound(w, r, u)
		return
	} else if err != nil {
		s.fail(w, r, u, err)
		return
	}
	d := fiRFIData{R: rfi, Own: rfi.Origin == finintel.Of(s.n).Self()}
	if !d.Own && u.Can(auth.FinIntelWrite) {
		ds, err := finintel.Of(s.n).List(r.Context(), u, finintel.ListFilter{Direction: "sent", Status: finintel.StatusReleased})
		if err != nil {
			s.fail(w, r, u, err)
			return
		}
		d.Disclosures = ds
	}
	v := s.newView(r, u, d)
	v.Title = rfi.Title
	v.Error = errText
	v.Flash = flash(v, r)
	s.render(w, r, status, "rfi", v)
}

func (s *Server) fiRespond(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := s.parseForm(w, r); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	id := r.PathValue("id")
	_, err := finintel.Of(s.n).Respond(r.Context(), u, id, r.FormValue("kind"), r.FormValue("body"), r.FormValue("disclosure_id"))
	if err != nil {
		v := s.newView(r, u, nil)
		msg := s.fiError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		s.renderRFI(w, r, u, http.StatusUnprocessableEntity, msg)
		return
	}
	http.Redirect(w, r, "/finintel/r/"+id+"?flash=fi.flash.responded", http.StatusSeeOther)
}
