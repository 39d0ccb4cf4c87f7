package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/input"
)

// Face is what a work area shows users: its pages and its menu entries.
// Each area's file in this package registers one with Register.
type Face struct {
	Pages []Page
	Nav   []NavItem
	// ErrorKey and FieldKey are the prefixes under which the pages
	// translate the code and the field of the area's field errors and
	// reasons ("fi.error.", "fi.field."). The translation test reads the
	// codes and fields from the area package's source and requires a text
	// for each.
	ErrorKey, FieldKey string
	// Keys are the translation keys the pages build at run time from the
	// area's enumerations (statuses, kinds…), for the translation test.
	Keys []string
	// LogKinds are the kinds of log entry the area writes: the audit page
	// says each as the sentence log.say.<kind>, from the area's own texts.
	LogKinds []string
}

// keysOf builds "prefix<v>" for each v: run-time keys from an enumeration.
func keysOf[S ~string](prefix string, vs ...S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = prefix + string(v)
	}
	return out
}

// Page is one route of an area: a method pattern ("GET /finintel/d/{id}"),
// the permission a user needs before anything of the request is read
// ("" when the area's service decides alone, by role and agency), and a
// handler for a signed-in user.
type Page struct {
	Pattern    string
	Permission auth.Permission
	// MaxBody bounds the request body (DefaultMaxBody when 0); a larger
	// one gets 413 before anything reads it.
	MaxBody int64
	Handle  func(w http.ResponseWriter, r *http.Request, u *auth.User)
}

// DefaultMaxBody bounds a page request that declares no MaxBody: any form
// of text, such as a draft's narrative.
const DefaultMaxBody = 1 << 20

// guard refuses users without p before h runs.
func (s *Server) guard(p auth.Permission, h func(w http.ResponseWriter, r *http.Request, u *auth.User)) func(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if p == "" {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, u *auth.User) {
		if !u.Can(p) {
			s.forbidden(w, r, u)
			return
		}
		h(w, r, u)
	}
}

// NavItem is a menu entry, shown to users with Permission. Label is a
// translation key; ID, if set, is the link's element id.
type NavItem struct {
	Path, ID, Label string
	Permission      auth.Permission
	// Show, when set, narrows the entry further: the permission is not
	// all the page asks (cases are for the extradition agencies).
	Show func(*auth.User) bool
}

var (
	facesMu sync.Mutex
	faces   = map[string]func(*Server) Face{}
)

// Register makes face the web face of the area named name. Only areas the
// node runs (node.Areas) are mounted. Registering a name twice panics.
func Register(name string, face func(*Server) Face) {
	facesMu.Lock()
	defer facesMu.Unlock()
	if _, dup := faces[name]; dup {
		panic("web: area " + name + " registered twice")
	}
	faces[name] = face
}

// areaFaces returns the faces of the node's areas, in node.Areas order.
func (s *Server) areaFaces() []Face {
	facesMu.Lock()
	defer facesMu.Unlock()
	var out []Face
	for _, a := range s.n.Areas() {
		if f, ok := faces[a.Name()]; ok {
			out = append(out, f(s))
		}
	}
	return out
}

// nav is the menu of the node's areas that u may use.
func (s *Server) nav(u *auth.User) []NavItem {
	var out []NavItem
	for _, it := range s.navItems {
		if u != nil && u.Can(it.Permission) && (it.Show == nil || it.Show(u)) {
			out = append(out, it)
		}
	}
	return out
}

// reciprocityData is every area's figures that the user may see.
type reciprocityData struct {
	Tables []*area.Table
}

// reciprocity shows the figures of every area with figures (area.Figures)
// that u may see, side by side for both parties.
func (s *Server) reciprocity(w http.ResponseWriter, r *http.Request, u *auth.User) {
	d, err := s.reciprocityTables(r.Context(), u)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, d)
	v.Title = v.T("recip.title")
	s.render(w, r, http.StatusOK, "reciprocity", v)
}

// reciprocityEvidence downloads the scorecard with the log entries behind
// each figure (auditors).
func (s *Server) reciprocityEvidence(w http.ResponseWriter, r *http.Request, u *auth.User) {
	ev, err := area.ExportEvidence(r.Context(), s.n, u, s.n.Config.Party, s.n.DB, s.n.TrustLog)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	raw, err := json.MarshalIndent(ev, "", " ")
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	input.ServeDownload(w, "scorecard-"+strings.ToLower(s.n.Config.Party)+"-"+ev.ExportedAt.Format("2006-01-02")+".json", "", raw)
}

func (s *Server) reciprocityTables(ctx context.Context, u *auth.User) (reciprocityData, error) {
	tables, err := area.Reciprocity(ctx, s.n, u)
	return reciprocityData{Tables: tables}, err
}

// flashOf is the message ?flash=PREFIX+KEY asks for, in the page's
// language, when KEY is one of the area's keys; anything else in the
// query (it is the user's to forge) shows nothing.
func flashOf(v *view, r *http.Request, prefix string, keys []string) string {
	k, ok := strings.CutPrefix(r.URL.Query().Get("flash"), prefix)
	if !ok || !slices.Contains(keys, k) {
		return ""
	}
	return v.T(prefix + k)
}

// describeError is an area's refusal that names no field, in the page's
// language: its reason under the area's prefix ("tr.error."), forbidden
// and not found as on every page, else fallback under the prefix; "" for
// an error that is not the user's to fix.
func describeError(v *view, err error, prefix, fallback string) string {
	e, ok := fault.Describe(err)
	if !ok {
		return ""
	}
	switch {
	case e.Reason != "":
		return v.T(prefix + e.Reason)
	case e.Code == "forbidden":
		return v.T("error.forbidden")
	case e.Code == "not_found":
		return v.T("error.not_found")
	}
	return v.T(prefix + fallback)
}
