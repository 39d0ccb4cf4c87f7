package web

import (
	"puente/internal/fault"
	"puente/internal/input"
	"slices"

	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"puente/internal/auth"
	"puente/internal/liaison"
)

func init() {
	Register(liaison.Name, func(s *Server) Face {
		return Face{
			Nav: []NavItem{
				{Path: "/inbox", ID: "nav-inbox", Label: "nav.inbox", Permission: auth.LiaisonRead},
				{Path: "/threads/new", Label: "nav.new", Permission: auth.LiaisonWrite},
			},
			LogKinds: []string{liaison.KindRead},
			ErrorKey: "error.", FieldKey: "field.",
			Keys: slices.Concat(
				keysOf("priority.", liaison.Priorities...),
				keysOf("delivery.", "pending", "delivered", "rejected", "received"),
			),
			Pages: []Page{
				{Pattern: "GET /inbox", Permission: auth.LiaisonRead, Handle: s.inbox},
				{Pattern: "GET /threads/new", Permission: auth.LiaisonWrite, Handle: s.newThreadPage},
				{Pattern: "POST /threads", Permission: auth.LiaisonWrite, MaxBody: maxUpload, Handle: s.createThread},
				{Pattern: "GET /threads/{id}", Handle: s.threadPage},
				{Pattern: "POST /threads/{id}/reply", Permission: auth.LiaisonWrite, MaxBody: maxUpload, Handle: s.reply},
				{Pattern: "GET /attachments/{sha}", Handle: s.attachment},
			},
		}
	})
}

type inboxData struct {
	Query   string
	Threads []*liaison.Thread
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query().Get("q")
	v := s.newView(r, u, nil)
	ts, err := liaison.Of(s.n).List(r.Context(), u, q, 200)
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		v.Error = s.fieldError(v, fe.Field, fe.Code)
	} else if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v.Data = inboxData{Query: q, Threads: ts}
	s.render(w, r, http.StatusOK, "inbox", v)
}

type newThreadData struct {
	Agencies   []string
	Priorities []string
}

func (s *Server) newThreadPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, newThreadData{Agencies: auth.Agencies[s.n.Link.Partner()], Priorities: liaison.Priorities})
	// A hit on a blind lookup offers "step 2": a request prefilled here.
	q := r.URL.Query()
	v.Form = map[string]string{"priority": "routine", "subject": q.Get("subject"), "body": q.Get("body")}
	s.render(w, r, http.StatusOK, "new", v)
}

// maxUpload bounds one form post: every attachment at its limit plus text.
const maxUpload = liaison.MaxAttachments*liaison.MaxAttachment + 1<<20

func (s *Server) readAttachments(r *http.Request) ([]liaison.NewAttachment, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var out []liaison.NewAttachment
	for _, fh := range r.MultipartForm.File["attachments"] {
		if fh.Size == 0 && fh.Filename == "" {
			continue
		}
		if fh.Size > liaison.MaxAttachment {
			return nil, &fault.FieldError{Field: "attachments", Code: "attachment_too_large"}
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("reading upload: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(f, liaison.MaxAttachment+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading upload: %w", err)
		}
		out = append(out, liaison.NewAttachment{Name: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data})
	}
	return out, nil
}

func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return r.ParseMultipartForm(32 << 20)
	}
	return r.ParseForm()
}

func (s *Server) createThread(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, newThreadData{Agencies: auth.Agencies[s.n.Link.Partner()], Priorities: liaison.Priorities})
	if err := s.parseForm(w, r); err != nil {
		v.Error = v.T("error.upload_too_large")
		s.render(w, r, http.StatusRequestEntityTooLarge, "new", v)
		return
	}
	v.Form = map[string]string{"subject": r.FormValue("subject"), "priority": r.FormValue("priority"), "to_agency": r.FormValue("to_agency"), "body": r.FormValue("body")}
	atts, err := s.readAttachments(r)
	var t *liaison.Thread
	if err == nil {
		t, err = liaison.Of(s.n).Start(r.Context(), u, liaison.NewThread{
			Subject: r.FormValue("subject"), Priority: r.FormValue("priority"), ToAgency: r.FormValue("to_agency"),
			Body: r.FormValue("body"), ReleasableTo: r.Form["releasable_to"], Attachments: atts,
		})
	}
	var fe *fault.FieldError
	switch {
	case errors.As(err, &fe):
		v.Error = s.fieldError(v, fe.Field, fe.Code)
		s.render(w, r, http.StatusUnprocessableEntity, "new", v)
	case errors.Is(err, liaison.ErrForbidden):
		s.forbidden(w, r, u)
	case err != nil:
		s.fail(w, r, u, err)
	default:
		http.Redirect(w, r, "/threads/"+t.ID, http.StatusSeeOther)
	}
}

func (s *Server) threadPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id := r.PathValue("id")
	// Opening a thread is reading it; a page loaded from another site is not.
	if site := r.Header.Get("Sec-Fetch-Site"); site == "" || site == "same-origin" || site == "none" {
		if _, err := liaison.Of(s.n).MarkRead(r.Context(), u, id); err != nil && !errors.Is(err, liaison.ErrNotFound) {
			s.fail(w, r, u, err)
			return
		}
	}
	t, err := liaison.Of(s.n).Get(r.Context(), u, id)
	switch {
	case errors.Is(err, liaison.ErrNotFound):
		s.notFound(w, r, u)
	case err != nil:
		s.fail(w, r, u, err)
	default:
		v := s.newView(r, u, t)
		v.Title = t.Subject
		v.Flash = r.URL.Query().Get("flash")
		s.render(w, r, http.StatusOK, "thread", v)
	}
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id := r.PathValue("id")
	if err := s.parseForm(w, r); err != nil {
		v := s.newView(r, u, nil)
		v.Error = v.T("error.upload_too_large")
		s.render(w, r, http.StatusRequestEntityTooLarge, "error", v)
		return
	}
	atts, err := s.readAttachments(r)
	if err == nil {
		_, err = liaison.Of(s.n).Reply(r.Context(), u, id, r.FormValue("body"), atts)
	}
	var fe *fault.FieldError
	switch {
	case errors.As(err, &fe):
		t, gerr := liaison.Of(s.n).Get(r.Context(), u, id)
		if gerr != nil {
			s.notFound(w, r, u)
			return
		}
		v := s.newView(r, u, t)
		v.Error = s.fieldError(v, fe.Field, fe.Code)
		v.Form = map[string]string{"body": r.FormValue("body")}
		s.render(w, r, http.StatusUnprocessableEntity, "thread", v)
	case errors.Is(err, liaison.ErrNotFound):
		s.notFound(w, r, u)
	case errors.Is(err, liaison.ErrForbidden):
		s.forbidden(w, r, u)
	case err != nil:
		s.fail(w, r, u, err)
	default:
		http.Redirect(w, r, "/threads/"+id, http.StatusSeeOther)
	}
}

func (s *Server) attachment(w http.ResponseWriter, r *http.Request, u *auth.User) {
	a, data, err := liaison.Of(s.n).AttachmentData(r.Context(), u, r.PathValue("sha"))
	switch {
	case errors.Is(err, liaison.ErrNotFound):
		s.notFound(w, r, u)
	case errors.Is(err, liaison.ErrForbidden):
		s.forbidden(w, r, u)
	case err != nil:
		s.fail(w, r, u, err)
	default:
		input.ServeDownload(w, a.Name, a.SHA256, data)
	}
}
