package api

import (
	"puente/internal/caveats"

	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"

	"puente/internal/auth"
	"puente/internal/finintel"
)

// finintelRoutes are the financial-intelligence routes, in the order of
// finintelHandlers.
var finintelRoutes = []string{
	"GET /api/v1/finintel/defaults",
	"GET /api/v1/finintel/disclosures",
	"POST /api/v1/finintel/disclosures",
	"GET /api/v1/finintel/disclosures/{id}",
	"PUT /api/v1/finintel/disclosures/{id}",
	"POST /api/v1/finintel/disclosures/{id}/import",
	"POST /api/v1/finintel/disclosures/{id}/attachments",
	"GET /api/v1/finintel/disclosures/{id}/attachments/{sha256}",
	"DELETE /api/v1/finintel/disclosures/{id}/attachments/{sha256}",
	"POST /api/v1/finintel/disclosures/{id}/submit",
	"POST /api/v1/finintel/disclosures/{id}/return",
	"POST /api/v1/finintel/disclosures/{id}/release",
	"POST /api/v1/finintel/disclosures/{id}/recall",
	"POST /api/v1/finintel/disclosures/{id}/pass-on",
	"POST /api/v1/finintel/disclosures/{id}/evidential",
	"GET /api/v1/finintel/disclosures/{id}/export",
	"POST /api/v1/finintel/disclosures/{id}/consents",
	"POST /api/v1/finintel/disclosures/{id}/feedback",
	"POST /api/v1/finintel/consents/{id}/decision",
	"POST /api/v1/finintel/goaml",
	"GET /api/v1/finintel/rfis",
	"POST /api/v1/finintel/rfis",
	"GET /api/v1/finintel/rfis/{id}",
	"POST /api/v1/finintel/rfis/{id}/responses",
	"GET /api/v1/finintel/figures",
}

func (a *api) finintelHandlers() []func(http.ResponseWriter, *http.Request) {
	return []func(http.ResponseWriter, *http.Request){
		a.auth(a.fiDefaults), a.auth(a.fiList), a.auth(a.fiCreate), a.auth(a.fiGet), a.auth(a.fiUpdate), a.auth(a.fiImportCSV),
		a.auth(a.fiAttach), a.auth(a.fiAttachment), a.auth(a.fiUnattach),
		a.auth(a.fiSubmit), a.auth(a.fiReturn), a.auth(a.fiRelease), a.auth(a.fiRecall), a.auth(a.fiPassOn), a.auth(a.fiEvidential),
		a.auth(a.fiExport), a.auth(a.fiConsent), a.auth(a.fiFeedback), a.auth(a.fiDecide), a.auth(a.fiGoAML),
		a.auth(a.fiListRFIs), a.auth(a.fiCreateRFI), a.auth(a.fiGetRFI), a.auth(a.fiRespond), a.auth(a.fiFigures),
	}
}

func (a *api) fiDefaults(w http.ResponseWriter, r *http.Request, u *auth.User) {
	fi := a.n.FinIntel
	writeJSON(w, http.StatusOK, map[string]any{
		"caveats": fi.DefaultCaveats(), "classifications": caveats.Classifications, "partner_agencies": auth.Agencies[fi.Partner()],
		"own_agencies": auth.Agencies[fi.Self()], "channels": finintel.Channels, "feedback_kinds": finintel.FeedbackKinds, "urgencies": finintel.Urgencies,
		"response_days": map[string]int{fi.Self(): fi.ResponseDays(fi.Self()), fi.Partner(): fi.ResponseDays(fi.Partner())},
	})
}

func (a *api) fiList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query()
	ds, err := a.n.FinIntel.List(r.Context(), u, finintel.ListFilter{Direction: q.Get("direction"), Status: q.Get("status"), Query: q.Get("q")})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if ds == nil {
		ds = []*finintel.Disclosure{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"disclosures": ds})
}

