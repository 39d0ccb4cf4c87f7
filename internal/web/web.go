// Package web serves a node's users: server-rendered pages in Spanish and
// English, live updates over server-sent events, the JSON API under
// /api/v1, and the operator endpoints /healthz, /readyz and /metrics. It
// calls the domain services and never touches SQL.
package web

import (
	"path"
	"slices"

	"bytes"

	"puente/internal/caveats"
	"puente/internal/fault"

	"puente/internal/trustlog"

	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"puente/internal/api"
	"puente/internal/auth"
	"puente/internal/node"
)

//go:embed templates static i18n
var assets embed.FS

// Translations are the pages' texts, i18n/<lang>.json and each area's
// i18n/<area>.<lang>.json, as the binary holds them.
func Translations() fs.FS { return assets }

// Server is the user-facing HTTP handler of one node.
type Server struct {
	n     *node.Node
	log   *slog.Logger
	pages map[string]*template.Template
	tr    *Translator
	cop   *http.CrossOriginProtection
	// proxies are the trusted TLS proxies in front of the node.
	proxies proxies
	mux     *http.ServeMux
	// navItems are the menu entries of the node's areas, in order.
	navItems []NavItem
	// logKinds are the log kinds the audit page says as sentences: the
	// node's own and each area's (Face.LogKinds).
	logKinds []string
	// limits are the body limits of the routes that allow more than
	// DefaultMaxBody, by mux pattern.
	limits map[string]int64
}

// New returns the handler for node n.
func New(n *node.Node) (*Server, error) {
	tr, err := NewTranslator()
	if err != nil {
		return nil, err
	}
	s := &Server{n: n, log: n.Log.With("component", "web"), tr: tr, cop: http.NewCrossOriginProtection(), mux: http.NewServeMux(), limits: map[string]int64{}}
	if s.proxies, err = parseProxies(n.Config.TrustedProxies); err != nil {
		return nil, err
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := s.mux
	static, _ := fs.Sub(assets, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.HandleFunc("GET /readyz/leader", s.readyzLeader)
	m.Handle("GET /metrics", s.metricsGuard(promhttp.HandlerFor(s.n.Registry, promhttp.HandlerOpts{})))
	m.Handle("/api/v1/", api.New(s.n))

	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.logout)
	m.HandleFunc("POST /lang", s.setLanguage)

	m.HandleFunc("GET /{$}", s.user(s.home))
	// Anything else: the styled, translated 404 page with a way home.
	m.HandleFunc("/", s.unknownPage)
	m.HandleFunc("GET /events", s.user(s.events))
	m.HandleFunc("GET /reciprocity", s.user(s.reciprocity))
	m.HandleFunc("GET /reciprocity/evidence.json", s.user(s.reciprocityEvidence))
	m.HandleFunc("GET /settings", s.user(s.settings))
	m.HandleFunc("POST /settings/tokens", s.user(s.createToken))
	m.HandleFunc("POST /settings/tokens/{id}/revoke", s.user(s.revokeToken))
	m.HandleFunc("GET /admin/users", s.user(s.users))
	m.HandleFunc("POST /admin/users", s.user(s.createUser))
	m.HandleFunc("POST /admin/users/{id}", s.user(s.updateUser))
	m.HandleFunc("POST /admin/users/{id}/unlock", s.user(s.unlockUser))
	m.HandleFunc("GET /admin/agreement", s.user(s.agreementPage))
	m.HandleFunc("GET /admin/quarantine", s.user(s.quarantinePage))
	m.HandleFunc("GET /audit", s.user(s.auditPage))
	m.HandleFunc("POST /audit/alarms/{id}/ack", s.user(s.ackAlarm))
	// The work areas' pages and menu entries (web/<area>.go).
	for _, f := range s.areaFaces() {
		for _, p := range f.Pages {
			m.HandleFunc(p.Pattern, s.user(s.guard(p.Permission, p.Handle)))
			if p.MaxBody > 0 {
				s.limits[p.Pattern] = p.MaxBody
			}
		}
		s.navItems = append(s.navItems, f.Nav...)
		s.logKinds = append(s.logKinds, f.LogKinds...)
	}
}

// ServeHTTP applies the security headers and cross-origin protection to
// every request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if _, tls := s.client(r); tls {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if err := s.cop.Check(r); err != nil {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	// Every body is bounded before anything reads it: by its route's
	// limit, else DefaultMaxBody (the API bounds its own, per route).
	if _, pattern := s.mux.Handler(r); pattern != "/api/v1/" {
		max, ok := s.limits[pattern]
		if !ok {
			max = DefaultMaxBody
		}
		if r.ContentLength > max {
			s.tooLarge(w, r, nil)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
	}
	// The live events seen so far, taken before the page reads anything:
	// its event stream then starts from here (?since=).
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), liveSeqKey, s.n.Hub.Seq())))
}

