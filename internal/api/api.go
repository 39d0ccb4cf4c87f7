// Package api is the JSON API under /api/v1 for scripts: the same liaison,
// account and administration actions as the web pages, authenticated with
// per-user API tokens (Authorization: Bearer pnt_…). Errors are JSON with a
// stable code; openapi.json next to this file describes every route.
package api

import (
	"puente/internal/trustlog"

	"bytes"
	_ "embed"
	"encoding/base64"
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

type api struct {
	n   *node.Node
	log *slog.Logger
}

// Routes lists every route, for the OpenAPI consistency test.
var Routes = []string{
	"GET /api/v1/openapi.json",
	"GET /api/v1/me",
	"PUT /api/v1/me/language",
	"GET /api/v1/status",
	"GET /api/v1/threads",
	"POST /api/v1/threads",
	"GET /api/v1/threads/{id}",
	"POST /api/v1/threads/{id}/messages",
	"POST /api/v1/threads/{id}/read",
	"GET /api/v1/attachments/{sha256}",
	"GET /api/v1/users",
	"POST /api/v1/users",
	"PATCH /api/v1/users/{id}",
	"GET /api/v1/tokens",
	"POST /api/v1/tokens",
	"DELETE /api/v1/tokens/{id}",
	"GET /api/v1/agreement",
	"GET /api/v1/quarantine",
	"GET /api/v1/audit/status",
	"GET /api/v1/audit/log",
	"GET /api/v1/audit/alarms",
	"POST /api/v1/audit/alarms/{id}/ack",
	"GET /api/v1/audit/access-reports",
	"GET /api/v1/screen",
	"POST /api/v1/names/compare",
	"POST /api/v1/match/lookup",
	"POST /api/v1/subjects",
	"GET /api/v1/match/usage",
	"POST /api/v1/match/jobs",
	"GET /api/v1/match/jobs",
	"GET /api/v1/match/jobs/{id}",
	"DELETE /api/v1/match/jobs/{id}",
}

func init() { Routes = append(Routes, finintelRoutes...) }

// New returns the API handler for node n, to mount at /api/v1/.
func New(n *node.Node) http.Handler {
	a := &api{n: n, log: n.Log.With("component", "api")}
	m := http.NewServeMux()
	handlers := []func(http.ResponseWriter, *http.Request){
		a.openapi, a.auth(a.me), a.auth(a.setLanguage), a.auth(a.status),
		a.auth(a.listThreads), a.auth(a.startThread), a.auth(a.getThread), a.auth(a.reply), a.auth(a.markRead),
		a.auth(a.attachment),
		a.auth(a.listUsers), a.auth(a.createUser), a.auth(a.updateUser),
		a.auth(a.listTokens), a.auth(a.createToken), a.auth(a.revokeToken),
		a.auth(a.agreement), a.auth(a.quarantine),
		a.auth(a.auditStatus), a.auth(a.auditLog), a.auth(a.auditAlarms), a.auth(a.ackAlarm), a.auth(a.accessReports),
		a.auth(a.screen), a.auth(a.compareNames),
		a.auth(a.matchLookup), a.auth(a.importSubjects), a.auth(a.matchUsage),
		a.auth(a.startJob), a.auth(a.listJobs), a.auth(a.getJob), a.auth(a.cancelJob),
	}
	handlers = append(handlers, a.finintelHandlers()...)
	for i, r := range Routes {
		m.HandleFunc(r, handlers[i])
	}
	m.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, Error{Code: CodeNotFound, Message: "no such API route: " + r.Method + " " + r.URL.Path})
	})
	return m
}

type userKey struct{}

func (a *api) auth(h func(http.ResponseWriter, *http.Request, *auth.User)) http.HandlerFunc {
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// maxJSON bounds a request: ten attachments at their limit, base64-encoded.
const maxJSON = liaison.MaxAttachments*liaison.MaxAttachment*4/3 + 1<<20

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeErr(w, Error{Code: CodeTooLarge, Message: fmt.Sprintf("the request is larger than %d bytes", maxJSON)})
		} else {
			writeErr(w, Error{Code: CodeBadRequest, Message: "the request body is not the expected JSON: " + err.Error()})
		}
		return false
	}
	return true
}

func (a *api) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapi)
}

func (a *api) me(w http.ResponseWriter, r *http.Request, u *auth.User) {
	writeJSON(w, http.StatusOK, u)
}

func (a *api) setLanguage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Lang string `json:"lang"`
	}
	if !decode(w, r, &in) {
		return
	}
	nu, err := a.n.Auth.Update(r.Context(), u.ID, auth.Update{Lang: &in.Lang})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, nu)
}

