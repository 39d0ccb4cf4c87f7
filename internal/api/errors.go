package api

import (
	"net/http"

	"puente/internal/fault"
)

// Error codes. They are stable: scripts may branch on them. The codes of
// the five kinds come from fault.Code; the rest are the API's own.
const (
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not_found"
	CodeBadRequest   = "bad_request"
	CodeInvalid      = "invalid"
	CodeConflict     = "conflict"
	CodeUnavailable  = "unavailable"
	CodeTooLarge     = "too_large"
	CodeInternal     = "internal"
)

var statusOf = map[string]int{
	CodeUnauthorized: http.StatusUnauthorized, CodeForbidden: http.StatusForbidden, CodeNotFound: http.StatusNotFound,
	CodeBadRequest: http.StatusBadRequest, CodeInvalid: http.StatusUnprocessableEntity, CodeConflict: http.StatusConflict,
	CodeUnavailable: http.StatusTooManyRequests, CodeTooLarge: http.StatusRequestEntityTooLarge, CodeInternal: http.StatusInternalServerError,
}

// Error is the body of every error answer (the ErrorBody schema of
// openapi.json).
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// ErrorOf maps an error of the shared vocabulary (package fault) onto the
// API's error, or returns nil for an unexpected error, which must be
// logged and never shown.
func ErrorOf(err error) *Error {
	d, ok := fault.Describe(err)
	if !ok {
		return nil
	}
	return &Error{Code: d.Code, Reason: d.Reason, Field: d.Field, Message: d.Message}
}

func writeErr(w http.ResponseWriter, e Error) {
	WriteJSON(w, statusOf[e.Code], map[string]Error{"error": e})
}

// fail answers with err mapped through ErrorOf, or as an internal error
// that is logged and never shown.
func (a *Env) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if e := ErrorOf(err); e != nil {
		writeErr(w, *e)
		return
	}
	a.internal(w, r, err)
}

// internal logs an unexpected error; the client learns only that it
// happened.
func (a *Env) internal(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeErr(w, Error{Code: CodeInternal, Message: "the node failed to handle the request; the error has been logged"})
}

// Reply answers with v as JSON under status, or with err when it is set:
// the tail every handler that calls one service method shares.
func (a *Env) Reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	WriteJSON(w, status, v)
}