// sessionCookie names a party's session cookie: the two demo nodes share
// one host.
func sessionCookie(party string) string {
	return "puente_" + strings.ToLower(party) + "_session"
}

const langCookie = "puente_lang"

type ctxKey int

const (
	userKey ctxKey = iota
	liveSeqKey
)

// user wraps a page that needs a signed-in user.
func (s *Server) user(h func(w http.ResponseWriter, r *http.Request, u *auth.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(s.cookieName(sessionCookie(s.n.Config.Party)))
		if err != nil {
			s.toLogin(w, r)
			return
		}
		u, err := s.n.Auth.Session(r.Context(), c.Value)
		if errors.Is(err, auth.ErrNoSession) {
			s.toLogin(w, r)
			return
		}
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		ctx := trustlog.WithActor(context.WithValue(r.Context(), userKey, u), "user:"+u.Username+"@"+u.Agency)
		ctx = context.WithValue(ctx, formStateKey{}, &formState{})
		h(w, r.WithContext(ctx), u)
	}
}

// unknownPage is the 404 page for a path no route serves, in the
// signed-in user's language and layout when there is one.
func (s *Server) unknownPage(w http.ResponseWriter, r *http.Request) {
	var u *auth.User
	if c, err := r.Cookie(s.cookieName(sessionCookie(s.n.Config.Party))); err == nil {
		u, _ = s.n.Auth.Session(r.Context(), c.Value)
	}
	s.notFound(w, r, u)
}

