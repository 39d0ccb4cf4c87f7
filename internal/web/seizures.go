package web

import (
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/border"
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/operations"
	"puente/internal/seizures"
)

func init() {
	Register(seizures.Name, func(s *Server) Face {
		return Face{
			Nav: []NavItem{
				{Path: "/seizures", ID: "nav-seizures", Label: "nav.seizures", Permission: auth.SeizRead},
				{Path: "/seizures/dashboard", ID: "nav-seizure-figures", Label: "nav.seizure_figures", Permission: auth.SeizRead},
			},
			LogKinds: []string{seizures.KindLogImported, seizures.KindLogReceived, seizures.KindLogRecorded, seizures.KindLogReleased, seizures.KindLogReturned, seizures.KindLogSubmitted},
			ErrorKey: "sz.error.", FieldKey: "sz.field.",
			Keys: slices.Concat(
				keysOf("sz.status.", seizures.Statuses...),
				keysOf("sz.item.", seizures.ItemKinds...),
				keysOf("sz.drug.", seizures.Drugs...),
				keysOf("sz.unit.", seizures.Units...),
				keysOf("sz.conveyance.", seizures.Conveyances...),
				keysOf("sz.concealment.", seizures.Concealments...),
				keysOf("sz.firearm.", seizures.FirearmTypes...),
				keysOf("sz.other.", seizures.OtherKinds...),
				keysOf("sz.test.", seizures.Tests...),
				keysOf("sz.flash.", szFlashKeys...),
				keysOf("sz.why.", "op", "serial", "plate", "vin", "place_window"),
				keysOf("sz.chart.", szCharts...),
				keysOf("sz.scope.", seizures.ScopeShared, seizures.ScopeAll),
				keysOf("sz.field.", szFields...),
				[]string{"sz.work.release"},
			),
			Pages: []Page{
				{Pattern: "GET /seizures", Permission: auth.SeizRead, Handle: s.szList},
				{Pattern: "GET /seizures/new", Permission: auth.SeizWrite, Handle: s.szNew},
				{Pattern: "POST /seizures", Permission: auth.SeizWrite, Handle: s.szCreate},
				{Pattern: "POST /seizures/import", Permission: auth.SeizWrite, MaxBody: seizures.MaxCSVBytes + 1<<20, Handle: s.szImport},
				{Pattern: "POST /seizures/release", Permission: auth.SeizRelease, Handle: s.szReleaseBatch},
				{Pattern: "GET /seizures/dashboard", Permission: auth.SeizRead, Handle: s.szDashboard},
				{Pattern: "GET /seizures/dashboard.csv", Permission: auth.SeizRead, Handle: s.szDashboardCSV},
				{Pattern: "GET /seizures/s/{id}", Permission: auth.SeizRead, Handle: s.szView},
				{Pattern: "POST /seizures/s/{id}/{action}", Permission: auth.SeizRead, Handle: s.szAction},
			},
		}
	})
}

var szFlashKeys = []string{"recorded", "imported", "submitted", "returned", "released"}

// szFields are the fields a seizure error may name (and the CSV columns).
var szFields = []string{"at", "position", "lat", "lon", "pair", "crossing", "place", "agency", "unit", "operation_id", "conveyance", "concealment",
	"plate", "vin", "route_from", "route_to", "detained", "items", "item", "kind", "drug", "name", "quantity", "unit_of_measure", "test",
	"type", "firearm_type", "make", "model", "calibre", "serial", "obliterated", "country", "importer", "count", "currency", "amount",
	"mxn_per_usd", "usd_per_unit", "rate_source", "what", "description", "ref", "notes", "reason", "to", "ids", "subjects", "year",
	"caveats", "classification", "purpose", "releasable_to", "retention_days", "file"}

// szCharts are the dashboard's charts, each with a table and a CSV.
var szCharts = []string{"drug_month", "drug_pair", "firearm_type", "calibre", "cash_month", "map"}

// szError translates a seizures error, or "" for an unexpected one.
func (s *Server) szError(v *view, err error) string {
	var le *seizures.LineError
	if errors.As(err, &le) {
		col := le.Column
		if col != "" {
			col = v.T("sz.field." + col)
		}
		return v.T("sz.error.line", "Line", le.Line, "Column", col, "Reason", v.T("sz.error."+le.Code), "Detail", le.Detail)
	}
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		v.markField(fe.Field)
		return v.T("sz.error.field", "Field", szFieldLabel(v, fe.Field), "Reason", szReason(v, fe.Code))
	}
	return describeError(v, err, "sz.error.", "wrong_status")
}

