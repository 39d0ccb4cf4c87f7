// Package api is the JSON API under /api/v1 for scripts: the same liaison,
// account and administration actions as the web pages, authenticated with
// per-user API tokens (Authorization: Bearer pnt_…). Errors are JSON with a
// stable code; openapi.json next to this file describes every route.
package api

import (
	"puente/internal/area"
	"puente/internal/trustlog"

	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"puente/internal/auth"
	"puente/internal/liaison"
	"puente/internal/link"
	"puente/internal/node"
)

//go:embed openapi.json
var openapi []byte

// OpenAPI returns the API's OpenAPI document.
func OpenAPI() []byte { return openapi }

// Env is what the API's handlers share: the node and the logger.
type Env struct {
	n   *node.Node
	log *slog.Logger
}

// Node is the node the API serves.
func (a *Env) Node() *node.Node { return a.n }

// core are the routes of the node itself (accounts, administration,
// audit, screening); the work areas' routes come from their own files
// through Register.
func (a *Env) core() []Route {
	return []Route{
		{Pattern: "GET /api/v1/me", Handle: a.me},
		{Pattern: "PUT /api/v1/me/language", Handle: a.setLanguage},
		{Pattern: "GET /api/v1/status", Handle: a.status},
		{Pattern: "GET /api/v1/users", Handle: a.listUsers},
		{Pattern: "POST /api/v1/users", Handle: a.createUser},
		{Pattern: "PATCH /api/v1/users/{id}", Handle: a.updateUser},
		{Pattern: "GET /api/v1/tokens", Handle: a.listTokens},
		{Pattern: "POST /api/v1/tokens", Handle: a.createToken},
		{Pattern: "DELETE /api/v1/tokens/{id}", Handle: a.revokeToken},
		{Pattern: "GET /api/v1/agreement", Handle: a.agreement},
		{Pattern: "GET /api/v1/quarantine", Handle: a.quarantine},
		{Pattern: "GET /api/v1/audit/status", Handle: a.auditStatus},
		{Pattern: "GET /api/v1/audit/log", Handle: a.auditLog},
		{Pattern: "GET /api/v1/audit/alarms", Handle: a.auditAlarms},
		{Pattern: "POST /api/v1/audit/alarms/{id}/ack", Handle: a.ackAlarm},
		{Pattern: "GET /api/v1/audit/access-reports", Handle: a.accessReports},
		{Pattern: "GET /api/v1/screen", Handle: a.screen},
		{Pattern: "POST /api/v1/names/compare", Handle: a.compareNames},
		{Pattern: "GET /api/v1/reciprocity", Handle: a.reciprocity},
		{Pattern: "GET /api/v1/reciprocity/evidence", Handle: a.reciprocityEvidence, Permission: auth.AuditLog},
	}
}

// Routes are every route the API serves for node n, with the public
// OpenAPI document first: the core's, then each area's in node.Areas order.
func Routes(n *node.Node) []Route { return newEnv(n).routes() }

func newEnv(n *node.Node) *Env { return &Env{n: n, log: n.Log.With("component", "api")} }

func (a *Env) routes() []Route {
	routes := append([]Route{{Pattern: PathOpenAPI}}, a.core()...)
	regMu.Lock()
	defer regMu.Unlock()
	for _, ar := range a.n.Areas() {
		if f, ok := registry[ar.Name()]; ok {
			routes = append(routes, f(a)...)
		}
	}
	return routes
}

// New returns the API handler for node n, to mount at /api/v1/.
func New(n *node.Node) http.Handler {
	a := newEnv(n)
	m := http.NewServeMux()
	for _, r := range a.routes() {
		if r.Pattern == PathOpenAPI {
			m.HandleFunc(r.Pattern, a.openapi)
			continue
		}
		m.HandleFunc(r.Pattern, a.auth(a.limit(r)))
	}
	m.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, Error{Code: CodeNotFound, Message: "no such API route: " + r.Method + " " + r.URL.Path})
	})
	return m
}

func (a *Env) auth(h func(http.ResponseWriter, *http.Request, *auth.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hdr := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(hdr, "Bearer ")
		if !ok {
			writeErr(w, Error{Code: CodeUnauthorized, Message: "send an API token as Authorization: Bearer <token>"})
			return
		}
		u, err := a.n.Auth.TokenUser(r.Context(), strings.TrimSpace(tok))
		if errors.Is(err, auth.ErrNoSession) {
			writeErr(w, Error{Code: CodeUnauthorized, Message: "the API token is unknown, revoked, or its user is disabled"})
			return
		}
		if err != nil {
			a.internal(w, r, err)
			return
		}
		h(w, r.WithContext(trustlog.WithActor(r.Context(), "user:"+u.Username+"@"+u.Agency)), u)
	}
}

func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// maxJSON bounds a request: ten attachments at their limit, base64-encoded.
const maxJSON = liaison.MaxAttachments*liaison.MaxAttachment*4/3 + 1<<20

// decode reads the body (already bounded by its route's MaxBody) as v.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeErr(w, Error{Code: CodeTooLarge, Message: fmt.Sprintf("the request is larger than the %d bytes this route takes", mbe.Limit)})
		} else {
			writeErr(w, Error{Code: CodeBadRequest, Message: "the request body is not the expected JSON: " + err.Error()})
		}
		return false
	}
	return true
}

func (a *Env) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapi)
}

func (a *Env) me(w http.ResponseWriter, r *http.Request, u *auth.User) {
	WriteJSON(w, http.StatusOK, u)
}