func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path != "/events" {
		http.Redirect(w, r, "/login?next="+template.URLQueryEscaper(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	http.Error(w, "sign in first", http.StatusUnauthorized)
}

// formState is what one request's views share about its form: the field
// a refusal names, marked by whichever view described the error, read by
// the view that renders the page.
type formState struct{ field string }

type formStateKey struct{}

// markField records the field a refusal names (fault.FieldError's).
func (v *view) markField(field string) {
	if v.form != nil {
		v.form.field = field
	}
}

// ErrorField is the field the page's error names, for the page to mark
// it and move the focus there; "" without one.
func (v *view) ErrorField() string {
	if v.form == nil || v.Error == "" {
		return ""
	}
	return v.form.field
}

// view is what every template gets.
type view struct {
	Lang    string
	t       func(id string, args ...any) string
	User    *auth.User
	Party   string
	Partner string
	Title   string
	Banner  string
	Alarms  int // open transparency-log alarms, for the banner
	Data    any
	Flash   string
	Error   string
	Form    map[string]string
	Path    string
	// Nav is the menu of the node's areas this user may use.
	Nav []NavItem
	// LiveSeq is the last live event published before the request began.
	LiveSeq uint64
	form    *formState
	// LinkUp and LinkPending are the link's state for the header's
	// indicator (the full state is on the home page of administrators).
	LinkUp      bool
	LinkPending int
}

// T translates id into the view's language.
func (v *view) T(id string, args ...any) string { return v.t(id, args...) }

// TOr is the text of id, or of fallback when id has none: a value that
// comes from data another party may extend (an agreement's own term).
func (v *view) TOr(id, fallback string) string {
	if t := v.t(id); t != id {
		return t
	}
	return v.t(fallback)
}

func (s *Server) newView(r *http.Request, u *auth.User, data any) *view {
	lang := s.lang(r, u)
	v := &view{Lang: lang, t: s.tr.Func(lang), User: u, Party: s.n.Config.Party, Partner: s.n.Link.Partner(), Data: data, Path: r.URL.Path, Nav: s.nav(u)}
	v.LiveSeq, _ = r.Context().Value(liveSeqKey).(uint64)
	v.form, _ = r.Context().Value(formStateKey{}).(*formState)
	if u != nil {
		if st, err := s.n.Link.Status(r.Context()); err == nil {
			v.LinkUp = st.Connected && st.AgreementMismatch == ""
			v.LinkPending = st.Pending
			if st.AgreementMismatch != "" {
				v.Banner = v.T("link.mismatch")
			}
		}
		if n, err := s.n.Trust.OpenAlarms(r.Context()); err == nil {
			v.Alarms = n
		}
	}
	return v
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	t, ok := s.pages[page]
	if !ok {
		s.fail(w, r, v.User, fmt.Errorf("no template %q", page))
		return
	}
	// Render into a buffer first: a template error is a 500 page, never
	// half a page sent with 200.
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("rendering page", "page", page, "err", err)
		if page != "error" {
			s.fail(w, r, v.User, fmt.Errorf("rendering %s: %w", page, err))
		} else {
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := buf.WriteTo(w); err != nil {
		s.log.Debug("writing page", "page", page, "err", err)
	}
}

// fail logs an unexpected error and shows a generic page: internal error
// text never reaches the user.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, u *auth.User, err error) {
	// A refusal the domain names is not a failure: the 403 or 404 page.
	switch {
	case errors.Is(err, fault.ErrForbidden):
		s.forbidden(w, r, u)
		return
	case errors.Is(err, fault.ErrNotFound):
		s.notFound(w, r, u)
		return
	}
	s.log.Error("request failed", "path", r.URL.Path, "err", err)
	v := s.newView(r, u, nil)
	v.Error = v.T("error.internal")
	s.render(w, r, http.StatusInternalServerError, "error", v)
}

// missing ends a request whose record could not be read: not found (or
// not the user's to see) is the 404 page, anything else a failure.
func (s *Server) missing(w http.ResponseWriter, r *http.Request, u *auth.User, err error) {
	if errors.Is(err, fault.ErrNotFound) {
		s.notFound(w, r, u)
		return
	}
	s.fail(w, r, u, err)
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	v.Error = v.T("error.forbidden")
	s.render(w, r, http.StatusForbidden, "error", v)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	v.Error = v.T("error.not_found")
	s.render(w, r, http.StatusNotFound, "error", v)
}

var funcs = template.FuncMap{
	"fmtTime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		// The node's own zone, named: the two sides sit in up to three
		// zones with different daylight-saving rules.
		return t.Local().Format("2006-01-02 15:04:05 MST")
	},
	"since": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return time.Since(t).Round(time.Second).String()
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	// when is a moment for people on either side of the border: the
	// node's zone, named, until the page shows it in the viewer's own
	// (app.js), with UTC on hover.
	"when": func(t time.Time) template.HTML {
		if t.IsZero() {
			return ""
		}
		utc := t.UTC().Format(time.RFC3339)
		return template.HTML(`<time datetime="` + utc + `" title="` + t.UTC().Format("2006-01-02 15:04 UTC") + `">` +
			template.HTMLEscapeString(t.Local().Format("2006-01-02 15:04 MST")) + `</time>`)
	},
	"day":   func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"lower": strings.ToLower,
	"kib": func(n int64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
	"has":    slices.Contains[[]string],
	"can":    func(u *auth.User, p string) bool { return u.Can(auth.Permission(p)) },
	"list":   func(xs ...string) []string { return xs },
	"float":  func(n int) float64 { return float64(n) },
	"cents":  func(n int64) float64 { return float64(n) / 100 },
	"fmtNum": fmtNum,
	"pct":    func(f float64) float64 { return f * 100 },
	"spark":  sparkline,
	"neg":    func(n int) int { return -n },
	// caveatsView is what the "caveats" form block needs.
	"caveatsView": func(v *view, c caveats.Caveats, classes, agencies []string) map[string]any {
		return map[string]any{"V": v, "C": c, "Classifications": classes, "Agencies": agencies}
	},
	"len64": func(b []byte) int64 { return int64(len(b)) },
	// viewWith is v with other data, for a shared block that reads
	// $.Data (an area's form rows inside a page about something else).
	"viewWith": func(v *view, data any) *view {
		c := *v
		c.Data = data
		return &c
	},
}

func (s *Server) parseTemplates() error {
	s.pages = map[string]*template.Template{}
	base, err := template.New("").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("parsing layout: %w", err)
	}
	// The node's pages in templates/, each area's in templates/<area>/;
	// a page is named by its file name alone, which must be unique.
	files, err := templateFiles()
	if err != nil {
		return err
	}
	// A folder's blocks.html holds blocks that every page of the folder
	// shares (an area's form rows, say); it is no page itself.
	partials := map[string][]string{}
	for _, f := range files {
		if path.Base(f) == "blocks.html" {
			partials[path.Dir(f)] = append(partials[path.Dir(f)], f)
		}
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "blocks" {
			continue
		}
		if _, dup := s.pages[name]; dup {
			return fmt.Errorf("two templates are named %s", name)
		}
		t, err := template.Must(base.Clone()).ParseFS(assets, append([]string{f}, partials[path.Dir(f)]...)...)
		if err != nil {
			return fmt.Errorf("parsing %s: %w", f, err)
		}
		s.pages[name] = t
	}
	return nil
}

// templateFiles lists templates/*.html and templates/*/*.html.
func templateFiles() ([]string, error) {
	top, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	areas, err := fs.Glob(assets, "templates/*/*.html")
	if err != nil {
		return nil, err
	}
	return append(top, areas...), nil
}
