package api

import (
	"puente/internal/caveats"
	"puente/internal/input"

	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"

	"puente/internal/auth"
	"puente/internal/finintel"
)

// maxDraft bounds a draft as JSON or CSV: its full 100,000 transactions.
const maxDraft = 64 << 20

func init() {
	Register(finintel.Name, func(a *Env) []Route {
		return []Route{
			{Pattern: "GET /api/v1/finintel/defaults", Handle: a.fiDefaults},
			{Pattern: "GET /api/v1/finintel/disclosures", Handle: a.fiList},
			{Pattern: "POST /api/v1/finintel/disclosures", Handle: a.fiCreate, Permission: auth.FinIntelWrite, MaxBody: maxDraft},
			{Pattern: "GET /api/v1/finintel/disclosures/{id}", Handle: a.fiGet},
			{Pattern: "PUT /api/v1/finintel/disclosures/{id}", Handle: a.fiUpdate, Permission: auth.FinIntelWrite, MaxBody: maxDraft},
			{Pattern: "POST /api/v1/finintel/disclosures/{id}/import", Handle: a.fiImportCSV, Permission: auth.FinIntelWrite, MaxBody: maxDraft},
			{Pattern: "POST /api/v1/finintel/disclosures/{id}/attachments", Handle: a.fiAttach, Permission: auth.FinIntelWrite, MaxBody: finintel.MaxAttachment*4/3 + 1<<20},
			{Pattern: "GET /api/v1/finintel/disclosures/{id}/attachments/{sha256}", Handle: a.fiAttachment},
			{Pattern: "DELETE /api/v1/finintel/disclosures/{id}/attachments/{sha256}", Handle: a.fiUnattach},
			{Pattern: "POST /api/v1/finintel/disclosures/{id}/submit", Handle: a.fiSubmit},
			{Pattern: "POST /api/v1/finintel/disclosures/{id}/return", Handle: a.fiReturn},
			{Pattern: "POST /api/v1/finintel/disclosures/{id}/release", Handle: a.fiRelease},
			{Pattern: "POST /api/v1/finintel/disclosures/{id}/recall", Handle: a.fiRecall},
			{Pattern: "POST /api/v1/finintel/disclosures/{id}/pass-on", Handle: a.fiPassOn},
			{Pattern: "POST /api/v1/finintel/disclosures/{id}/evidential", Handle: a.fiEvidential},
			{Pattern: "GET /api/v1/finintel/disclosures/{id}/export", Handle: a.fiExport},
			{Pattern: "POST /api/v1/finintel/disclosures/{id}/consents", Handle: a.fiConsent},
			{Pattern: "POST /api/v1/finintel/disclosures/{id}/feedback", Handle: a.fiFeedback},
			{Pattern: "POST /api/v1/finintel/consents/{id}/decision", Handle: a.fiDecide},
			{Pattern: "POST /api/v1/finintel/goaml", Handle: a.fiGoAML, Permission: auth.FinIntelWrite, MaxBody: finintel.MaxGoAMLBytes},
			{Pattern: "GET /api/v1/finintel/rfis", Handle: a.fiListRFIs},
			{Pattern: "POST /api/v1/finintel/rfis", Handle: a.fiCreateRFI},
			{Pattern: "GET /api/v1/finintel/rfis/{id}", Handle: a.fiGetRFI},
			{Pattern: "POST /api/v1/finintel/rfis/{id}/responses", Handle: a.fiRespond},
			{Pattern: "GET /api/v1/finintel/figures", Handle: a.fiFigures},
		}
	})
}

func (a *Env) fiDefaults(w http.ResponseWriter, r *http.Request, u *auth.User) {
	fi := finintel.Of(a.n)
	WriteJSON(w, http.StatusOK, map[string]any{
		"caveats": fi.DefaultCaveats(), "classifications": caveats.Classifications, "partner_agencies": auth.Agencies[fi.Partner()],
		"own_agencies": auth.Agencies[fi.Self()], "channels": finintel.Channels, "feedback_kinds": finintel.FeedbackKinds, "urgencies": finintel.Urgencies,
		"response_days": map[string]int{fi.Self(): fi.ResponseDays(fi.Self()), fi.Partner(): fi.ResponseDays(fi.Partner())},
	})
}