func szReason(v *view, code string) string {
	if strings.HasPrefix(code, "ident.") {
		return v.T(code)
	}
	return v.T("sz.error." + code)
}

// szFieldLabel names "items[2].quantity" as "Item 3 · Quantity".
func szFieldLabel(v *view, field string) string {
	var parts []string
	for _, p := range strings.Split(field, ".") {
		name, idx, ok := strings.Cut(p, "[")
		label := v.T("sz.field." + name)
		if ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			label += " " + strconv.Itoa(n+1)
		}
		parts = append(parts, label)
	}
	return strings.Join(parts, " · ")
}

func szFlash(v *view, r *http.Request) string { return flashOf(v, r, "sz.flash.", szFlashKeys) }

// szRow is a seizure as the list shows it.
type szRow struct {
	*seizures.Seizure
	PairName string
	Mine     bool
	Badges   int
	Summary  []string
}

func (s *Server) szRowOf(v *view, sz *seizures.Seizure, badges int) szRow {
	p, _ := border.PairByID(sz.Pair)
	return szRow{Seizure: sz, PairName: p.Name(), Mine: sz.Origin == s.n.Config.Party, Badges: badges, Summary: szSummary(v, sz)}
}

// szSummary is what a seizure holds, in a few words per kind.
func szSummary(v *view, sz *seizures.Seizure) []string {
	var out []string
	kg := sz.Kg()
	for _, d := range seizures.Drugs {
		if kg[d] > 0 {
			out = append(out, fmt.Sprintf("%s %s kg", v.T("sz.drug."+d), fmtNum(kg[d])))
		}
	}
	var guns, rounds int64
	var usd int64
	for _, it := range sz.Items {
		switch it.Kind {
		case seizures.ItemFirearm:
			guns++
		case seizures.ItemAmmunition:
			rounds += it.Count
		case seizures.ItemCash:
			usd += it.USDCents
		}
	}
	if guns > 0 {
		out = append(out, v.T("sz.sum.firearms", "Count", guns))
	}
	if rounds > 0 {
		out = append(out, v.T("sz.sum.rounds", "Count", rounds))
	}
	if usd > 0 {
		out = append(out, "USD "+fmtNum(float64(usd)/100))
	}
	return out
}

type szListData struct {
	Side, Status string
	Sides        []string
	Statuses     []string
	Rows         []szRow
	CanRelease   bool
	Agencies     []string
}

func (s *Server) szList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderSzList(w, r, u, http.StatusOK, "")
}

func (s *Server) renderSzList(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string) {
	svc := seizures.Of(s.n)
	ctx := r.Context()
	q := r.URL.Query()
	d := szListData{Side: q.Get("side"), Status: q.Get("status"), Sides: []string{svc.Self(), svc.Partner()}, Statuses: seizures.Statuses,
		CanRelease: u.Can(auth.SeizRelease) && !u.Can(auth.ReadAll), Agencies: seizures.SeizureAgencies[svc.Partner()]}
	if !slices.Contains(d.Sides, d.Side) {
		d.Side = ""
	}
	if !slices.Contains(d.Statuses, d.Status) {
		d.Status = ""
	}
	v := s.newView(r, u, nil)
	list, err := svc.List(ctx, u, seizures.Filter{Side: d.Side, Status: d.Status})
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	for _, sz := range list {
		b, err := svc.Badges(ctx, u, sz)
		if err != nil {
			s.fail(w, r, u, err)
			return
		}
		d.Rows = append(d.Rows, s.szRowOf(v, sz, len(b)))
	}
	v.Data = d
	v.Title = v.T("sz.title")
	v.Flash = szFlash(v, r)
	v.Error = errText
	s.render(w, r, status, "seizures", v)
}

type szNewData struct {
	Pairs        []border.Pair
	PairNames    map[string]string
	Crossings    []border.Crossing
	Conveyances  []string
	Concealments []string
	ItemKinds    []string
	Drugs        []string
	Units        []string
	Tests        []string
	FirearmTypes []string
	OtherKinds   []string
	Rows         []string
	Operations   []*operations.Operation
	Columns      []string
}

