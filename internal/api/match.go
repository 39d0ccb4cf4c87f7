package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"puente/internal/auth"
	"puente/internal/match"
)

func init() {
	Register(match.Name, func(a *Env) []Route {
		return []Route{
			{Pattern: "POST /api/v1/match/lookup", Handle: a.matchLookup},
			{Pattern: "POST /api/v1/subjects", Handle: a.importSubjects, Permission: auth.MatchIndex, MaxBody: 32 << 20},
			{Pattern: "GET /api/v1/match/usage", Handle: a.matchUsage},
			{Pattern: "POST /api/v1/match/jobs", Handle: a.startJob, Permission: auth.CrossMatch, MaxBody: 64 << 20},
			{Pattern: "GET /api/v1/match/jobs", Handle: a.listJobs},
			{Pattern: "GET /api/v1/match/jobs/{id}", Handle: a.getJob},
			{Pattern: "DELETE /api/v1/match/jobs/{id}", Handle: a.cancelJob},
		}
	})
}

func (a *Env) matchLookup(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var sub match.Subject
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&sub); err != nil {
		writeErr(w, Error{Code: CodeBadRequest, Message: "send the subject as a JSON object"})
		return
	}
	res, err := match.Of(a.n).LookupAs(r.Context(), u, sub)
	a.Reply(w, r, http.StatusOK, res, err)
}

func (a *Env) importSubjects(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var subs []match.Subject
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20)).Decode(&subs); err != nil || len(subs) == 0 {
		writeErr(w, Error{Code: CodeBadRequest, Message: "send a JSON array of subjects"})
		return
	}
	n, err := match.Of(a.n).ImportAs(r.Context(), u, subs)
	a.Reply(w, r, http.StatusCreated, map[string]int{"imported": n}, err)
}

func (a *Env) matchUsage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	us, err := match.Of(a.n).UsageAs(r.Context(), u)
	a.Reply(w, r, http.StatusOK, us, err)
}

func (a *Env) startJob(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Index    bool            `json:"index"`
		Subjects []match.Subject `json:"subjects"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&in); err != nil || in.Index == (len(in.Subjects) > 0) {
		writeErr(w, Error{Code: CodeBadRequest, Message: "send {\"index\": true} for the whole index, or {\"subjects\": [...]}"})
		return
	}
	subs := in.Subjects
	if in.Index {
		subs = nil
	}
	job, err := match.Of(a.n).StartJobAs(r.Context(), u, subs)
	a.Reply(w, r, http.StatusCreated, job, err)
}

func (a *Env) listJobs(w http.ResponseWriter, r *http.Request, u *auth.User) {
	jobs, err := match.Of(a.n).JobsAs(r.Context(), u, 100)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	if jobs == nil {
		jobs = []match.Job{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"jobs": jobs})
}

func (a *Env) getJob(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	job, err := match.Of(a.n).JobAs(r.Context(), u, id)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	hits, err := match.Of(a.n).JobHitsAs(r.Context(), u, id)
	a.Reply(w, r, http.StatusOK, map[string]any{"job": job, "hits": hits}, err)
}

func (a *Env) cancelJob(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := match.Of(a.n).CancelJobAs(r.Context(), u, id); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
