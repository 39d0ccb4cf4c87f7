package api

import (
	"net/http"
	"time"

	"puente/internal/auth"
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/seizures"
)

func init() {
	Register(seizures.Name, func(a *Env) []Route {
		return []Route{
			{Pattern: "GET /api/v1/seizures", Handle: a.szList, Permission: auth.SeizRead},
			{Pattern: "POST /api/v1/seizures", Handle: a.szCreate, Permission: auth.SeizWrite},
			{Pattern: "POST /api/v1/seizures/import", Handle: a.szImport, Permission: auth.SeizWrite, MaxBody: seizures.MaxCSVBytes},
			{Pattern: "GET /api/v1/seizures/figures", Handle: a.szFigures, Permission: auth.SeizRead},
			{Pattern: "GET /api/v1/seizures/totals", Handle: a.szTotals, Permission: auth.SeizRead},
			{Pattern: "GET /api/v1/seizures/export/unodc", Handle: a.szExport, Permission: auth.SeizRead},
			{Pattern: "POST /api/v1/seizures/release", Handle: a.szRelease, Permission: auth.SeizRelease},
			{Pattern: "GET /api/v1/seizures/{id}", Handle: a.szGet, Permission: auth.SeizRead},
			{Pattern: "POST /api/v1/seizures/{id}/submit", Handle: a.szSubmit, Permission: auth.SeizWrite},
			{Pattern: "POST /api/v1/seizures/{id}/return", Handle: a.szReturn, Permission: auth.SeizRelease},
		}
	})
}

func (a *Env) szList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query()
	list, err := seizures.Of(a.n).List(r.Context(), u, seizures.Filter{Side: q.Get("side"), Status: q.Get("status"), Pair: q.Get("pair")})
	if list == nil {
		list = []*seizures.Seizure{}
	}
	a.Reply(w, r, http.StatusOK, map[string]any{"seizures": list}, err)
}

func (a *Env) szCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in seizures.Seizure
	if !decode(w, r, &in) {
		return
	}
	sz, err := seizures.Of(a.n).Record(r.Context(), u, in)
	a.Reply(w, r, http.StatusCreated, sz, err)
}

func (a *Env) szImport(w http.ResponseWriter, r *http.Request, u *auth.User) {
	n, err := seizures.Of(a.n).Import(r.Context(), u, r.Body)
	a.Reply(w, r, http.StatusCreated, map[string]int{"imported": n}, err)
}

// szView is a seizure with the other side's seizures that look like it.
type szView struct {
	*seizures.Seizure
	Badges []seizures.Badge `json:"badges"`
}

func (a *Env) szGet(w http.ResponseWriter, r *http.Request, u *auth.User) {
	svc := seizures.Of(a.n)
	sz, err := svc.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	b, err := svc.Badges(r.Context(), u, sz)
	if b == nil {
		b = []seizures.Badge{}
	}
	a.Reply(w, r, http.StatusOK, szView{Seizure: sz, Badges: b}, err)
}

func (a *Env) szSubmit(w http.ResponseWriter, r *http.Request, u *auth.User) {
	sz, err := seizures.Of(a.n).Submit(r.Context(), u, r.PathValue("id"))
	a.Reply(w, r, http.StatusOK, sz, err)
}

func (a *Env) szReturn(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		Reason string `json:"reason"`
	}
	if !decode(w, r, &in) {
		return
	}
	sz, err := seizures.Of(a.n).Return(r.Context(), u, r.PathValue("id"), in.Reason)
	a.Reply(w, r, http.StatusOK, sz, err)
}

func (a *Env) szRelease(w http.ResponseWriter, r *http.Request, u *auth.User) {
	var in struct {
		IDs     []string         `json:"ids"`
		To      []string         `json:"to"`
		Caveats *caveats.Caveats `json:"caveats"`
	}
	if !decode(w, r, &in) {
		return
	}
	list, err := seizures.Of(a.n).Release(r.Context(), u, in.IDs, in.To, in.Caveats)
	a.Reply(w, r, http.StatusOK, map[string]any{"released": list}, err)
}

func (a *Env) szFigures(w http.ResponseWriter, r *http.Request, u *auth.User) {
	f, err := seizures.Of(a.n).Figures(r.Context())
	a.Reply(w, r, http.StatusOK, f, err)
}

func (a *Env) szTotals(w http.ResponseWriter, r *http.Request, u *auth.User) {
	q := r.URL.Query()
	t, err := seizures.Of(a.n).Totals(r.Context(), u, q.Get("scope"), q.Get("from"), q.Get("to"))
	if t == nil {
		t = []seizures.Total{}
	}
	a.Reply(w, r, http.StatusOK, map[string]any{"totals": t}, err)
}

func (a *Env) szExport(w http.ResponseWriter, r *http.Request, u *auth.User) {
	from, to, err := yearRange(r.URL.Query().Get("year"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	if !u.Can(auth.ExportPartnerData) {
		a.Fail(w, r, seizures.ErrForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="seizures-unodc-`+from.Format("2006")+`.csv"`)
	if err := seizures.Of(a.n).ExportUNODC(r.Context(), u, w, from, to); err != nil {
		a.log.Error("exporting seizures", "err", err)
	}
}

// yearRange reads "2026" as that calendar year in UTC ("" is this year).
func yearRange(y string) (time.Time, time.Time, error) {
	if y == "" {
		y = time.Now().UTC().Format("2006")
	}
	t, err := time.Parse("2006", y)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return time.Time{}, time.Time{}, fault.Field("year", "invalid_year")
	}
	return t, t.AddDate(1, 0, 0), nil
}
