package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"puente/internal/auth"
	"puente/internal/names"
	"puente/internal/screen"
)

// MaxNameLen bounds a name to screen or compare.
const MaxNameLen = 300

// ScreenRequest reads and checks a screening query from a request's
// query string: name (required), dob (a birth year), limit (1 to 50).
func ScreenRequest(r *http.Request) (screen.Query, *Error) {
	v := r.URL.Query()
	q := screen.Query{Name: strings.TrimSpace(v.Get("name")), Limit: 10}
	switch {
	case q.Name == "":
		return q, &Error{Code: CodeInvalid, Field: "name", Reason: "required", Message: "give a name to screen"}
	case len(q.Name) > MaxNameLen:
		return q, &Error{Code: CodeInvalid, Field: "name", Reason: "too_long", Message: "a name has at most 300 bytes"}
	case len(names.Parse(q.Name).Tokens) == 0:
		return q, &Error{Code: CodeInvalid, Field: "name", Reason: "no_letters", Message: "the name has no letters or digits"}
	}
	if s := v.Get("dob"); s != "" {
		y, err := strconv.Atoi(s)
		if err != nil || y < 1900 || y > 2100 {
			return q, &Error{Code: CodeInvalid, Field: "dob", Reason: "not_a_year", Message: "dob is a birth year such as 1948"}
		}
		q.Year = y
	}
	switch t := v.Get("type"); t {
	case "", "individual", "entity", "vessel", "aircraft":
		q.Type = t
	default:
		return q, &Error{Code: CodeInvalid, Field: "type", Reason: "invalid_type", Message: "type is individual, entity, vessel or aircraft"}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 50 {
			return q, &Error{Code: CodeInvalid, Field: "limit", Reason: "out_of_range", Message: "limit is between 1 and 50"}
		}
		q.Limit = n
	}
	return q, nil
}

func (a *Env) screen(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.Screen) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role does not screen names"})
		return
	}
	q, e := ScreenRequest(r)
	if e != nil {
		writeErr(w, *e)
		return
	}
	s, err := a.n.Lists.Screener()
	if errors.Is(err, screen.ErrNoLists) {
		writeErr(w, Error{Code: CodeConflict, Reason: "no_lists", Message: err.Error()})
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	cs := screen.Visible(s.Screen(q), u.Agency, u.Can(auth.ReadAll))
	if cs == nil {
		cs = []screen.Candidate{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"query": q.Name, "dob": q.Year, "threshold": names.DefaultThreshold, "candidates": cs})
}

func (a *Env) compareNames(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !u.Can(auth.Screen) {
		writeErr(w, Error{Code: CodeForbidden, Message: "your role does not compare names"})
		return
	}
	var in struct {
		Name1 string `json:"name1"`
		Name2 string `json:"name2"`
		Type1 string `json:"type1"`
		Type2 string `json:"type2"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil {
		writeErr(w, Error{Code: CodeBadRequest, Message: "send a JSON object {\"name1\": …, \"name2\": …}"})
		return
	}
	for field, v := range map[string]string{"name1": in.Name1, "name2": in.Name2} {
		if strings.TrimSpace(v) == "" || len(v) > MaxNameLen {
			writeErr(w, Error{Code: CodeInvalid, Field: field, Reason: "required", Message: field + " is a name of 1 to 300 bytes"})
			return
		}
	}
	for field, v := range map[string]string{"type1": in.Type1, "type2": in.Type2} {
		if v != "" && names.TypeOf(v) == "" {
			writeErr(w, Error{Code: CodeInvalid, Field: field, Reason: "invalid_type", Message: field + " is person, company, organization, vessel or aircraft"})
			return
		}
	}
	res := names.Compare(names.ParseTyped(in.Name1, in.Type1), names.ParseTyped(in.Name2, in.Type2), nil)
	WriteJSON(w, http.StatusOK, map[string]any{"name1": in.Name1, "name2": in.Name2, "score": res.Score, "match": res.Match,
		"threshold": names.DefaultThreshold, "explanation": res.Parts})
}
