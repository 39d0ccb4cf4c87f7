package api

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"

	"puente/internal/auth"
	"puente/internal/input"
	"puente/internal/liaison"
)

func init() {
	Register(liaison.Name, func(a *Env) []Route {
		return []Route{
			{Pattern: "GET /api/v1/threads", Handle: a.listThreads},
			{Pattern: "POST /api/v1/threads", Handle: a.startThread, MaxBody: maxJSON},
			{Pattern: "GET /api/v1/threads/{id}", Handle: a.getThread},
			{Pattern: "POST /api/v1/threads/{id}/messages", Handle: a.reply, MaxBody: maxJSON},
			{Pattern: "POST /api/v1/threads/{id}/read", Handle: a.markRead},
			{Pattern: "GET /api/v1/attachments/{sha256}", Handle: a.attachment},
		}
	})
}

func (a *Env) listThreads(w http.ResponseWriter, r *http.Request, u *auth.User) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	ts, err := liaison.Of(a.n).List(r.Context(), u, r.URL.Query().Get("q"), limit)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	if ts == nil {
		ts = []*liaison.Thread{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"threads": ts})
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

func (a *Env) startThread(w http.ResponseWriter, r *http.Request, u *auth.User) {
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
	t, err := liaison.Of(a.n).Start(r.Context(), u, liaison.NewThread{Subject: in.Subject, Priority: in.Priority, ToAgency: in.ToAgency,
		Body: in.Body, ReleasableTo: in.ReleasableTo, Attachments: atts})
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	full, err := liaison.Of(a.n).Get(r.Context(), u, t.ID)
	a.Reply(w, r, http.StatusCreated, full, err)
}

func (a *Env) getThread(w http.ResponseWriter, r *http.Request, u *auth.User) {
	t, err := liaison.Of(a.n).Get(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, t, err)
}

func (a *Env) reply(w http.ResponseWriter, r *http.Request, u *auth.User) {
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
	m, err := liaison.Of(a.n).Reply(r.Context(), u, r.PathValue("id"), in.Body, atts)
	a.Reply(w, r, http.StatusCreated, m, err)
}

func (a *Env) markRead(w http.ResponseWriter, r *http.Request, u *auth.User) {
	n, err := liaison.Of(a.n).MarkRead(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, map[string]int{"marked_read": n}, err)
}

func (a *Env) attachment(w http.ResponseWriter, r *http.Request, u *auth.User) {
	att, data, err := liaison.Of(a.n).AttachmentData(r.Context(), u, r.PathValue("sha256"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	input.ServeDownload(w, att.Name, att.SHA256, data)
}