func (s *Server) szNewData(r *http.Request, u *auth.User) szNewData {
	d := szNewData{Pairs: border.Pairs, PairNames: map[string]string{}, Crossings: border.Crossings, Conveyances: seizures.Conveyances,
		Concealments: seizures.Concealments, ItemKinds: seizures.ItemKinds, Drugs: seizures.Drugs, Units: seizures.Units, Tests: seizures.Tests,
		FirearmTypes: seizures.FirearmTypes, OtherKinds: seizures.OtherKinds, Rows: []string{"0", "1", "2", "3", "4", "5"}, Columns: seizures.CSVColumns}
	for _, p := range border.Pairs {
		d.PairNames[p.ID] = p.Name()
	}
	if ops := operations.Of(s.n); ops != nil && u.Can(auth.OpsRead) {
		d.Operations, _ = ops.List(r.Context(), u, operations.ListFilter{})
	}
	return d
}

func (s *Server) szNew(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, s.szNewData(r, u))
	v.Title = v.T("sz.new")
	v.Form = map[string]string{"at": time.Now().UTC().Format("2006-01-02T15:04"), "i0_kind": seizures.ItemDrug, "i0_test": "field"}
	s.render(w, r, http.StatusOK, "seizures_new", v)
}

// szFromForm reads a seizure and its item rows i<N>_<field>.
func szFromForm(r *http.Request) (seizures.Seizure, error) {
	var sz seizures.Seizure
	decodeForm(r, &sz, "plate", "vin", "route_from", "route_to")
	at, err := time.Parse("2006-01-02T15:04", strings.TrimSpace(r.PostFormValue("at")))
	if err != nil {
		return sz, fault.Field("at", "invalid_time")
	}
	sz.At = at.UTC()
	num := func(name, field string) (float64, error) {
		raw := strings.TrimSpace(r.PostFormValue(name))
		if raw == "" {
			return 0, nil
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fault.Field(field, "not_a_number")
		}
		return f, nil
	}
	if sz.Lat, err = num("lat", "lat"); err != nil {
		return sz, err
	}
	if sz.Lon, err = num("lon", "lon"); err != nil {
		return sz, err
	}
	n := 0
	for i := range 6 {
		p := fmt.Sprintf("i%d_", i)
		kind := r.PostFormValue(p + "kind")
		if kind == "" {
			continue
		}
		it := seizures.Item{Kind: kind}
		get := func(f string) string { return strings.TrimSpace(r.PostFormValue(p + f)) }
		it.Drug, it.Name, it.Unit, it.Test = get("drug"), get("name"), get("unit"), get("test")
		it.Type, it.Make, it.Model, it.Calibre, it.Serial, it.Country, it.Importer = get("type"), get("make"), get("model"), get("calibre"), get("serial"), get("country"), get("importer")
		it.Obliterated = get("obliterated") != ""
		it.Currency, it.RateSource, it.What, it.Description = get("currency"), get("rate_source"), get("what"), get("description")
		field := fmt.Sprintf("items[%d].", n)
		for _, f := range []struct {
			name string
			dst  *float64
		}{{"quantity", &it.Quantity}, {"amount", &it.Amount}, {"mxn_per_usd", &it.MXNPerUSD}, {"usd_per_unit", &it.USDPerUnit}} {
			if *f.dst, err = num(p+f.name, field+f.name); err != nil {
				return sz, err
			}
		}
		c, err := num(p+"count", field+"count")
		if err != nil {
			return sz, err
		}
		it.Count = int64(c)
		// A row's kind is set by default; an empty row is skipped.
		if it == (seizures.Item{Kind: kind, Test: it.Test}) {
			continue
		}
		sz.Items = append(sz.Items, it)
		n++
	}
	return sz, nil
}

func (s *Server) szCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	in, err := szFromForm(r)
	if err == nil {
		var sz *seizures.Seizure
		sz, err = seizures.Of(s.n).Record(r.Context(), u, in)
		if err == nil {
			http.Redirect(w, r, "/seizures/s/"+url.PathEscape(sz.ID)+"?flash=sz.flash.recorded", http.StatusSeeOther)
			return
		}
	}
	v := s.newView(r, u, s.szNewData(r, u))
	v.Title = v.T("sz.new")
	v.Form = formOf(r)
	if v.Error = s.szError(v, err); v.Error == "" {
		s.fail(w, r, u, err)
		return
	}
	s.render(w, r, fault.Status(err), "seizures_new", v)
}

