package web

import (
	"puente/internal/fault"

	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"puente/internal/api"
	"puente/internal/auth"
	"puente/internal/liaison"
	"puente/internal/link"
	"puente/internal/match"
	"puente/internal/names"
	"puente/internal/screen"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, nil, nil)
	v.Form = map[string]string{"next": safeNext(r.URL.Query().Get("next"))}
	s.render(w, r, http.StatusOK, "login", v)
}

// safeNext keeps post-login redirects on this site.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") {
		return "/"
	}
	return n
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	username := strings.TrimSpace(r.PostFormValue("username"))
	u, err := s.n.Auth.Authenticate(r.Context(), username, r.PostFormValue("password"), clientIP(r))
	if err != nil {
		v := s.newView(r, nil, nil)
		v.Form = map[string]string{"username": username, "next": safeNext(r.PostFormValue("next"))}
		status := http.StatusUnauthorized
		switch {
		case errors.Is(err, auth.ErrLocked):
			v.Error, status = v.T("login.locked"), http.StatusTooManyRequests
		case errors.Is(err, auth.ErrBadCredentials):
			v.Error = v.T("login.failed")
		default:
			s.fail(w, r, nil, err)
			return
		}
		s.log.Info("sign-in refused", "username", username, "ip", clientIP(r), "reason", err.Error())
		s.render(w, r, status, "login", v)
		return
	}
	secret, err := s.n.Auth.NewSession(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Value: secret, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(auth.SessionTTL.Seconds())})
	s.log.Info("signed in", "user", u.Username)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.sessionCookie()); err == nil {
		_ = s.n.Auth.EndSession(r.Context(), c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLanguage switches the language: for a signed-in user it is saved with
// the account, otherwise in a cookie.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PostFormValue("lang")
	if lang != "en" && lang != "es" {
		http.Error(w, "unknown language", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	if c, err := r.Cookie(s.sessionCookie()); err == nil {
		if u, err := s.n.Auth.Session(r.Context(), c.Value); err == nil {
			if _, err := s.n.Auth.Update(trustlog.WithActor(r.Context(), "user:"+u.Username+"@"+u.Agency), u.ID, auth.Update{Lang: &lang}); err != nil {
				s.fail(w, r, u, err)
				return
			}
		}
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, u *auth.User) {
	st, err := s.n.Link.Status(r.Context())
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	s.render(w, r, http.StatusOK, "home", s.newView(r, u, st))
}

type inboxData struct {
	Query   string
	Threads []*liaison.Thread
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.LiaisonRead) {
		s.forbidden(w, r, u)
		return
	}
	q := r.URL.Query().Get("q")
	v := s.newView(r, u, nil)
	ts, err := s.n.Liaison.List(r.Context(), u, q, 200)
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		v.Error = s.fieldError(v, fe.Field, fe.Code)
	} else if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v.Data = inboxData{Query: q, Threads: ts}
	s.render(w, r, http.StatusOK, "inbox", v)
}

type newThreadData struct {
	Agencies   []string
	Priorities []string
}

func (s *Server) newThreadPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.LiaisonWrite) {
		s.forbidden(w, r, u)
		return
	}
	v := s.newView(r, u, newThreadData{Agencies: auth.Agencies[s.n.Link.Partner()], Priorities: liaison.Priorities})
	// A hit on a blind lookup offers "step 2": a request prefilled here.
	q := r.URL.Query()
	v.Form = map[string]string{"priority": "routine", "subject": q.Get("subject"), "body": q.Get("body")}
	s.render(w, r, http.StatusOK, "new", v)
}

// maxUpload bounds one form post: every attachment at its limit plus text.
const maxUpload = liaison.MaxAttachments*liaison.MaxAttachment + 1<<20

func (s *Server) readAttachments(r *http.Request) ([]liaison.NewAttachment, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var out []liaison.NewAttachment
	for _, fh := range r.MultipartForm.File["attachments"] {
		if fh.Size == 0 && fh.Filename == "" {
			continue
		}
		if fh.Size > liaison.MaxAttachment {
			return nil, &fault.FieldError{Field: "attachments", Code: "attachment_too_large"}
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("reading upload: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(f, liaison.MaxAttachment+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading upload: %w", err)
		}
		out = append(out, liaison.NewAttachment{Name: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data})
	}
	return out, nil
}