// draftIn is a draft as the API takes it: caveats left out take the
// agreement's defaults.
type draftIn struct {
	Title         string           `json:"title"`
	CriminalGroup string           `json:"criminal_group"`
	Narrative     string           `json:"narrative"`
	Caveats       *caveats.Caveats `json:"caveats"`
	RFIID         string           `json:"rfi_id"`
	finintel.Content
}

func (a *api) draft(in draftIn) finintel.Draft {
	d := finintel.Draft{Title: in.Title, CriminalGroup: in.CriminalGroup, Narrative: in.Narrative, RFIID: in.RFIID, Content: in.Content}
	if in.Caveats != nil {
		d.Caveats = *in.Caveats
	} else {
		d.Caveats = a.n.FinIntel.DefaultCaveats()
	}
	return d
}

func (a *api) fiCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in draftIn
	if !decode(w, r, &in) {
		return
	}
	d, err := a.n.FinIntel.CreateDraft(r.Context(), u, a.draft(in))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (a *api) fiGet(w http.ResponseWriter, r *http.Request, u *auth.User) {
	d, err := a.n.FinIntel.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *api) fiUpdate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in draftIn
	if !decode(w, r, &in) {
		return
	}
	d, err := a.n.FinIntel.UpdateDraft(r.Context(), u, r.PathValue("id"), a.draft(in))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// fiImportCSV adds the rows of a CSV body (?kind=subjects|accounts|
// transactions) to a draft. A bad file changes nothing.
func (a *api) fiImportCSV(w http.ResponseWriter, r *http.Request, u *auth.User) {
	ctx := r.Context()
	d, err := a.n.FinIntel.Get(ctx, u, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	dr := finintel.DraftOf(d)
	if err := finintel.ImportCSV(r.URL.Query().Get("kind"), http.MaxBytesReader(w, r.Body, 64<<20), &dr.Content); err != nil {
		a.fail(w, r, err)
		return
	}
	d, err = a.n.FinIntel.UpdateDraft(ctx, u, d.ID, dr)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *api) fiAttach(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in attachmentIn
	if !decode(w, r, &in) {
		return
	}
	data, err := base64.StdEncoding.DecodeString(in.Data)
	if err != nil {
		writeErr(w, Error{Code: CodeInvalid, Field: "data", Reason: "not_base64", Message: "attachment data must be standard base64"})
		return
	}
	att, err := a.n.FinIntel.AddAttachment(r.Context(), u, r.PathValue("id"), in.Name, in.ContentType, data)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, att)
}

func (a *api) fiAttachment(w http.ResponseWriter, r *http.Request, u *auth.User) {
	att, data, err := a.n.FinIntel.AttachmentData(r.Context(), u, r.PathValue("id"), r.PathValue("sha256"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", att.Name))
	w.Header().Set("X-Content-SHA256", att.SHA256)
	_, _ = w.Write(data)
}

func (a *api) fiUnattach(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := a.n.FinIntel.RemoveAttachment(r.Context(), u, r.PathValue("id"), r.PathValue("sha256")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fiGoAML creates a draft from a goAML XML report sent as the body.
func (a *api) fiGoAML(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.FinIntelWrite) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role or agency does not allow this"})
		return
	}
	body := http.MaxBytesReader(w, r.Body, finintel.MaxGoAMLBytes)
	dr, err := finintel.ImportGoAML(body, a.n.FinIntel.DefaultCaveats())
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeErr(w, Error{Code: CodeTooLarge, Message: fmt.Sprintf("a goAML file may have at most %d MiB", finintel.MaxGoAMLBytes>>20)})
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	_, _ = io.Copy(io.Discard, body)
	d, err := a.n.FinIntel.CreateDraft(r.Context(), u, *dr)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

// fiAction runs one state change and answers with the disclosure as it
// then is.
func (a *api) fiAction(w http.ResponseWriter, r *http.Request, u *auth.User, f func() error) {
	if err := f(); err != nil {
		a.fail(w, r, err)
		return
	}
	d, err := a.n.FinIntel.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *api) fiSubmit(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a.fiAction(w, r, u, func() error { return a.n.FinIntel.Submit(r.Context(), u, r.PathValue("id")) })
}

func (a *api) fiReturn(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Note string `json:"note"`
	}
	if !decode(w, r, &in) {
		return
	}
	a.fiAction(w, r, u, func() error { return a.n.FinIntel.Return(r.Context(), u, r.PathValue("id"), in.Note) })
}

func (a *api) fiRelease(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a.fiAction(w, r, u, func() error { return a.n.FinIntel.Release(r.Context(), u, r.PathValue("id")) })
}

func (a *api) fiRecall(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a.fiAction(w, r, u, func() error { return a.n.FinIntel.Recall(r.Context(), u, r.PathValue("id")) })
}

func (a *api) fiPassOn(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Agency string `json:"agency"`
	}
	if !decode(w, r, &in) {
		return
	}
	a.fiAction(w, r, u, func() error { return a.n.FinIntel.PassOn(r.Context(), u, r.PathValue("id"), in.Agency) })
}

func (a *api) fiEvidential(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a.fiAction(w, r, u, func() error { return a.n.FinIntel.MarkEvidential(r.Context(), u, r.PathValue("id")) })
}

func (a *api) fiExport(w http.ResponseWriter, r *http.Request, u *auth.User) {
	out, err := a.n.FinIntel.Export(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "disclosure-"+r.PathValue("id")+".ftm.json"))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(out)
}

