package api

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"time"

	"puente/internal/auth"
	"puente/internal/border"
	"puente/internal/fault"
	"puente/internal/operations"
)

func init() {
	Register(operations.Name, func(a *Env) []Route {
		return []Route{
			{Pattern: "GET /api/v1/operations/border", Handle: a.opsBorder, Permission: auth.OpsRead},
			{Pattern: "GET /api/v1/operations", Handle: a.opsList, Permission: auth.OpsRead},
			{Pattern: "POST /api/v1/operations", Handle: a.opsCreate, Permission: auth.OpsWrite},
			{Pattern: "GET /api/v1/operations/{id}", Handle: a.opsGet, Permission: auth.OpsRead},
			{Pattern: "POST /api/v1/operations/{id}/release", Handle: a.opsRelease, Permission: auth.OpsRelease},
			{Pattern: "POST /api/v1/operations/{id}/steps", Handle: a.opsStep, Permission: auth.OpsWrite},
			{Pattern: "GET /api/v1/operations/{id}/reports", Handle: a.opsReports, Permission: auth.OpsRead},
			{Pattern: "POST /api/v1/operations/{id}/reports", Handle: a.opsReport, Permission: auth.OpsReport},
			{Pattern: "GET /api/v1/operations/conflicts", Handle: a.opsConflicts, Permission: auth.OpsRead},
			{Pattern: "POST /api/v1/operations/conflicts/{id}/resolve", Handle: a.opsResolve, Permission: auth.OpsWrite},
			{Pattern: "GET /api/v1/operations/board", Handle: a.opsBoard, Permission: auth.OpsRead},
			{Pattern: "GET /api/v1/operations/cot", Handle: a.opsCot, Permission: auth.OpsRead},
			{Pattern: "POST /api/v1/operations/cot", Handle: a.opsCotIn, Permission: auth.OpsReport, MaxBody: operations.MaxCot},
			{Pattern: "GET /api/v1/operations/cot/stream", Handle: a.opsCotStream, Permission: auth.OpsRead},
			{Pattern: "GET /api/v1/operations/figures", Handle: a.opsFigures, Permission: auth.OpsRead},
		}
	})
}

func (a *Env) opsBorder(w http.ResponseWriter, r *http.Request, u *auth.User) {
	WriteJSON(w, http.StatusOK, map[string]any{"sectors": border.Sectors, "states": border.States, "pairs": border.Pairs, "crossings": border.Crossings,
		"agencies": operations.OpsAgencies, "objectives": operations.Objectives, "unit_statuses": operations.UnitStatuses,
		"deconfliction": operations.Of(a.n).Deconfliction()})
}

func (a *Env) opsList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query()
	ops, err := operations.Of(a.n).List(r.Context(), u, operations.ListFilter{Status: q.Get("status"), Kind: q.Get("kind")})
	if ops == nil {
		ops = []*operations.Operation{}
	}
	a.Reply(w, r, http.StatusOK, map[string]any{"operations": ops}, err)
}

func (a *Env) opsCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var d operations.Draft
	if !decode(w, r, &d) {
		return
	}
	op, err := operations.Of(a.n).Create(r.Context(), u, d)
	a.Reply(w, r, http.StatusCreated, op, err)
}

// opView is an operation with its conflicts and newest reports.
type opView struct {
	*operations.Operation
	Conflicts []*operations.Conflict `json:"conflicts"`
	Reports   []*operations.Report   `json:"reports"`
}

func (a *Env) opsGet(w http.ResponseWriter, r *http.Request, u *auth.User) {
	svc := operations.Of(a.n)
	op, err := svc.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	v := opView{Operation: op, Conflicts: []*operations.Conflict{}, Reports: []*operations.Report{}}
	if cs, err := svc.Conflicts(r.Context(), u, op.ID); err == nil && cs != nil {
		v.Conflicts = cs
	}
	if rs, err := svc.Reports(r.Context(), u, op.ID, 50); err == nil && rs != nil {
		v.Reports = rs
	}
	WriteJSON(w, http.StatusOK, v)
}

func (a *Env) opsRelease(w http.ResponseWriter, r *http.Request, u *auth.User) {
	op, err := operations.Of(a.n).Release(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, op, err)
}

// stepIn is a step and what it carries.
type stepIn struct {
	Step string `json:"step"`
	operations.Answer
}

func (a *Env) opsStep(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in stepIn
	if !decode(w, r, &in) {
		return
	}
	op, err := operations.Of(a.n).Take(r.Context(), u, r.PathValue("id"), in.Step, in.Answer)
	a.Reply(w, r, http.StatusOK, op, err)
}