func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return r.ParseMultipartForm(32 << 20)
	}
	return r.ParseForm()
}

func (s *Server) createThread(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.LiaisonWrite) {
		s.forbidden(w, r, u)
		return
	}
	v := s.newView(r, u, newThreadData{Agencies: auth.Agencies[s.n.Link.Partner()], Priorities: liaison.Priorities})
	if err := s.parseForm(w, r); err != nil {
		v.Error = v.T("error.upload_too_large")
		s.render(w, r, http.StatusRequestEntityTooLarge, "new", v)
		return
	}
	v.Form = map[string]string{"subject": r.FormValue("subject"), "priority": r.FormValue("priority"), "to_agency": r.FormValue("to_agency"), "body": r.FormValue("body")}
	atts, err := s.readAttachments(r)
	var t *liaison.Thread
	if err == nil {
		t, err = s.n.Liaison.Start(r.Context(), u, liaison.NewThread{
			Subject: r.FormValue("subject"), Priority: r.FormValue("priority"), ToAgency: r.FormValue("to_agency"),
			Body: r.FormValue("body"), ReleasableTo: r.Form["releasable_to"], Attachments: atts,
		})
	}
	var fe *fault.FieldError
	switch {
	case errors.As(err, &fe):
		v.Error = s.fieldError(v, fe.Field, fe.Code)
		s.render(w, r, http.StatusUnprocessableEntity, "new", v)
	case errors.Is(err, liaison.ErrForbidden):
		s.forbidden(w, r, u)
	case err != nil:
		s.fail(w, r, u, err)
	default:
		http.Redirect(w, r, "/threads/"+t.ID, http.StatusSeeOther)
	}
}

func (s *Server) fieldError(v *view, field, code string) string {
	return v.T("field."+field) + ": " + v.T("error."+code)
}

func (s *Server) threadPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id := r.PathValue("id")
	// Opening a thread is reading it; a page loaded from another site is not.
	if site := r.Header.Get("Sec-Fetch-Site"); site == "" || site == "same-origin" || site == "none" {
		if _, err := s.n.Liaison.MarkRead(r.Context(), u, id); err != nil && !errors.Is(err, liaison.ErrNotFound) {
			s.fail(w, r, u, err)
			return
		}
	}
	t, err := s.n.Liaison.Get(r.Context(), u, id)
	switch {
	case errors.Is(err, liaison.ErrNotFound):
		s.notFound(w, r, u)
	case err != nil:
		s.fail(w, r, u, err)
	default:
		v := s.newView(r, u, t)
		v.Title = t.Subject
		v.Flash = r.URL.Query().Get("flash")
		s.render(w, r, http.StatusOK, "thread", v)
	}
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id := r.PathValue("id")
	if err := s.parseForm(w, r); err != nil {
		v := s.newView(r, u, nil)
		v.Error = v.T("error.upload_too_large")
		s.render(w, r, http.StatusRequestEntityTooLarge, "error", v)
		return
	}
	atts, err := s.readAttachments(r)
	if err == nil {
		_, err = s.n.Liaison.Reply(r.Context(), u, id, r.FormValue("body"), atts)
	}
	var fe *fault.FieldError
	switch {
	case errors.As(err, &fe):
		t, gerr := s.n.Liaison.Get(r.Context(), u, id)
		if gerr != nil {
			s.notFound(w, r, u)
			return
		}
		v := s.newView(r, u, t)
		v.Error = s.fieldError(v, fe.Field, fe.Code)
		v.Form = map[string]string{"body": r.FormValue("body")}
		s.render(w, r, http.StatusUnprocessableEntity, "thread", v)
	case errors.Is(err, liaison.ErrNotFound):
		s.notFound(w, r, u)
	case errors.Is(err, liaison.ErrForbidden):
		s.forbidden(w, r, u)
	case err != nil:
		s.fail(w, r, u, err)
	default:
		http.Redirect(w, r, "/threads/"+id, http.StatusSeeOther)
	}
}