func (a *api) fiConsent(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Use    string `json:"use"`
		Agency string `json:"agency"`
		Reason string `json:"reason"`
	}
	if !decode(w, r, &in) {
		return
	}
	c, err := a.n.FinIntel.RequestConsent(r.Context(), u, r.PathValue("id"), in.Use, in.Agency, in.Reason)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (a *api) fiDecide(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Grant      *bool  `json:"grant"`
		Conditions string `json:"conditions"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Grant == nil {
		writeErr(w, Error{Code: CodeInvalid, Field: "grant", Reason: "required", Message: "say \"grant\": true or false"})
		return
	}
	if err := a.n.FinIntel.DecideConsent(r.Context(), u, r.PathValue("id"), *in.Grant, in.Conditions); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "granted": *in.Grant})
}

func (a *api) fiFeedback(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Kind     string `json:"kind"`
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
		Count    int    `json:"count"`
		Note     string `json:"note"`
	}
	if !decode(w, r, &in) {
		return
	}
	f, err := a.n.FinIntel.SendFeedback(r.Context(), u, r.PathValue("id"), finintel.Feedback{Kind: in.Kind, Amount: in.Amount, Currency: in.Currency, Count: in.Count, Note: in.Note})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (a *api) fiListRFIs(w http.ResponseWriter, r *http.Request, u *auth.User) {
	rs, err := a.n.FinIntel.ListRFIs(r.Context(), u, r.URL.Query().Get("direction"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if rs == nil {
		rs = []*finintel.RFI{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rfis": rs})
}

func (a *api) fiCreateRFI(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in finintel.NewRFI
	if !decode(w, r, &in) {
		return
	}
	rfi, err := a.n.FinIntel.CreateRFI(r.Context(), u, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rfi)
}

func (a *api) fiGetRFI(w http.ResponseWriter, r *http.Request, u *auth.User) {
	rfi, err := a.n.FinIntel.GetRFI(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rfi)
}

func (a *api) fiRespond(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Kind         string `json:"kind"`
		Body         string `json:"body"`
		DisclosureID string `json:"disclosure_id"`
	}
	if !decode(w, r, &in) {
		return
	}
	resp, err := a.n.FinIntel.Respond(r.Context(), u, r.PathValue("id"), in.Kind, in.Body, in.DisclosureID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

func (a *api) fiFigures(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.FinIntelRead) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role does not allow this"})
		return
	}
	f, err := a.n.FinIntel.Figures(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}
