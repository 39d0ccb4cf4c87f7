package web

import (
	"maps"
	"puente/internal/agreement"
	"puente/internal/area"
	"puente/internal/fault"
	"slices"

	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"puente/internal/api"
	"puente/internal/auth"
	"puente/internal/caveats"
	"puente/internal/link"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, nil, nil)
	v.Form = map[string]string{"next": safeNext(r.URL.Query().Get("next"))}
	s.render(w, r, http.StatusOK, "login", v)
}

// safeNext keeps post-login redirects on this site: a path only, with no
// scheme, no host, no backslash and no control character, even once more
// percent-decoded (browsers drop tabs and newlines, and some read "\" as
// "/", so "/\t/evil.example" would leave the site).
func safeNext(n string) string {
	local := func(p string) bool {
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
			return false
		}
		for _, c := range p {
			if c < 0x20 || c == 0x7f || c == '\\' {
				return false
			}
		}
		return true
	}
	if !local(n) {
		return "/"
	}
	if dec, err := url.PathUnescape(n); err != nil || !local(dec) {
		return "/"
	}
	u, err := url.Parse(n)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !local(u.Path) {
		return "/"
	}
	return n
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	username := strings.TrimSpace(r.PostFormValue("username"))
	u, err := s.n.Auth.Authenticate(r.Context(), username, r.PostFormValue("password"), s.clientIP(r))
	if err != nil {
		v := s.newView(r, nil, nil)
		v.Form = map[string]string{"username": username, "next": safeNext(r.PostFormValue("next"))}
		status := http.StatusUnauthorized
		switch {
		case errors.Is(err, auth.ErrLocked):
			v.Error, status = v.T("login.locked"), http.StatusTooManyRequests
		case errors.Is(err, auth.ErrBadCredentials):
			v.Error = v.T("login.failed")
			var se *auth.SignInError
			if errors.As(err, &se) {
				if se.Remaining == 0 {
					v.Error = v.T("login.account_locked")
				} else {
					v.Error += " " + v.T("login.attempts_left", "Count", se.Remaining)
				}
			}
		default:
			s.fail(w, r, nil, err)
			return
		}
		s.log.Info("sign-in refused", "username", username, "ip", s.clientIP(r), "reason", err.Error())
		s.render(w, r, status, "login", v)
		return
	}
	secret, err := s.n.Auth.NewSession(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	s.setCookie(w, sessionCookie(s.n.Config.Party), secret, int(auth.SessionTTL.Seconds()), http.SameSiteStrictMode)
	s.log.Info("signed in", "user", u.Username)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.cookieName(sessionCookie(s.n.Config.Party))); err == nil {
		_ = s.n.Auth.EndSession(r.Context(), c.Value)
	}
	s.setCookie(w, sessionCookie(s.n.Config.Party), "", -1, http.SameSiteStrictMode)
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
	s.setCookie(w, langCookie, lang, 365*24*3600, http.SameSiteLaxMode)
	if c, err := r.Cookie(s.cookieName(sessionCookie(s.n.Config.Party))); err == nil {
		if u, err := s.n.Auth.Session(r.Context(), c.Value); err == nil {
			if _, err := s.n.Auth.Update(trustlog.WithActor(r.Context(), "user:"+u.Username+"@"+u.Agency), u.ID, auth.Update{Lang: &lang}); err != nil {
				s.fail(w, r, u, err)
				return
			}
		}
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// homeData is the home page: the user's work list, one region per area
// (refreshed by that area's live events), then the link's state.
type homeData struct {
	link.Status
	Work   []workRegion
	Alarms int
	Empty  bool
}

type workRegion struct {
	Live  string
	Items []area.WorkItem
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, u *auth.User) {
	ctx := r.Context()
	st, err := s.n.Link.Status(ctx)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	d := homeData{Status: st, Empty: true}
	for _, a := range s.n.Areas() {
		wk, ok := a.(area.Work)
		if !ok {
			continue
		}
		live, items, err := wk.Work(ctx, u)
		if err != nil {
			s.fail(w, r, u, err)
			return
		}
		// Deadlines first, the nearest first; the rest as the area lists them.
		slices.SortStableFunc(items, func(a, b area.WorkItem) int {
			switch {
			case a.Due.IsZero() && b.Due.IsZero():
				return 0
			case a.Due.IsZero():
				return 1
			case b.Due.IsZero():
				return -1
			}
			return a.Due.Compare(b.Due)
		})
		d.Work = append(d.Work, workRegion{Live: live, Items: items})
		if len(items) > 0 {
			d.Empty = false
		}
	}
	if u.Can(auth.AuditLog) {
		if n, err := s.n.Trust.OpenAlarms(ctx); err == nil && n > 0 {
			d.Alarms, d.Empty = n, false
		}
	}
	s.render(w, r, http.StatusOK, "home", s.newView(r, u, d))
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
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("expires_in_days")))
	if err != nil {
		days = -1 // refused below as invalid_days
	}
	_, secret, err := s.n.Auth.NewTokenFor(r.Context(), u.ID, r.PostFormValue("name"), days)
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
	v.Error, v.Form = errText, form
	if f := r.URL.Query().Get("flash"); slices.Contains([]string{"created", "updated", "unlocked"}, f) {
		v.Flash = f
	}
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

// unlockUser lifts an account's sign-in lock (administrators; logged).
func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.ManageUsers) {
		s.forbidden(w, r, u)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if _, err := s.n.Auth.Unlock(trustlog.WithActor(r.Context(), "user:"+u.Username+"@"+u.Agency), id); err != nil {
		s.missing(w, r, u, err)
		return
	}
	s.log.Info("user unlocked", "by", u.Username, "user_id", id)
	http.Redirect(w, r, "/admin/users?flash=unlocked", http.StatusSeeOther)
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
	Entries []logLine
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
	var entries []api.LogEntry
	for _, row := range rows {
		entries = append(entries, api.EntryOf(row))
	}
	users, err := s.n.Auth.List(ctx)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	d.Entries = logLines(v, entries, userNames(users), slices.Concat(coreLogKinds, s.logKinds))
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

// fieldError translates a field error of the node's own forms (users,
// settings) and of liaison: "field.<field>: error.<code>".
func (s *Server) fieldError(v *view, field, code string) string {
	v.markField(field)
	return v.T("field."+field) + ": " + v.T("error."+code)
}

// coreKeys are the translation keys the node's own pages build at run
// time, for the translation test (areas list theirs in Face.Keys).
func coreKeys() []string {
	return slices.Concat(
		keysOf("role.", auth.Roles...),
		keysOf("area.", agreement.Areas...),
		keysOf("party.", "MX", "US"),
		keysOf("class.", caveats.Classifications...),
		keysOf("log.say.", coreLogKinds...),
		keysOf("log.object.", slices.Collect(maps.Keys(objectPages))...),
		keysOf("access.", "data.read", "data.exported", "data.passed_on", "data.refused", "data.evidential"),
	)
}
