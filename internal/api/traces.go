package api

import (
	"net/http"

	"puente/internal/auth"
	"puente/internal/traces"
)

func init() {
	Register(traces.Name, func(a *Env) []Route {
		return []Route{
			{Pattern: "GET /api/v1/traces", Handle: a.trList, Permission: auth.TraceRead},
			{Pattern: "POST /api/v1/traces", Handle: a.trPrepare, Permission: auth.TraceRequest},
			{Pattern: "POST /api/v1/traces/check", Handle: a.trCheck, Permission: auth.TraceRequest},
			{Pattern: "POST /api/v1/seizures/{id}/traces", Handle: a.trFromSeizure, Permission: auth.TraceRequest},
			{Pattern: "GET /api/v1/traces/figures", Handle: a.trFigures, Permission: auth.TraceRead},
			{Pattern: "GET /api/v1/traces/{id}", Handle: a.trGet, Permission: auth.TraceRead},
			{Pattern: "PUT /api/v1/traces/{id}", Handle: a.trEdit, Permission: auth.TraceRequest},
			{Pattern: "POST /api/v1/traces/{id}/submit", Handle: a.trSubmit, Permission: auth.TraceSponsor},
			{Pattern: "POST /api/v1/traces/{id}/steps", Handle: a.trStep, Permission: auth.TraceWork},
		}
	})
}

func (a *Env) trList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	list, err := traces.Of(a.n).List(r.Context(), u, r.URL.Query().Get("status"))
	if list == nil {
		list = []*traces.Trace{}
	}
	a.Reply(w, r, http.StatusOK, map[string]any{"traces": list}, err)
}

// trPrepared is a prepared trace, and whether it was merged into an
// earlier trace of the same gun.
type trPrepared struct {
	*traces.Trace
	Merged bool `json:"merged"`
}

func (a *Env) trPrepare(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in traces.Trace
	if !decode(w, r, &in) {
		return
	}
	t, merged, err := traces.Of(a.n).Prepare(r.Context(), u, in)
	status := http.StatusCreated
	if merged {
		status = http.StatusOK
	}
	a.Reply(w, r, status, trPrepared{Trace: t, Merged: merged}, err)
}

func (a *Env) trCheck(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in traces.Trace
	if !decode(w, r, &in) {
		return
	}
	WriteJSON(w, http.StatusOK, traces.Of(a.n).Check(in))
}

func (a *Env) trFromSeizure(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in traces.Trace
	if !decode(w, r, &in) {
		return
	}
	list, err := traces.Of(a.n).FromSeizure(r.Context(), u, r.PathValue("id"), in)
	a.Reply(w, r, http.StatusCreated, map[string]any{"traces": list}, err)
}

func (a *Env) trGet(w http.ResponseWriter, r *http.Request, u *auth.User) {
	t, err := traces.Of(a.n).Get(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) trEdit(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in traces.Trace
	if !decode(w, r, &in) {
		return
	}
	t, err := traces.Of(a.n).Edit(r.Context(), u, r.PathValue("id"), in)
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) trSubmit(w http.ResponseWriter, r *http.Request, u *auth.User) {
	t, err := traces.Of(a.n).Submit(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) trStep(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in traces.Update
	if !decode(w, r, &in) {
		return
	}
	t, err := traces.Of(a.n).Step(r.Context(), u, r.PathValue("id"), in)
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) trFigures(w http.ResponseWriter, r *http.Request, u *auth.User) {
	f, err := traces.Of(a.n).FiguresFor(r.Context(), u)
	a.Reply(w, r, http.StatusOK, f, err)
}