func (a *Env) fiList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query()
	ds, err := finintel.Of(a.n).List(r.Context(), u, finintel.ListFilter{Direction: q.Get("direction"), Status: q.Get("status"), Query: q.Get("q")})
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	if ds == nil {
		ds = []*finintel.Disclosure{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"disclosures": ds})
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

func (a *Env) draft(in draftIn) finintel.Draft {
	d := finintel.Draft{Title: in.Title, CriminalGroup: in.CriminalGroup, Narrative: in.Narrative, RFIID: in.RFIID, Content: in.Content}
	if in.Caveats != nil {
		d.Caveats = *in.Caveats
	} else {
		d.Caveats = finintel.Of(a.n).DefaultCaveats()
	}
	return d
}

func (a *Env) fiCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in draftIn
	if !decode(w, r, &in) {
		return
	}
	d, err := finintel.Of(a.n).CreateDraft(r.Context(), u, a.draft(in))
	a.Reply(w, r, http.StatusCreated, d, err)
}

func (a *Env) fiGet(w http.ResponseWriter, r *http.Request, u *auth.User) {
	d, err := finintel.Of(a.n).Get(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, d, err)
}

func (a *Env) fiUpdate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in draftIn
	if !decode(w, r, &in) {
		return
	}
	d, err := finintel.Of(a.n).UpdateDraft(r.Context(), u, r.PathValue("id"), a.draft(in))
	a.Reply(w, r, http.StatusOK, d, err)
}

// fiImportCSV adds the rows of a CSV body (?kind=subjects|accounts|
// transactions) to a draft. A bad file changes nothing.
func (a *Env) fiImportCSV(w http.ResponseWriter, r *http.Request, u *auth.User) {
	ctx := r.Context()
	d, err := finintel.Of(a.n).Get(ctx, u, r.PathValue("id"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	dr := finintel.DraftOf(d)
	if err := finintel.ImportCSV(r.URL.Query().Get("kind"), r.Body, &dr.Content); err != nil {
		a.Fail(w, r, err)
		return
	}
	d, err = finintel.Of(a.n).UpdateDraft(ctx, u, d.ID, dr)
	a.Reply(w, r, http.StatusOK, d, err)
}

func (a *Env) fiAttach(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in attachmentIn
	if !decode(w, r, &in) {
		return
	}
	data, err := base64.StdEncoding.DecodeString(in.Data)
	if err != nil {
		writeErr(w, Error{Code: CodeInvalid, Field: "data", Reason: "not_base64", Message: "attachment data must be standard base64"})
		return
	}
	att, err := finintel.Of(a.n).AddAttachment(r.Context(), u, r.PathValue("id"), in.Name, in.ContentType, data)
	a.Reply(w, r, http.StatusCreated, att, err)
}

func (a *Env) fiAttachment(w http.ResponseWriter, r *http.Request, u *auth.User) {
	att, data, err := finintel.Of(a.n).AttachmentData(r.Context(), u, r.PathValue("id"), r.PathValue("sha256"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	input.ServeDownload(w, att.Name, att.SHA256, data)
}

func (a *Env) fiUnattach(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := finintel.Of(a.n).RemoveAttachment(r.Context(), u, r.PathValue("id"), r.PathValue("sha256")); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fiGoAML creates a draft from a goAML XML report sent as the body.
func (a *Env) fiGoAML(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.FinIntelWrite) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role or agency does not allow this"})
		return
	}
	if err := finintel.Of(a.n).MayDraft(u); err != nil {
		a.Fail(w, r, err) // before a byte of the file is read
		return
	}
	body := r.Body
	dr, err := finintel.ImportGoAML(body, finintel.Of(a.n).DefaultCaveats())
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeErr(w, Error{Code: CodeTooLarge, Message: fmt.Sprintf("a goAML file may have at most %d MiB", finintel.MaxGoAMLBytes>>20)})
		return
	}
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	_, _ = io.Copy(io.Discard, body)
	d, err := finintel.Of(a.n).CreateDraft(r.Context(), u, *dr)
	a.Reply(w, r, http.StatusCreated, d, err)
}

// fiAction runs one state change and answers with the disclosure as it
// then is.
func (a *Env) fiAction(w http.ResponseWriter, r *http.Request, u *auth.User, f func() error) {
	if err := f(); err != nil {
		a.Fail(w, r, err)
		return
	}
	d, err := finintel.Of(a.n).Get(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, d, err)
}

func (a *Env) fiSubmit(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a.fiAction(w, r, u, func() error { return finintel.Of(a.n).Submit(r.Context(), u, r.PathValue("id")) })
}

func (a *Env) fiReturn(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Note string `json:"note"`
	}
	if !decode(w, r, &in) {
		return
	}
	a.fiAction(w, r, u, func() error { return finintel.Of(a.n).Return(r.Context(), u, r.PathValue("id"), in.Note) })
}

func (a *Env) fiRelease(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a.fiAction(w, r, u, func() error { return finintel.Of(a.n).Release(r.Context(), u, r.PathValue("id")) })
}

func (a *Env) fiRecall(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a.fiAction(w, r, u, func() error { return finintel.Of(a.n).Recall(r.Context(), u, r.PathValue("id")) })
}

func (a *Env) fiPassOn(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Agency string `json:"agency"`
	}
	if !decode(w, r, &in) {
		return
	}
	a.fiAction(w, r, u, func() error { return finintel.Of(a.n).PassOn(r.Context(), u, r.PathValue("id"), in.Agency) })
}