func (a *Env) setLanguage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Lang string `json:"lang"`
	}
	if !decode(w, r, &in) {
		return
	}
	nu, err := a.n.Auth.Update(r.Context(), u.ID, auth.Update{Lang: &in.Lang})
	a.Reply(w, r, http.StatusOK, nu, err)
}

func (a *Env) status(w http.ResponseWriter, r *http.Request, u *auth.User) {
	st, err := a.n.Link.Status(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if !u.Can(auth.ManageUsers) {
		st.LastError = "" // transport details are for administrators
	}
	WriteJSON(w, http.StatusOK, st)
}

func (a *Env) requireAdmin(w http.ResponseWriter, u *auth.User) bool {
	if !u.Can(auth.ManageUsers) {
		writeErr(w, Error{Code: CodeForbidden, Message: "only administrators manage users"})
		return false
	}
	return true
}

func (a *Env) listUsers(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !a.requireAdmin(w, u) {
		return
	}
	us, err := a.n.Auth.List(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"users": us})
}

func (a *Env) createUser(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !a.requireAdmin(w, u) {
		return
	}
	var in struct {
		Username    string `json:"username"`
		DisplayName string `json:"display_name"`
		Role        string `json:"role"`
		Agency      string `json:"agency"`
		Password    string `json:"password"`
		Lang        string `json:"lang"`
	}
	if !decode(w, r, &in) {
		return
	}
	nu, err := a.n.Auth.Create(r.Context(), auth.NewUser{Username: in.Username, DisplayName: in.DisplayName, Role: auth.Role(in.Role), Agency: in.Agency, Password: in.Password, Lang: in.Lang})
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	a.log.Info("user created", "by", u.Username, "user", nu.Username, "role", nu.Role, "agency", nu.Agency)
	WriteJSON(w, http.StatusCreated, nu)
}

func (a *Env) updateUser(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !a.requireAdmin(w, u) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeErr(w, Error{Code: CodeNotFound, Message: "no such user"})
		return
	}
	var in struct {
		DisplayName *string `json:"display_name"`
		Role        *string `json:"role"`
		Agency      *string `json:"agency"`
		Disabled    *bool   `json:"disabled"`
		Password    *string `json:"password"`
		Lang        *string `json:"lang"`
	}
	if !decode(w, r, &in) {
		return
	}
	up := auth.Update{DisplayName: in.DisplayName, Agency: in.Agency, Disabled: in.Disabled, Password: in.Password, Lang: in.Lang}
	if in.Role != nil {
		role := auth.Role(*in.Role)
		up.Role = &role
	}
	if id == u.ID && ((up.Disabled != nil && *up.Disabled) || (up.Role != nil && *up.Role != auth.Admin)) {
		writeErr(w, Error{Code: CodeInvalid, Reason: "self_lockout", Message: "you cannot disable yourself or remove your own administrator role"})
		return
	}
	nu, err := a.n.Auth.Update(r.Context(), id, up)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	a.log.Info("user changed", "by", u.Username, "user", nu.Username, "role", nu.Role, "agency", nu.Agency, "disabled", nu.Disabled, "password_reset", in.Password != nil)
	WriteJSON(w, http.StatusOK, nu)
}

func (a *Env) listTokens(w http.ResponseWriter, r *http.Request, u *auth.User) {
	ts, err := a.n.Auth.Tokens(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if ts == nil {
		ts = []auth.Token{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

func (a *Env) createToken(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Name string `json:"name"`
		// ExpiresInDays is the token's lifetime (default auth.TokenDays).
		ExpiresInDays int `json:"expires_in_days"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.ExpiresInDays == 0 {
		in.ExpiresInDays = auth.TokenDays
	}
	t, secret, err := a.n.Auth.NewTokenFor(r.Context(), u.ID, in.Name, in.ExpiresInDays)
	a.Reply(w, r, http.StatusCreated, map[string]any{"token": t, "secret": secret}, err)
}

func (a *Env) revokeToken(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := a.n.Auth.RevokeToken(r.Context(), u.ID, id); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *Env) agreement(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.ViewAgreement) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role does not allow this"})
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"hash": a.n.Agreement.HashHex(), "agreement": a.n.Agreement.Body(), "signatures": a.n.Agreement.Signatures})
}

func (a *Env) quarantine(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.ReviewQuarantine) {
		writeErr(w, Error{Code: CodeForbidden, Message: "only administrators and auditors review the quarantine"})
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	q, err := a.n.Link.Quarantine(r.Context(), limit)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if q == nil {
		q = []link.Quarantined{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": q})
}

// reciprocityEvidence is the scorecard with the log entries behind each
// figure, under a checkpoint the node signs at the export (auditors).
func (a *Env) reciprocityEvidence(w http.ResponseWriter, r *http.Request, u *auth.User) {
	ev, err := area.ExportEvidence(r.Context(), a.n, u, a.n.Config.Party, a.n.DB, a.n.TrustLog)
	a.Reply(w, r, http.StatusOK, ev, err)
}

// reciprocity is every area's figures the user may see, side by side: the
// same numbers on both nodes, computed from the facts both hold.
func (a *Env) reciprocity(w http.ResponseWriter, r *http.Request, u *auth.User) {
	tables, err := area.Reciprocity(r.Context(), a.n, u)
	if tables == nil {
		tables = []*area.Table{}
	}
	a.Reply(w, r, http.StatusOK, map[string]any{"tables": tables}, err)
}
