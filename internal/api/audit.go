package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"puente/internal/auth"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

func (a *Env) canAudit(w http.ResponseWriter, u *auth.User) bool {
	if !u.Can(auth.AuditLog) {
		writeErr(w, Error{Code: CodeForbidden, Message: "only auditors see the transparency log"})
		return false
	}
	return true
}

func (a *Env) auditStatus(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !a.canAudit(w, u) {
		return
	}
	st, err := a.n.Trust.Status(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if st.OpenAlarms == nil {
		st.OpenAlarms = []trustlog.Alarm{}
	}
	WriteJSON(w, http.StatusOK, st)
}

// LogEntry is a log row for the API: the fields, the index and the
// canonical text that is hashed.
type LogEntry struct {
	Index  int64     `json:"index"`
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Actor  string    `json:"actor"`
	Object string    `json:"object"`
	Digest string    `json:"digest,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Text   string    `json:"text"`
}

func (a *Env) auditLog(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !a.canAudit(w, u) {
		return
	}
	f, e := ParseLogFilter(r)
	if e != nil {
		writeErr(w, *e)
		return
	}
	rows, err := trustlog.Rows(r.Context(), a.n.DB.Read(), f)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := make([]LogEntry, 0, len(rows))
	for _, row := range rows {
		out = append(out, EntryOf(row))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"entries": out})
}

// EntryOf turns a stored row into its API form.
func EntryOf(row trustlog.Row) LogEntry {
	e := LogEntry{Index: row.Index, At: row.At, Kind: row.Kind, Actor: row.Actor, Object: row.Object, Text: string(row.Data)}
	if p, err := trustlog.ParseEntry(row.Data); err == nil {
		e.Digest, e.Detail = p.Digest, p.Detail
	}
	return e
}

// ParseLogFilter reads the log browser's filters from a query string:
// kind, actor, object, since (a day or an RFC 3339 time), before (an
// index) and limit (at most 500, 100 by default).
func ParseLogFilter(r *http.Request) (trustlog.Filter, *Error) {
	q := r.URL.Query()
	f := trustlog.Filter{Kind: q.Get("kind"), Actor: q.Get("actor"), Object: q.Get("object"), Limit: 100, Desc: true}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			t, err = time.Parse(time.RFC3339, v)
		}
		if err != nil {
			return f, &Error{Code: CodeBadRequest, Field: "since", Message: "since is a day (2026-11-25) or an RFC 3339 time"}
		}
		f.Since = t
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f, &Error{Code: CodeBadRequest, Field: "before", Message: "before is a log index"}
		}
		f.Before = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, &Error{Code: CodeBadRequest, Field: "limit", Message: "limit is between 1 and 500"}
		}
		f.Limit = n
	}
	return f, nil
}

func (a *Env) auditAlarms(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !a.canAudit(w, u) {
		return
	}
	as, err := trustlog.Alarms(r.Context(), a.n.DB.Read(), r.URL.Query().Get("open") == "true", 500)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if as == nil {
		as = []trustlog.Alarm{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"alarms": as})
}

func (a *Env) ackAlarm(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !a.canAudit(w, u) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeErr(w, Error{Code: CodeNotFound, Message: "no such alarm"})
		return
	}
	err = a.n.Trust.Acknowledge(r.Context(), id, "user:"+u.Username+"@"+u.Agency)
	if errors.Is(err, store.ErrNotFound) {
		writeErr(w, Error{Code: CodeNotFound, Message: "no such open alarm"})
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *Env) accessReports(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if !a.canAudit(w, u) {
		return
	}
	var ids []string
	if id := r.URL.Query().Get("envelope"); id != "" {
		ids = []string{id}
	}
	rs, err := trust.Reports(r.Context(), a.n.DB.Read(), ids, 500)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if rs == nil {
		rs = []trust.Report{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"reports": rs})
}
