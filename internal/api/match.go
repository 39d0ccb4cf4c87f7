package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"puente/internal/auth"
	"puente/internal/ident"
	"puente/internal/match"
)

// MatchError turns a lookup or import error into an API error, or nil for
// an unexpected one.
func MatchError(err error) *Error {
	var fe *match.FieldError
	if errors.As(err, &fe) {
		e := &Error{Code: CodeInvalid, Field: fe.Field, Reason: "invalid", Message: fe.Error()}
		var ie *ident.Error
		if errors.As(err, &ie) {
			e.Reason = ie.Code
		}
		return e
	}
	switch {
	case errors.Is(err, match.ErrNoKeys):
		return &Error{Code: CodeInvalid, Reason: "no_keys", Message: err.Error()}
	case errors.Is(err, match.ErrNoFilter):
		return &Error{Code: CodeConflict, Reason: "no_filter", Message: err.Error()}
	case errors.Is(err, match.ErrStale):
		return &Error{Code: CodeConflict, Reason: "stale_filter", Message: err.Error()}
	case errors.Is(err, match.ErrQuota):
		return &Error{Code: CodeQuota, Reason: "quota", Message: err.Error()}
	}
	return nil
}

func (a *api) matchLookup(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.Screen) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role does not look subjects up"})
		return
	}
	var sub match.Subject
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&sub); err != nil {
		writeErr(w, Error{Code: CodeBadRequest, Message: "send the subject as a JSON object"})
		return
	}
	res, err := a.n.Match.Lookup(r.Context(), "user:"+u.Username+"@"+u.Agency, sub)
	if e := MatchError(err); e != nil {
		writeErr(w, *e)
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *api) importSubjects(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.Screen) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role does not manage the subject index"})
		return
	}
	var subs []match.Subject
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20)).Decode(&subs); err != nil || len(subs) == 0 {
		writeErr(w, Error{Code: CodeBadRequest, Message: "send a JSON array of subjects"})
		return
	}
	n, err := a.n.Match.Import(r.Context(), subs)
	if e := MatchError(err); e != nil {
		writeErr(w, *e)
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int{"imported": n})
}

func (a *api) matchUsage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.Screen) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role does not see matching figures"})
		return
	}
	us, err := a.n.Match.TodayUsage(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, us)
}
