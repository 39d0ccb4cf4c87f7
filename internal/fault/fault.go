// Package fault is the error vocabulary every layer of a node shares: five
// sentinel kinds (not found, forbidden, conflict, invalid, unavailable), a
// field error that names what is wrong with one input, and reasons with a
// stable code. Domain packages wrap these; the API and the web pages map
// them onto an HTTP status and a translated message in one table each, so
// no layer has to know another's error types.
package fault

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The kinds. Test with errors.Is; every error of a domain package that a
// user may cause wraps exactly one of them.
var (
	// ErrNotFound: the thing does not exist, or is not visible to the
	// user (the two are never told apart).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the user's role, agency or the caveats forbid it.
	ErrForbidden = errors.New("not allowed")
	// ErrConflict: not possible in the current state, or already exists.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is wrong; a FieldError usually says where.
	ErrInvalid = errors.New("invalid")
	// ErrUnavailable: something the action needs is missing or used up
	// for now (a quota, a list, the partner's filter); trying later may
	// work.
	ErrUnavailable = errors.New("unavailable")
)

// kinds lists the sentinels with their HTTP status and stable API code.
var kinds = []struct {
	err    error
	status int
	code   string
}{
	{ErrNotFound, http.StatusNotFound, "not_found"},
	{ErrForbidden, http.StatusForbidden, "forbidden"},
	{ErrConflict, http.StatusConflict, "conflict"},
	{ErrInvalid, http.StatusUnprocessableEntity, "invalid"},
	{ErrUnavailable, http.StatusTooManyRequests, "unavailable"},
}

// Status is the HTTP status for err: the status of the kind it wraps, or
// 500 for an error that wraps none (an unexpected failure).
func Status(err error) int {
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.status
		}
	}
	return http.StatusInternalServerError
}

// Code is the stable API code of err's kind ("not_found", "forbidden",
// "conflict", "invalid", "unavailable"), or "internal".
func Code(err error) string {
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.code
		}
	}
	return "internal"
}

// Known reports whether err wraps one of the kinds, that is whether a user
// may be told about it; an unknown error is logged and shown as internal.
func Known(err error) bool { return Status(err) != http.StatusInternalServerError }

// Reason is an error of one kind with a stable reason code (for scripts
// and for translation, as "error.<reason>") and an English message.
type Reason struct {
	Kind    error
	Code    string
	Message string
}

// New returns a reason of kind with code and message.
func New(kind error, code, message string) *Reason {
	return &Reason{Kind: kind, Code: code, Message: message}
}

func (r *Reason) Error() string { return r.Message }
func (r *Reason) Unwrap() error { return r.Kind }

// ReasonOf returns the code of the first Reason or FieldError in err's
// chain, or "".
func ReasonOf(err error) string {
	var r *Reason
	if errors.As(err, &r) {
		return r.Code
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Code
	}
	return ""
}

// FieldError names the input field that is wrong and a stable code for
// why, such as {"caveats.releasable_to", "unknown_agency"}. Err, when set,
// is the cause (for example an identifier check), kept for errors.As.
type FieldError struct {
	Field string
	Code  string
	Err   error
}

// Field returns a FieldError for field with code.
func Field(field, code string) *FieldError { return &FieldError{Field: field, Code: code} }

func (e *FieldError) Error() string {
	if e.Err != nil {
		return e.Field + ": " + e.Err.Error()
	}
	return e.Field + ": " + e.Code
}

// Unwrap makes every FieldError an ErrInvalid, and keeps its cause.
func (e *FieldError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalid, e.Err}
	}
	return []error{ErrInvalid}
}

// Located is an error that knows where in an input it happened, such as
// an imported file's line and column or element path.
type Located interface {
	error
	Where() string
}

// Detail is what a user or a script may learn of an error: its kind's
// code, its reason code, the field or place, and an English message.
type Detail struct {
	Code    string
	Reason  string
	Field   string
	Message string
}

// generic is the message of a kind when the error carries no reason.
var generic = map[string]string{
	"not_found":   "not found, or not visible to your agency",
	"forbidden":   "your role or agency does not allow this",
	"conflict":    "not possible in the record's current status",
	"invalid":     "the request is not valid",
	"unavailable": "not available now; try again later",
}

// Describe returns what may be told of err, or false for an unexpected
// error, which must be logged and shown only as an internal failure.
func Describe(err error) (Detail, bool) {
	if err == nil || !Known(err) {
		return Detail{}, false
	}
	d := Detail{Code: Code(err), Reason: ReasonOf(err)}
	var loc Located
	var fe *FieldError
	var re *Reason
	switch {
	case errors.As(err, &loc):
		d.Reason, d.Field, d.Message = "import", loc.Where(), loc.Error()
	case errors.As(err, &fe):
		d.Field = fe.Field
		d.Message = fmt.Sprintf("field %s: %s", fe.Field, strings.ReplaceAll(strings.TrimPrefix(fe.Code, "ident."), "_", " "))
		if fe.Err != nil && !errors.Is(fe.Err, ErrConflict) {
			d.Message = fe.Error()
		}
	case errors.As(err, &re):
		d.Message = re.Message
	default:
		d.Message = generic[d.Code]
	}
	return d, true
}