func (s *Server) attachment(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a, data, err := s.n.Liaison.AttachmentData(r.Context(), u, r.PathValue("sha"))
	switch {
	case errors.Is(err, liaison.ErrNotFound):
		s.notFound(w, r, u)
	case errors.Is(err, liaison.ErrForbidden):
		s.forbidden(w, r, u)
	case err != nil:
		s.fail(w, r, u, err)
	default:
		serveAttachment(w, a, data)
	}
}

// serveAttachment always downloads: a partner's file never renders in the
// node's origin.
func serveAttachment(w http.ResponseWriter, a *liaison.Attachment, data []byte) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '\\' || r > 0x7e {
			return '_'
		}
		return r
	}, a.Name)))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

type settingsData struct {
	Tokens   []auth.Token
	NewToken string
}

func (s *Server) settings(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderSettings(w, r, u, "", "")
}

func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, u *auth.User, secret, errText string) {
	ts, err := s.n.Auth.Tokens(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, settingsData{Tokens: ts, NewToken: secret})
	v.Error = errText
	s.render(w, r, http.StatusOK, "settings", v)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, u *auth.User) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	_, secret, err := s.n.Auth.NewToken(r.Context(), u.ID, r.PostFormValue("name"))
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		v := s.newView(r, u, nil)
		s.renderSettings(w, r, u, "", s.fieldError(v, fe.Field, fe.Code))
		return
	}
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	s.log.Info("API token created", "user", u.Username)
	s.renderSettings(w, r, u, secret, "")
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := s.n.Auth.RevokeToken(r.Context(), u.ID, id); err != nil {
		s.notFound(w, r, u)
		return
	}
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

type usersData struct {
	Users    []*auth.User
	Roles    []auth.Role
	Agencies []string
}

func (s *Server) users(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderUsers(w, r, u, http.StatusOK, "", nil)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string, form map[string]string) {
	if !u.Can(auth.ManageUsers) {
		s.forbidden(w, r, u)
		return
	}
	us, err := s.n.Auth.List(r.Context())
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, usersData{Users: us, Roles: auth.Roles, Agencies: auth.Agencies[s.n.Config.Party]})
	v.Error, v.Form, v.Flash = errText, form, r.URL.Query().Get("flash")
	s.render(w, r, status, "users", v)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.ManageUsers) {
		s.forbidden(w, r, u)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	nu := auth.NewUser{Username: strings.TrimSpace(r.PostFormValue("username")), DisplayName: r.PostFormValue("display_name"),
		Role: auth.Role(r.PostFormValue("role")), Agency: r.PostFormValue("agency"), Password: r.PostFormValue("password")}
	_, err := s.n.Auth.Create(r.Context(), nu)
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		v := s.newView(r, u, nil)
		s.renderUsers(w, r, u, http.StatusUnprocessableEntity, s.fieldError(v, fe.Field, fe.Code),
			map[string]string{"username": nu.Username, "display_name": nu.DisplayName, "role": string(nu.Role), "agency": nu.Agency})
		return
	}
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	s.log.Info("user created", "by", u.Username, "user", nu.Username, "role", nu.Role, "agency", nu.Agency)
	http.Redirect(w, r, "/admin/users?flash=created", http.StatusSeeOther)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.ManageUsers) {
		s.forbidden(w, r, u)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	role := auth.Role(r.PostFormValue("role"))
	agency := r.PostFormValue("agency")
	disabled := r.PostFormValue("disabled") == "on"
	up := auth.Update{Role: &role, Agency: &agency, Disabled: &disabled}
	if pw := r.PostFormValue("password"); pw != "" {
		up.Password = &pw
	}
	if id == u.ID && (disabled || role != auth.Admin) {
		v := s.newView(r, u, nil)
		s.renderUsers(w, r, u, http.StatusUnprocessableEntity, v.T("error.self_lockout"), nil)
		return
	}
	_, err := s.n.Auth.Update(r.Context(), id, up)
	var fe *fault.FieldError
	switch {
	case errors.As(err, &fe):
		v := s.newView(r, u, nil)
		s.renderUsers(w, r, u, http.StatusUnprocessableEntity, s.fieldError(v, fe.Field, fe.Code), nil)
	case err != nil:
		s.notFound(w, r, u)
	default:
		s.log.Info("user changed", "by", u.Username, "user_id", id, "role", role, "agency", agency, "disabled", disabled, "password_reset", up.Password != nil)
		http.Redirect(w, r, "/admin/users?flash=updated", http.StatusSeeOther)
	}
}