func (s *Server) szImport(w http.ResponseWriter, r *http.Request, u *auth.User) {
	f, _, err := r.FormFile("file")
	if err != nil {
		v := s.newView(r, u, nil)
		s.renderSzList(w, r, u, http.StatusBadRequest, v.T("sz.error.no_file"))
		return
	}
	defer f.Close()
	n, err := seizures.Of(s.n).Import(r.Context(), u, f)
	if err != nil {
		v := s.newView(r, u, nil)
		msg := s.szError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		s.renderSzList(w, r, u, fault.Status(err), msg)
		return
	}
	http.Redirect(w, r, "/seizures?flash=sz.flash.imported&n="+strconv.Itoa(n), http.StatusSeeOther)
}

func (s *Server) szReleaseBatch(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	_, err := seizures.Of(s.n).Release(r.Context(), u, r.PostForm["id"], r.PostForm["to"], nil)
	if err != nil {
		v := s.newView(r, u, nil)
		msg := s.szError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		s.renderSzList(w, r, u, fault.Status(err), msg)
		return
	}
	http.Redirect(w, r, "/seizures?flash=sz.flash.released", http.StatusSeeOther)
}

// szBadge is a badge with its reasons in words.
type szBadge struct {
	seizures.Badge
	Reasons []string
}

type szViewData struct {
	Row       szRow
	Badges    []szBadge
	Map       mapData
	Zones     []zoned
	Actions   map[string]bool
	Agencies  []string
	Caveats   caveats.Caveats
	Classes   []string
	Operation *operations.Operation
	// Trace offers a trace request of the seizure's firearms.
	Trace bool
	// Targets are detained persons who match priority targets the user
	// may see.
	Targets []TargetHit
}

func (s *Server) szView(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderSz(w, r, u, http.StatusOK, "")
}

