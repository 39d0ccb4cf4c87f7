package api

import (
	"io"
	"net/http"
	"strconv"

	"puente/internal/auth"
	"puente/internal/blob"
	"puente/internal/caveats"
	"puente/internal/extradition"
	"puente/internal/input"
)

func init() {
	Register(extradition.Name, func(a *Env) []Route {
		return []Route{
			{Pattern: "GET /api/v1/targets", Handle: a.tgList, Permission: auth.ExtRead},
			{Pattern: "POST /api/v1/targets", Handle: a.tgNominate, Permission: auth.ExtWrite},
			{Pattern: "GET /api/v1/targets/{id}", Handle: a.tgGet, Permission: auth.ExtRead},
			{Pattern: "PUT /api/v1/targets/{id}", Handle: a.tgEdit, Permission: auth.ExtWrite},
			{Pattern: "POST /api/v1/targets/{id}/submit", Handle: a.tgSubmit, Permission: auth.ExtWrite},
			{Pattern: "POST /api/v1/targets/{id}/return", Handle: a.tgReturn, Permission: auth.ExtRelease},
			{Pattern: "POST /api/v1/targets/{id}/release", Handle: a.tgRelease, Permission: auth.ExtRelease},
			{Pattern: "POST /api/v1/targets/{id}/status", Handle: a.tgStatus, Permission: auth.ExtWrite},
			{Pattern: "POST /api/v1/targets/{id}/ack", Handle: a.tgAck, Permission: auth.ExtWrite},
			{Pattern: "POST /api/v1/targets/{id}/additions", Handle: a.tgAdd, Permission: auth.ExtWrite},
			{Pattern: "GET /api/v1/targets/{id}/notices", Handle: a.tgNotices, Permission: auth.ExtRead},
			{Pattern: "POST /api/v1/targets/{id}/photos", Handle: a.tgAddPhoto, Permission: auth.ExtWrite, MaxBody: 8 << 20},
			{Pattern: "GET /api/v1/targets/{id}/photos/{sha}", Handle: a.tgPhoto, Permission: auth.ExtRead},
			{Pattern: "POST /api/v1/targets/{id}/notices", Handle: a.tgAddNotice, Permission: auth.ExtWrite},
			{Pattern: "GET /api/v1/extradition/figures", Handle: a.extFigures, Permission: auth.ExtRead},
			{Pattern: "GET /api/v1/extradition/cases", Handle: a.caseList, Permission: auth.ExtRead},
			{Pattern: "POST /api/v1/extradition/cases", Handle: a.caseOpen, Permission: auth.ExtWrite},
			{Pattern: "GET /api/v1/extradition/cases/{id}", Handle: a.caseGet, Permission: auth.ExtRead},
			{Pattern: "POST /api/v1/extradition/cases/{id}/stages", Handle: a.caseStage, Permission: auth.ExtWrite},
			{Pattern: "GET /api/v1/extradition/cases/{id}/documents", Handle: a.caseDocs, Permission: auth.ExtRead},
			{Pattern: "POST /api/v1/extradition/cases/{id}/documents", Handle: a.caseAddDoc, Permission: auth.ExtWrite, MaxBody: 64 << 20},
			{Pattern: "GET /api/v1/extradition/cases/{id}/documents/{doc}/file", Handle: a.caseDocFile, Permission: auth.ExtRead},
			{Pattern: "GET /api/v1/extradition/cases/{id}/record", Handle: a.caseRecord, Permission: auth.ExtRead},
			{Pattern: "POST /api/v1/extradition/cases/{id}/assurances", Handle: a.caseAssurance, Permission: auth.ExtWrite},
		}
	})
}

func (a *Env) tgList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	list, err := extradition.Of(a.n).List(r.Context(), u, extradition.Filter{Side: q.Get("side"), Status: q.Get("status"), Stage: q.Get("stage"), Query: q.Get("q"), Limit: limit})
	a.Reply(w, r, http.StatusOK, map[string]any{"targets": list}, err)
}

func (a *Env) tgNominate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in extradition.Target
	if !decode(w, r, &in) {
		return
	}
	t, err := extradition.Of(a.n).Nominate(r.Context(), u, in)
	a.Reply(w, r, http.StatusCreated, t, err)
}

func (a *Env) tgGet(w http.ResponseWriter, r *http.Request, u *auth.User) {
	t, err := extradition.Of(a.n).Get(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) tgEdit(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in extradition.Target
	if !decode(w, r, &in) {
		return
	}
	t, err := extradition.Of(a.n).Edit(r.Context(), u, r.PathValue("id"), in)
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) tgSubmit(w http.ResponseWriter, r *http.Request, u *auth.User) {
	t, err := extradition.Of(a.n).Submit(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) tgReturn(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Reason string `json:"reason"`
	}
	if !decode(w, r, &in) {
		return
	}
	t, err := extradition.Of(a.n).Return(r.Context(), u, r.PathValue("id"), in.Reason)
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) tgRelease(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Caveats *caveats.Caveats `json:"caveats"`
	}
	if r.ContentLength != 0 && !decode(w, r, &in) {
		return
	}
	t, err := extradition.Of(a.n).Release(r.Context(), u, r.PathValue("id"), in.Caveats)
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) tgStatus(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Status string `json:"status"`
	}
	if !decode(w, r, &in) {
		return
	}
	t, err := extradition.Of(a.n).SetStatus(r.Context(), u, r.PathValue("id"), in.Status)
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) tgAck(w http.ResponseWriter, r *http.Request, u *auth.User) {
	t, err := extradition.Of(a.n).Acknowledge(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) tgAdd(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Text string `json:"text"`
	}
	if !decode(w, r, &in) {
		return
	}
	t, err := extradition.Of(a.n).Add(r.Context(), u, r.PathValue("id"), in.Text)
	a.Reply(w, r, http.StatusCreated, t, err)
}