type agreementData struct {
	Hash     string
	Body     any
	SignedBy []string
	Raw      string
}

func (s *Server) agreementPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.ViewAgreement) {
		s.forbidden(w, r, u)
		return
	}
	a := s.n.Agreement
	var signed []string
	for _, sig := range a.Signatures {
		if a.SignedBy(sig.Party) {
			signed = append(signed, sig.Party)
		}
	}
	raw, _ := a.Marshal()
	s.render(w, r, http.StatusOK, "agreement", s.newView(r, u, agreementData{Hash: a.HashHex(), Body: a.Body(), SignedBy: signed, Raw: string(raw)}))
}

func (s *Server) quarantinePage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.ReviewQuarantine) {
		s.forbidden(w, r, u)
		return
	}
	q, err := s.n.Link.Quarantine(r.Context(), 500)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	s.render(w, r, http.StatusOK, "quarantine", s.newView(r, u, struct{ Items []link.Quarantined }{q}))
}

type auditData struct {
	Status  *trust.Status
	Entries []api.LogEntry
	Kinds   []string
	Alarms  []trustlog.Alarm
	Reports []trust.Report
	Older   string // query string of the next page, or ""
}

// auditKinds are the entry kinds the log browser offers as filters.
var auditKinds = []string{
	"envelope.", trustlog.KindEnvelopeSent, trustlog.KindEnvelopeReceived, trustlog.KindEnvelopeRejected, trustlog.KindReceipt,
	"data.", trustlog.KindDataRead, trustlog.KindDataExported, trustlog.KindDataPassedOn,
	"user.", "token.", trustlog.KindAgreement, trustlog.KindAlarmAcked,
}

// auditPage shows auditors the transparency log: where our checkpoints
// stand and how far the partner has witnessed them, the partner's newest
// checkpoint we witnessed, alarms, what the partner reported about our
// data, and a log browser with filters.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.AuditLog) {
		s.forbidden(w, r, u)
		return
	}
	ctx := r.Context()
	v := s.newView(r, u, nil)
	v.Title = v.T("audit.title")
	q := r.URL.Query()
	v.Form = map[string]string{"kind": q.Get("kind"), "actor": q.Get("actor"), "object": q.Get("object"), "since": q.Get("since")}
	d := auditData{Kinds: auditKinds}
	f, ferr := api.ParseLogFilter(r)
	status := http.StatusOK
	if ferr != nil {
		v.Error = v.T("audit.bad_filter." + ferr.Field)
		status = http.StatusBadRequest
		f = trustlog.Filter{Limit: 100, Desc: true}
	}
	f.Limit = 50
	var err error
	if d.Status, err = s.n.Trust.Status(ctx); err != nil {
		s.fail(w, r, u, err)
		return
	}
	rows, err := trustlog.Rows(ctx, s.n.DB.Read(), f)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	for _, row := range rows {
		d.Entries = append(d.Entries, api.EntryOf(row))
	}
	if len(rows) == f.Limit && rows[len(rows)-1].Index > 0 {
		next := url.Values{}
		for k, val := range v.Form {
			if val != "" {
				next.Set(k, val)
			}
		}
		next.Set("before", strconv.FormatInt(rows[len(rows)-1].Index, 10))
		d.Older = next.Encode()
	}
	if d.Alarms, err = trustlog.Alarms(ctx, s.n.DB.Read(), false, 100); err != nil {
		s.fail(w, r, u, err)
		return
	}
	if d.Reports, err = trust.Reports(ctx, s.n.DB.Read(), nil, 100); err != nil {
		s.fail(w, r, u, err)
		return
	}
	v.Data = d
	s.render(w, r, status, "audit", v)
}

