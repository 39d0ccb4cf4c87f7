package api

import (
	"io"
	"net/http"

	"puente/internal/auth"
	"puente/internal/input"
	"puente/internal/training"
)

func init() {
	Register(training.Name, func(a *Env) []Route {
		return []Route{
			{Pattern: "GET /api/v1/training/offers", Handle: a.trnList, Permission: auth.TrainRead},
			{Pattern: "POST /api/v1/training/offers", Handle: a.trnDraft, Permission: auth.TrainWrite},
			{Pattern: "GET /api/v1/training/offers/{id}", Handle: a.trnGet, Permission: auth.TrainRead},
			{Pattern: "PUT /api/v1/training/offers/{id}", Handle: a.trnEdit, Permission: auth.TrainWrite},
			{Pattern: "POST /api/v1/training/offers/{id}/publish", Handle: a.trnPublish, Permission: auth.TrainRelease},
			{Pattern: "POST /api/v1/training/offers/{id}/steps", Handle: a.trnStep, Permission: auth.TrainWrite},
			{Pattern: "GET /api/v1/training/figures", Handle: a.trnFigures, Permission: auth.TrainRead},
			{Pattern: "GET /api/v1/training/certificates", Handle: a.trnCerts, Permission: auth.TrainRead},
			{Pattern: "POST /api/v1/training/certificates/verify", Handle: a.trnVerify, Permission: auth.TrainRead},
			{Pattern: "GET /api/v1/training/certificates/{id}", Handle: a.trnCert, Permission: auth.TrainRead},
			{Pattern: "GET /api/v1/training/certificates/{id}/file", Handle: a.trnCertFile, Permission: auth.TrainRead},
			{Pattern: "GET /api/v1/training/revocations", Handle: a.trnRevocations, Permission: auth.TrainRead},
		}
	})
}

func (a *Env) trnList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query()
	list, err := training.Of(a.n).List(r.Context(), u, training.Filter{Status: q.Get("status"), Origin: q.Get("origin")})
	if list == nil {
		list = []*training.Offer{}
	}
	a.Reply(w, r, http.StatusOK, map[string]any{"offers": list}, err)
}

func (a *Env) trnDraft(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in training.Offer
	if !decode(w, r, &in) {
		return
	}
	o, err := training.Of(a.n).Draft(r.Context(), u, in)
	a.Reply(w, r, http.StatusCreated, o, err)
}

func (a *Env) trnGet(w http.ResponseWriter, r *http.Request, u *auth.User) {
	o, err := training.Of(a.n).Get(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, o, err)
}

func (a *Env) trnEdit(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in training.Offer
	if !decode(w, r, &in) {
		return
	}
	o, err := training.Of(a.n).Edit(r.Context(), u, r.PathValue("id"), in)
	a.Reply(w, r, http.StatusOK, o, err)
}

func (a *Env) trnPublish(w http.ResponseWriter, r *http.Request, u *auth.User) {
	o, err := training.Of(a.n).Publish(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, o, err)
}

func (a *Env) trnStep(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in training.Step
	if !decode(w, r, &in) {
		return
	}
	o, err := training.Of(a.n).Act(r.Context(), u, r.PathValue("id"), in)
	a.Reply(w, r, http.StatusOK, o, err)
}

func (a *Env) trnFigures(w http.ResponseWriter, r *http.Request, u *auth.User) {
	f, err := training.Of(a.n).FiguresFor(r.Context(), u)
	a.Reply(w, r, http.StatusOK, f, err)
}

func (a *Env) trnCerts(w http.ResponseWriter, r *http.Request, u *auth.User) {
	list, err := training.Of(a.n).Certificates(r.Context(), u, r.URL.Query().Get("offer"))
	a.Reply(w, r, http.StatusOK, map[string]any{"certificates": list}, err)
}

func (a *Env) trnCert(w http.ResponseWriter, r *http.Request, u *auth.User) {
	c, err := training.Of(a.n).Certificate(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, c, err)
}

// trnCertFile is the certificate file, byte for byte as its issuer
// signed it.
func (a *Env) trnCertFile(w http.ResponseWriter, r *http.Request, u *auth.User) {
	c, err := training.Of(a.n).Certificate(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	input.ServeDownload(w, "certificate-"+c.ID+".json", "", c.Raw())
}

// trnVerify checks a certificate file (the request body) against the
// node's agreement and the revocations it knows of.
func (a *Env) trnVerify(w http.ResponseWriter, r *http.Request, u *auth.User) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, Error{Code: CodeBadRequest, Message: "the certificate could not be read"})
		return
	}
	v, err := training.Of(a.n).Check(r.Context(), u, raw)
	if v != nil && v.Problems == nil {
		v.Problems = []string{}
	}
	a.Reply(w, r, http.StatusOK, v, err)
}

// trnRevocations is this node's signed list of the certificates it
// revoked, for offline verification (puente certificate verify
// --revocations).
func (a *Env) trnRevocations(w http.ResponseWriter, r *http.Request, u *auth.User) {
	raw, err := training.Of(a.n).Revocations(r.Context())
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	input.ServeDownload(w, "revocations.json", "", raw)
}