func (a *api) status(w http.ResponseWriter, r *http.Request, u *auth.User) {
	st, err := a.n.Link.Status(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if !u.Can(auth.ManageUsers) {
		st.LastError = "" // transport details are for administrators
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *api) listThreads(w http.ResponseWriter, r *http.Request, u *auth.User) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	ts, err := a.n.Liaison.List(r.Context(), u, r.URL.Query().Get("q"), limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if ts == nil {
		ts = []*liaison.Thread{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"threads": ts})
}

type attachmentIn struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        string `json:"data"`
}

func attachments(in []attachmentIn) ([]liaison.NewAttachment, *Error) {
	var out []liaison.NewAttachment
	for i, a := range in {
		data, err := base64.StdEncoding.DecodeString(a.Data)
		if err != nil {
			return nil, &Error{Code: CodeInvalid, Field: fmt.Sprintf("attachments[%d].data", i), Reason: "not_base64", Message: "attachment data must be standard base64"}
		}
		out = append(out, liaison.NewAttachment{Name: a.Name, ContentType: a.ContentType, Data: data})
	}
	return out, nil
}

func (a *api) startThread(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Subject      string         `json:"subject"`
		Priority     string         `json:"priority"`
		ToAgency     string         `json:"to_agency"`
		Body         string         `json:"body"`
		ReleasableTo []string       `json:"releasable_to"`
		Attachments  []attachmentIn `json:"attachments"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Priority == "" {
		in.Priority = "routine"
	}
	atts, e := attachments(in.Attachments)
	if e != nil {
		writeErr(w, *e)
		return
	}
	t, err := a.n.Liaison.Start(r.Context(), u, liaison.NewThread{Subject: in.Subject, Priority: in.Priority, ToAgency: in.ToAgency,
		Body: in.Body, ReleasableTo: in.ReleasableTo, Attachments: atts})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	full, err := a.n.Liaison.Get(r.Context(), u, t.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, full)
}

func (a *api) getThread(w http.ResponseWriter, r *http.Request, u *auth.User) {
	t, err := a.n.Liaison.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (a *api) reply(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Body        string         `json:"body"`
		Attachments []attachmentIn `json:"attachments"`
	}
	if !decode(w, r, &in) {
		return
	}
	atts, e := attachments(in.Attachments)
	if e != nil {
		writeErr(w, *e)
		return
	}
	m, err := a.n.Liaison.Reply(r.Context(), u, r.PathValue("id"), in.Body, atts)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (a *api) markRead(w http.ResponseWriter, r *http.Request, u *auth.User) {
	n, err := a.n.Liaison.MarkRead(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"marked_read": n})
}

func (a *api) attachment(w http.ResponseWriter, r *http.Request, u *auth.User) {
	att, data, err := a.n.Liaison.AttachmentData(r.Context(), u, r.PathValue("sha256"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", att.Name))
	w.Header().Set("X-Content-SHA256", att.SHA256)
	_, _ = bytes.NewReader(data).WriteTo(w)
}

func (a *api) requireAdmin(w http.ResponseWriter, u *auth.User) bool {
	if !u.Can(auth.ManageUsers) {
		writeErr(w, Error{Code: CodeForbidden, Message: "only administrators manage users"})
		return false
	}
	return true
}

func (a *api) listUsers(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !a.requireAdmin(w, u) {
		return
	}
	us, err := a.n.Auth.List(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
}

func (a *api) createUser(w http.ResponseWriter, r *http.Request, u *auth.User) {
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
		a.fail(w, r, err)
		return
	}
	a.log.Info("user created", "by", u.Username, "user", nu.Username, "role", nu.Role, "agency", nu.Agency)
	writeJSON(w, http.StatusCreated, nu)
}

func (a *api) updateUser(w http.ResponseWriter, r *http.Request, u *auth.User) {
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
		a.fail(w, r, err)
		return
	}
	a.log.Info("user changed", "by", u.Username, "user", nu.Username, "role", nu.Role, "agency", nu.Agency, "disabled", nu.Disabled, "password_reset", in.Password != nil)
	writeJSON(w, http.StatusOK, nu)
}

func (a *api) listTokens(w http.ResponseWriter, r *http.Request, u *auth.User) {
	ts, err := a.n.Auth.Tokens(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if ts == nil {
		ts = []auth.Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

func (a *api) createToken(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Name string `json:"name"`
	}
	if !decode(w, r, &in) {
		return
	}
	t, secret, err := a.n.Auth.NewToken(r.Context(), u.ID, in.Name)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
}

func (a *api) revokeToken(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := a.n.Auth.RevokeToken(r.Context(), u.ID, id); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) agreement(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.ViewAgreement) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role does not allow this"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"hash": a.n.Agreement.HashHex(), "agreement": a.n.Agreement.Body(), "signatures": a.n.Agreement.Signatures})
}

func (a *api) quarantine(w http.ResponseWriter, r *http.Request, u *auth.User) {
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
	writeJSON(w, http.StatusOK, map[string]any{"items": q})
}