func (s *Server) ackAlarm(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.AuditLog) {
		s.forbidden(w, r, u)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = s.n.Trust.Acknowledge(r.Context(), id, "user:"+u.Username+"@"+u.Agency)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, u, err)
		return
	}
	http.Redirect(w, r, "/audit#alarms", http.StatusSeeOther)
}

type screenData struct {
	Candidates []screen.Candidate
	Threshold  float64
}

// screenPage screens a name against this node's lists, in the clear and
// on this node only.
func (s *Server) screenPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.Screen) {
		s.forbidden(w, r, u)
		return
	}
	v := s.newView(r, u, nil)
	v.Title = v.T("screen.title")
	v.Form = map[string]string{"name": r.URL.Query().Get("name"), "dob": r.URL.Query().Get("dob")}
	if v.Form["name"] == "" && v.Form["dob"] == "" {
		s.render(w, r, http.StatusOK, "screen", v)
		return
	}
	q, e := api.ScreenRequest(r)
	if e != nil {
		v.Error = v.T("screen.error." + e.Field + "." + e.Reason)
		s.render(w, r, http.StatusUnprocessableEntity, "screen", v)
		return
	}
	sc, err := s.n.Lists.Screener()
	if errors.Is(err, screen.ErrNoLists) {
		v.Error = v.T("screen.error.no_lists")
		s.render(w, r, http.StatusConflict, "screen", v)
		return
	}
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v.Data = screenData{Candidates: sc.Screen(q), Threshold: names.DefaultThreshold}
	s.render(w, r, http.StatusOK, "screen", v)
}

type matchData struct {
	Result *match.Result
	Usage  *match.Usage
	// Request is the link to the prefilled request on a hit: built here
	// from url.Values, so the template must not escape it again.
	Request template.URL
	// RFI is set when the user may send a request for information: the
	// hit's step 2 is then a prefilled RFI rather than a liaison message.
	RFI bool
}

var matchFields = []string{"name", "dob", "curp", "rfc", "passport", "passport_country", "phone", "clabe", "iban", "ssn", "ein"}

// matchPage runs a blind hit/no-hit lookup in the partner's index.
func (s *Server) matchPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.Screen) {
		s.forbidden(w, r, u)
		return
	}
	ctx := r.Context()
	v := s.newView(r, u, nil)
	v.Title = v.T("match.title")
	usage, err := s.n.Match.TodayUsage(ctx)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	d := matchData{Usage: usage}
	v.Form = map[string]string{}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		for _, f := range matchFields {
			v.Form[f] = strings.TrimSpace(r.PostFormValue(f))
		}
		sub := match.Subject{Name: v.Form["name"], DOB: v.Form["dob"], CURP: v.Form["curp"], RFC: v.Form["rfc"], Passport: v.Form["passport"],
			PassportCountry: v.Form["passport_country"], Phone: v.Form["phone"], PhoneCountry: s.n.Config.Party, CLABE: v.Form["clabe"],
			IBAN: v.Form["iban"], SSN: v.Form["ssn"], EIN: v.Form["ein"]}
		res, err := s.n.Match.Lookup(ctx, "user:"+u.Username+"@"+u.Agency, sub)
		if e, ok := fault.Describe(err); ok {
			if e.Field != "" {
				v.Error = v.T("match.error.field", "Field", v.T("match.field."+e.Field), "Reason", v.T("ident."+e.Reason))
			} else {
				v.Error = v.T("match.error." + e.Reason)
			}
			status = http.StatusUnprocessableEntity
		} else if err != nil {
			s.fail(w, r, u, err)
			return
		} else {
			d.Result = res
			if res.Hit {
				q := url.Values{}
				q.Set("subject", v.T("match.request_subject"))
				q.Set("body", v.T("match.request_body", "Types", strings.Join(res.Hits, ", "), "Index", res.LogIndex))
				d.RFI = u.Can(auth.FinIntelWrite) && u.Agency == auth.FIU[s.n.Config.Party]
				if d.RFI {
					// The RFI form reads title and questions; the subject's
					// fields go along so the partner knows whom we mean.
					q.Set("title", q.Get("subject"))
					q.Set("questions", q.Get("body"))
					for _, f := range []string{"curp", "rfc", "passport", "passport_country", "ssn", "ein", "dob"} {
						if v.Form[f] != "" {
							q.Set(f, v.Form[f])
						}
					}
					// "Given First Second": the analyst can correct it.
					if w := strings.Fields(v.Form["name"]); len(w) >= 2 {
						q.Set("given_names", w[0])
						q.Set("first_surname", w[1])
						q.Set("second_surname", strings.Join(w[2:], " "))
					}
				}
				if d.RFI {
					d.Request = template.URL("/finintel/rfis?" + q.Encode() + "#rfi-form")
				} else {
					d.Request = template.URL("/threads/new?" + q.Encode())
				}
			}
			if d.Usage, err = s.n.Match.TodayUsage(ctx); err != nil {
				s.fail(w, r, u, err)
				return
			}
		}
	}
	v.Data = d
	s.render(w, r, status, "match", v)
}