func (a *Env) extFigures(w http.ResponseWriter, r *http.Request, u *auth.User) {
	svc := extradition.Of(a.n)
	f, err := svc.Figures(r.Context())
	if err != nil {
		a.Reply(w, r, http.StatusOK, nil, err)
		return
	}
	cf, err := svc.CaseFigures(r.Context(), u)
	a.Reply(w, r, http.StatusOK, map[string]any{"targets": f, "cases": cf}, err)
}

func (a *Env) caseList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	list, err := extradition.Of(a.n).ListCases(r.Context(), u, extradition.CaseFilter{Kind: q.Get("kind"), Requested: q.Get("requested"), Open: q.Get("open") == "true",
		Group: q.Get("group"), Limit: limit})
	a.Reply(w, r, http.StatusOK, map[string]any{"cases": list}, err)
}

func (a *Env) caseOpen(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in extradition.Case
	if !decode(w, r, &in) {
		return
	}
	c, err := extradition.Of(a.n).OpenCase(r.Context(), u, in)
	a.Reply(w, r, http.StatusCreated, c, err)
}

func (a *Env) caseGet(w http.ResponseWriter, r *http.Request, u *auth.User) {
	c, err := extradition.Of(a.n).GetCase(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, c, err)
}

func (a *Env) caseStage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in extradition.Stage
	if !decode(w, r, &in) {
		return
	}
	c, err := extradition.Of(a.n).Record(r.Context(), u, r.PathValue("id"), in)
	a.Reply(w, r, http.StatusCreated, c, err)
}

func (a *Env) tgNotices(w http.ResponseWriter, r *http.Request, u *auth.User) {
	list, err := extradition.Of(a.n).Notices(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, map[string]any{"notices": list}, err)
}

func (a *Env) tgAddNotice(w http.ResponseWriter, r *http.Request, u *auth.User) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeErr(w, Error{Code: CodeTooLarge, Message: "the notice is larger than this route takes"})
		return
	}
	t, err := extradition.Of(a.n).AddNotice(r.Context(), u, r.PathValue("id"), raw)
	a.Reply(w, r, http.StatusCreated, t, err)
}

func (a *Env) caseDocs(w http.ResponseWriter, r *http.Request, u *auth.User) {
	svc := extradition.Of(a.n)
	c, err := svc.GetCase(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.Reply(w, r, http.StatusOK, nil, err)
		return
	}
	docs, err := svc.Documents(r.Context(), u, c.ID)
	if docs == nil {
		docs = []extradition.Document{}
	}
	a.Reply(w, r, http.StatusOK, map[string]any{"documents": docs, "art10": extradition.Art10Checklist(c, docs)}, err)
}

func (a *Env) caseAddDoc(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in extradition.NewDocument
	if !decode(w, r, &in) {
		return
	}
	d, err := extradition.Of(a.n).AddDocument(r.Context(), u, r.PathValue("id"), in)
	a.Reply(w, r, http.StatusCreated, d, err)
}

func (a *Env) caseDocFile(w http.ResponseWriter, r *http.Request, u *auth.User) {
	_, name, data, err := extradition.Of(a.n).DocumentData(r.Context(), u, r.PathValue("id"), r.PathValue("doc"), r.URL.Query().Get("translation") == "1")
	if err != nil {
		a.Reply(w, r, http.StatusOK, nil, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+input.SafeFileName(name)+`"`)
	w.Header().Set("X-Content-SHA256", blob.Sum(data))
	_, _ = w.Write(data)
}

func (a *Env) caseRecord(w http.ResponseWriter, r *http.Request, u *auth.User) {
	rec, err := extradition.Of(a.n).CaseRecord(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, rec, err)
}

func (a *Env) caseAssurance(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in extradition.Assurance
	if !decode(w, r, &in) {
		return
	}
	as, err := extradition.Of(a.n).GiveAssurance(r.Context(), u, r.PathValue("id"), in)
	a.Reply(w, r, http.StatusCreated, as, err)
}

func (a *Env) tgAddPhoto(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Name    string `json:"name"`
		Content []byte `json:"content"`
	}
	if !decode(w, r, &in) {
		return
	}
	t, err := extradition.Of(a.n).AddPhoto(r.Context(), u, r.PathValue("id"), in.Name, in.Content)
	a.Reply(w, r, http.StatusCreated, t, err)
}

func (a *Env) tgPhoto(w http.ResponseWriter, r *http.Request, u *auth.User) {
	p, data, err := extradition.Of(a.n).PhotoData(r.Context(), u, r.PathValue("id"), r.PathValue("sha"))
	if err != nil {
		a.Reply(w, r, http.StatusOK, nil, err)
		return
	}
	w.Header().Set("Content-Type", p.ContentType)
	w.Header().Set("X-Content-SHA256", p.SHA256)
	_, _ = w.Write(data)
}