func (a *Env) opsReports(w http.ResponseWriter, r *http.Request, u *auth.User) {
	rs, err := operations.Of(a.n).Reports(r.Context(), u, r.PathValue("id"), 500)
	if rs == nil {
		rs = []*operations.Report{}
	}
	a.Reply(w, r, http.StatusOK, map[string]any{"reports": rs}, err)
}

func (a *Env) opsReport(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in operations.NewReport
	if !decode(w, r, &in) {
		return
	}
	rep, err := operations.Of(a.n).Report(r.Context(), u, r.PathValue("id"), in)
	a.Reply(w, r, http.StatusCreated, rep, err)
}

func (a *Env) opsConflicts(w http.ResponseWriter, r *http.Request, u *auth.User) {
	cs, err := operations.Of(a.n).OpenConflicts(r.Context(), u)
	if cs == nil {
		cs = []*operations.Conflict{}
	}
	a.Reply(w, r, http.StatusOK, map[string]any{"conflicts": cs}, err)
}

func (a *Env) opsResolve(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Resolution string `json:"resolution"`
	}
	if !decode(w, r, &in) {
		return
	}
	err := operations.Of(a.n).Resolve(r.Context(), u, r.PathValue("id"), in.Resolution)
	a.Reply(w, r, http.StatusOK, map[string]string{"status": "resolved"}, err)
}

func (a *Env) opsBoard(w http.ResponseWriter, r *http.Request, u *auth.User) {
	svc := operations.Of(a.n)
	ctx := r.Context()
	ops, err := svc.List(ctx, u, operations.BoardWindow(time.Now()))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	rs, err := svc.Latest(ctx, u)
	if rs == nil {
		rs = []*operations.Report{}
	}
	if ops == nil {
		ops = []*operations.Operation{}
	}
	a.Reply(w, r, http.StatusOK, map[string]any{"operations": ops, "units": rs}, err)
}

func (a *Env) opsCot(w http.ResponseWriter, r *http.Request, u *auth.User) {
	rs, err := operations.Of(a.n).Latest(r.Context(), u)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Cache-Control", "no-store")
	_ = operations.EncodeCot(w, rs)
}

// opsCotIn takes a CoT feed: each event's position becomes its unit's
// status report. The whole document is checked first: one bad event
// refuses it all and stores nothing.
func (a *Env) opsCotIn(w http.ResponseWriter, r *http.Request, u *auth.User) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		writeErr(w, Error{Code: CodeTooLarge, Message: fmt.Sprintf("a CoT document is at most %d bytes", operations.MaxCot)})
		return
	}
	evs, err := operations.DecodeCot(data)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	svc := operations.Of(a.n)
	var out []*operations.Report
	for i, e := range evs {
		opID, in := operations.ReportOf(e, r.URL.Query().Get("operation"))
		if opID == "" {
			a.Fail(w, r, fault.Field(fmt.Sprintf("cot.event[%d].uid", i), "no_operation"))
			return
		}
		rep, err := svc.Report(r.Context(), u, opID, in)
		if err != nil {
			a.Fail(w, r, err)
			return
		}
		out = append(out, rep)
	}
	WriteJSON(w, http.StatusCreated, map[string]any{"reports": out})
}

// opsCotStream streams the board as CoT events: every unit's newest
// position now, then each new one as it is reported, on either side, for
// a TAK server or client on the operator's network.
func (a *Env) opsCotStream(w http.ResponseWriter, r *http.Request, u *auth.User) {
	svc := operations.Of(a.n)
	rc := http.NewResponseController(w)
	ch, _, stop := a.n.Hub.Subscribe()
	defer stop()
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	sent := map[string]bool{}
	send := func() bool {
		rs, err := svc.Latest(r.Context(), u)
		if err != nil {
			return false
		}
		enc := xml.NewEncoder(w)
		for _, rep := range rs {
			if sent[rep.ID] {
				continue
			}
			sent[rep.ID] = true
			if err := enc.Encode(operations.CotOf(rep)); err != nil {
				return false
			}
			if _, err := io.WriteString(w, "\n"); err != nil {
				return false
			}
		}
		if len(sent) > 100_000 {
			clear(sent)
		}
		return rc.Flush() == nil
	}
	if !send() {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			if _, err := io.WriteString(w, "\n"); err != nil || rc.Flush() != nil {
				return
			}
		case e := <-ch:
			if e.Topic == operations.Name && e.Key == "board" && !send() {
				return
			}
		}
	}
}

func (a *Env) opsFigures(w http.ResponseWriter, r *http.Request, u *auth.User) {
	f, err := operations.Of(a.n).Figures(r.Context())
	a.Reply(w, r, http.StatusOK, f, err)
}