type crossmatchData struct {
	Jobs  []match.Job
	Shown int64
	Hits  []match.JobHit
}

// crossmatchPage lists cross-matches with their progress, starts them
// (the whole index, or a CSV list) and cancels them.
func (s *Server) crossmatchPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.Screen) {
		s.forbidden(w, r, u)
		return
	}
	ctx := r.Context()
	v := s.newView(r, u, nil)
	v.Title = v.T("xm.title")
	status := http.StatusOK
	if r.Method == http.MethodPost {
		actor := "user:" + u.Username + "@" + u.Agency
		var err error
		if r.FormValue("source") == "index" {
			_, err = s.n.Match.StartJob(ctx, actor, nil)
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, 32<<20)
			f, _, ferr := r.FormFile("file")
			if ferr != nil {
				v.Error = v.T("xm.error.file")
				s.renderCrossmatch(w, r, u, v, http.StatusBadRequest, 0)
				return
			}
			subs, rerr := match.ReadCSV(f)
			f.Close()
			if rerr != nil {
				v.Error = v.T("xm.error.csv", "Detail", rerr.Error())
				s.renderCrossmatch(w, r, u, v, http.StatusUnprocessableEntity, 0)
				return
			}
			_, err = s.n.Match.StartJob(ctx, actor, subs)
		}
		if e, ok := fault.Describe(err); ok {
			v.Error = v.T("match.error." + e.Reason)
			if e.Field != "" {
				v.Error = v.T("match.error.field", "Field", e.Field, "Reason", v.T("ident."+e.Reason))
			}
			status = http.StatusUnprocessableEntity
		} else if err != nil {
			s.fail(w, r, u, err)
			return
		} else {
			http.Redirect(w, r, "/crossmatch", http.StatusSeeOther)
			return
		}
	}
	shown, _ := strconv.ParseInt(r.URL.Query().Get("show"), 10, 64)
	s.renderCrossmatch(w, r, u, v, status, shown)
}

func (s *Server) renderCrossmatch(w http.ResponseWriter, r *http.Request, u *auth.User, v *view, status int, shown int64) {
	jobs, err := s.n.Match.Jobs(r.Context(), 50)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	d := crossmatchData{Jobs: jobs, Shown: shown}
	if shown > 0 {
		if d.Hits, err = s.n.Match.JobHits(r.Context(), shown); err != nil {
			s.fail(w, r, u, err)
			return
		}
	}
	v.Data = d
	s.render(w, r, status, "crossmatch", v)
}

func (s *Server) cancelCrossmatch(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.Screen) {
		s.forbidden(w, r, u)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := s.n.Match.CancelJob(r.Context(), id, "user:"+u.Username+"@"+u.Agency); err != nil && !errors.Is(err, match.ErrNoJob) {
		s.fail(w, r, u, err)
		return
	}
	http.Redirect(w, r, "/crossmatch", http.StatusSeeOther)
}