func (a *Env) fiEvidential(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a.fiAction(w, r, u, func() error { return finintel.Of(a.n).MarkEvidential(r.Context(), u, r.PathValue("id")) })
}

func (a *Env) fiExport(w http.ResponseWriter, r *http.Request, u *auth.User) {
	out, err := finintel.Of(a.n).Export(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "disclosure-"+r.PathValue("id")+".ftm.json"))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(out)
}

func (a *Env) fiConsent(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Use    string `json:"use"`
		Agency string `json:"agency"`
		Reason string `json:"reason"`
	}
	if !decode(w, r, &in) {
		return
	}
	c, err := finintel.Of(a.n).RequestConsent(r.Context(), u, r.PathValue("id"), in.Use, in.Agency, in.Reason)
	a.Reply(w, r, http.StatusCreated, c, err)
}

func (a *Env) fiDecide(w http.ResponseWriter, r *http.Request, u *auth.User) {
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
	if err := finintel.Of(a.n).DecideConsent(r.Context(), u, r.PathValue("id"), *in.Grant, in.Conditions); err != nil {
		a.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "granted": *in.Grant})
}

func (a *Env) fiFeedback(w http.ResponseWriter, r *http.Request, u *auth.User) {
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
	f, err := finintel.Of(a.n).SendFeedback(r.Context(), u, r.PathValue("id"), finintel.Feedback{Kind: in.Kind, Amount: in.Amount, Currency: in.Currency, Count: in.Count, Note: in.Note})
	a.Reply(w, r, http.StatusCreated, f, err)
}

func (a *Env) fiListRFIs(w http.ResponseWriter, r *http.Request, u *auth.User) {
	rs, err := finintel.Of(a.n).ListRFIs(r.Context(), u, r.URL.Query().Get("direction"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	if rs == nil {
		rs = []*finintel.RFI{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"rfis": rs})
}

func (a *Env) fiCreateRFI(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in finintel.NewRFI
	if !decode(w, r, &in) {
		return
	}
	rfi, err := finintel.Of(a.n).CreateRFI(r.Context(), u, in)
	a.Reply(w, r, http.StatusCreated, rfi, err)
}

func (a *Env) fiGetRFI(w http.ResponseWriter, r *http.Request, u *auth.User) {
	rfi, err := finintel.Of(a.n).GetRFI(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, rfi, err)
}

func (a *Env) fiRespond(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Kind         string `json:"kind"`
		Body         string `json:"body"`
		DisclosureID string `json:"disclosure_id"`
	}
	if !decode(w, r, &in) {
		return
	}
	resp, err := finintel.Of(a.n).Respond(r.Context(), u, r.PathValue("id"), in.Kind, in.Body, in.DisclosureID)
	a.Reply(w, r, http.StatusCreated, resp, err)
}

func (a *Env) fiFigures(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.FinIntelRead) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role does not allow this"})
		return
	}
	f, err := finintel.Of(a.n).Figures(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, f)
}