func (s *Server) renderSz(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string) {
	svc := seizures.Of(s.n)
	ctx := r.Context()
	sz, err := svc.Get(ctx, u, r.PathValue("id"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	badges, err := svc.Badges(ctx, u, sz)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v := s.newView(r, u, nil)
	focus := [][2]float64{{sz.Lat, sz.Lon}}
	m := newMap(focus)
	x, y := border.Project(sz.Lat, sz.Lon)
	m.Units = append(m.Units, mapMark{X: x, Y: y, Label: sz.Place, Side: sz.Origin, Status: "seizure"})
	mine := sz.Origin == svc.Self()
	write := !u.Can(auth.ReadAll)
	var bs []szBadge
	for _, b := range badges {
		sb := szBadge{Badge: b}
		for _, w := range b.Why {
			kind, value, _ := strings.Cut(w, ":")
			sb.Reasons = append(sb.Reasons, v.T("sz.why."+kind, "Value", strings.ReplaceAll(value, "|", " ")))
		}
		bs = append(bs, sb)
	}
	d := szViewData{Row: s.szRowOf(v, sz, len(badges)), Badges: bs, Map: m, Zones: zonesOf(sz.Pair, sz.At),
		Agencies: seizures.SeizureAgencies[svc.Partner()], Caveats: svc.DefaultCaveats(), Classes: caveats.Classifications,
		Actions: map[string]bool{
			"submit":          write && mine && sz.Status == seizures.StatusRecorded && u.Can(auth.SeizWrite),
			"release":         write && mine && sz.Status != seizures.StatusReleased && u.Can(auth.SeizRelease) && sz.CreatedBy != u.Username,
			"release_blocked": write && mine && sz.Status != seizures.StatusReleased && u.Can(auth.SeizRelease) && sz.CreatedBy == u.Username,
			"return":          write && mine && sz.Status == seizures.StatusSubmitted && u.Can(auth.SeizRelease),
		}}
	d.Trace = write && u.Can(auth.TraceRequest) && trSeizureFirearms(sz, svc.Self())
	var people []screenPerson
	for _, sub := range sz.Subjects {
		people = append(people, screenPerson{Name: sub.Name, DOB: sub.DOB})
	}
	d.Targets = s.targetHits(u, people)
	if sz.OperationID != "" && u.Can(auth.OpsRead) {
		if op, err := operations.Of(s.n).Get(ctx, u, sz.OperationID); err == nil {
			d.Operation = op
		}
	}
	v.Data = d
	v.Title = sz.Title()
	v.Flash = szFlash(v, r)
	v.Error = errText
	s.render(w, r, status, "seizure", v)
}

func (s *Server) szAction(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	svc := seizures.Of(s.n)
	id := r.PathValue("id")
	var err error
	flash := ""
	switch r.PathValue("action") {
	case "submit":
		_, err = svc.Submit(r.Context(), u, id)
		flash = "submitted"
	case "return":
		_, err = svc.Return(r.Context(), u, id, r.PostFormValue("reason"))
		flash = "returned"
	case "release":
		c := caveatsFromForm(r)
		_, err = svc.Release(r.Context(), u, []string{id}, r.PostForm["to"], &c)
		flash = "released"
	default:
		s.notFound(w, r, u)
		return
	}
	if err != nil {
		v := s.newView(r, u, nil)
		msg := s.szError(v, err)
		if msg == "" {
			s.fail(w, r, u, err)
			return
		}
		s.renderSz(w, r, u, fault.Status(err), msg)
		return
	}
	http.Redirect(w, r, "/seizures/s/"+url.PathEscape(id)+"?flash=sz.flash."+flash, http.StatusSeeOther)
}

type szDashData struct {
	Scope  string
	Scopes []string
	Months []string
	Sides  []string
	Tables []chartTable
	Map    template.HTML
	Totals map[string]float64
	// Own is this node's own figure: how many of its seizures it recorded
	// and released (the partner does not know the first).
	Own seizures.OwnFigures
}

// szDashboard computes every chart from the totals of the last twelve
// months.
func (s *Server) szDashboardData(r *http.Request, u *auth.User, v *view) (*szDashData, error) {
	svc := seizures.Of(s.n)
	scope := r.URL.Query().Get("scope")
	if scope != seizures.ScopeAll {
		scope = seizures.ScopeShared
	}
	months := seizures.Months(time.Now().UTC(), 12)
	totals, err := svc.Totals(r.Context(), u, scope, months[0], months[len(months)-1])
	if err != nil {
		return nil, err
	}
	sides := []string{"MX", "US"}
	figs, err := svc.Figures(r.Context())
	if err != nil {
		return nil, err
	}
	d := &szDashData{Own: figs.Own, Scope: scope, Scopes: []string{seizures.ScopeShared, seizures.ScopeAll}, Months: months, Sides: sides, Totals: map[string]float64{}}
	sideIdx := map[string]int{"MX": 0, "US": 1}
	monthIdx := map[string]int{}
	for i, m := range months {
		monthIdx[m] = i
	}
	// Drugs per month (kg), one line per drug, both sides together.
	perDrugMonth := map[string][]float64{}
	perPair := map[string][]float64{}
	perType := map[string][]float64{}
	perCal := map[string][]float64{}
	cashMonth := map[string][]float64{}
	add := func(m map[string][]float64, key string, n, i int, v float64) {
		if m[key] == nil {
			m[key] = make([]float64, n)
		}
		m[key][i] += v
	}
	// Sums are of the stored integers (grams, cents), converted once at
	// the end, so a figure reads the same whatever order it was added in.
	for _, t := range totals {
		si := sideIdx[t.Side]
		v := float64(t.Value)
		switch t.Metric {
		case seizures.MetricDrugG:
			add(perDrugMonth, t.Category, len(months), monthIdx[t.Month], v)
			add(perPair, t.Pair, 2, si, v)
			d.Totals["kg_"+t.Side] += v
		case seizures.MetricFirearms:
			add(perType, t.Category, 2, si, v)
			d.Totals["firearms_"+t.Side] += v
		case seizures.MetricCalibre:
			add(perCal, t.Category, 2, si, v)
		case seizures.MetricCash:
			add(cashMonth, t.Side, len(months), monthIdx[t.Month], v)
			d.Totals["usd_"+t.Side] += v
		case seizures.MetricSeizures:
			d.Totals["n_"+t.Side] += v
		}
	}
	scale := func(m map[string][]float64, by float64) {
		for _, vals := range m {
			for i := range vals {
				vals[i] /= by
			}
		}
	}
	scale(perDrugMonth, 1000)
	scale(perPair, 1000)
	scale(cashMonth, 100)
	for _, side := range sides {
		d.Totals["kg_"+side] /= 1000
		d.Totals["usd_"+side] /= 100
	}
	// Trend of drugs per month.
	tb := chartTable{Chart: "drug_month", Unit: "kg", Cols: months}
	var ss []series
	for _, dr := range seizures.Drugs {
		if vals, ok := perDrugMonth[dr]; ok {
			ss = append(ss, series{Name: v.T("sz.drug." + dr), Class: "s-" + dr, Values: vals})
			tb.Rows = append(tb.Rows, chartRow{Label: v.T("sz.drug." + dr), Values: vals})
		}
	}
	tb.SVG = lineChart(v.T("sz.chart.drug_month"), months, ss)
	d.Tables = append(d.Tables, tb)
	// Bars per side: pairs, firearm types, calibres.
	bars := func(chart, unit string, m map[string][]float64, label func(string) string, order []string) chartTable {
		t := chartTable{Chart: chart, Unit: unit, Cols: sides}
		if order == nil {
			for k := range m {
				order = append(order, k)
			}
			slices.SortFunc(order, func(a, b string) int {
				ta, tb := m[a][0]+m[a][1], m[b][0]+m[b][1]
				if ta != tb {
					if ta > tb {
						return -1
					}
					return 1
				}
				return strings.Compare(a, b)
			})
			if len(order) > 12 {
				order = order[:12]
			}
		}
		var bs []bar
		for _, k := range order {
			vals, ok := m[k]
			if !ok {
				continue
			}
			l := label(k)
			t.Rows = append(t.Rows, chartRow{Label: l, Values: vals})
			bs = append(bs, bar{Label: l, Parts: []barPart{{Class: "side-mx", Name: "MX", Value: vals[0]}, {Class: "side-us", Name: "US", Value: vals[1]}}})
		}
		t.SVG = barChart(v.T("sz.chart."+chart), bs)
		return t
	}
	var pairOrder []string
	for _, p := range border.Pairs {
		pairOrder = append(pairOrder, p.ID)
	}
	pairName := func(id string) string { p, _ := border.PairByID(id); return p.Name() }
	d.Tables = append(d.Tables, bars("drug_pair", "kg", perPair, pairName, pairOrder))
	d.Tables = append(d.Tables, bars("firearm_type", "", perType, func(k string) string { return v.T("sz.firearm." + k) }, seizures.FirearmTypes))
	d.Tables = append(d.Tables, bars("calibre", "", perCal, func(k string) string { return k }, nil))
	cash := chartTable{Chart: "cash_month", Unit: "USD", Cols: months}
	var cs []series
	for _, side := range sides {
		if vals, ok := cashMonth[side]; ok {
			cs = append(cs, series{Name: side, Class: "side-" + strings.ToLower(side), Values: vals})
			cash.Rows = append(cash.Rows, chartRow{Label: side, Values: vals})
		}
	}
	cash.SVG = lineChart(v.T("sz.chart.cash_month"), months, cs)
	d.Tables = append(d.Tables, cash)
	// The map: a circle per pair, its area the kilograms seized there.
	m := newMap(nil)
	maxKg := 0.0
	for _, vals := range perPair {
		maxKg = math.Max(maxKg, vals[0]+vals[1])
	}
	for _, p := range border.Pairs {
		vals, ok := perPair[p.ID]
		if !ok || maxKg == 0 {
			continue
		}
		sec, _ := border.SectorByCode(p.Sector)
		x, y := border.Project(sec.Lat-0.35, sec.Lon)
		for i, side := range sides {
			if vals[i] == 0 {
				continue
			}
			m.Areas = append(m.Areas, mapArea{X: x + float64(i*2-1)*6, Y: y, R: 4 + 26*math.Sqrt(vals[i]/maxKg), Side: side})
		}
		m.Units = append(m.Units, mapMark{X: x, Y: y, Label: fmt.Sprintf("%s: %s kg", p.Name(), fmtNum(vals[0]+vals[1])), Side: "label"})
	}
	d.Map = m.SVG()
	for i := range d.Tables {
		t := &d.Tables[i]
		t.Title = v.T("sz.chart." + t.Chart)
		t.CSV = "/seizures/dashboard.csv?chart=" + t.Chart + "&scope=" + scope
	}
	return d, nil
}

func (s *Server) szDashboard(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	d, err := s.szDashboardData(r, u, v)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v.Data = d
	v.Title = v.T("sz.dashboard")
	s.render(w, r, http.StatusOK, "seizures_dashboard", v)
}

// szDashboardCSV is one chart's table as CSV (chart=drug_month…).
func (s *Server) szDashboardCSV(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	d, err := s.szDashboardData(r, u, v)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	s.chartCSV(w, r, u, d.Tables, "seizures-", "-"+d.Scope)
}
