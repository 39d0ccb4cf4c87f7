package web

import (
	"errors"
	"fmt"
	"html"
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
	"puente/internal/fault"
	"puente/internal/operations"
)

func init() {
	Register(operations.Name, func(s *Server) Face {
		return Face{
			Nav: []NavItem{
				{Path: "/operations", ID: "nav-operations", Label: "nav.operations", Permission: auth.OpsRead},
				{Path: "/operations/board", ID: "nav-board", Label: "nav.board", Permission: auth.OpsRead},
			},
			LogKinds: []string{operations.KindLogReported, operations.KindLogAnswered, operations.KindLogChanged, operations.KindLogConflict, operations.KindConflictAck, operations.KindLogEscalated, operations.KindLogResolved, operations.KindLogDrafted, operations.KindLogRegistered, operations.KindLogReleased, operations.KindLogReport, operations.KindStep},
			ErrorKey: "ops.error.", FieldKey: "ops.field.",
			Keys: slices.Concat(
				keysOf("ops.status.", operations.Statuses...),
				keysOf("ops.kind.", operations.Mirror, operations.Unilateral),
				keysOf("ops.objective.", operations.Objectives...),
				keysOf("ops.unit_status.", operations.UnitStatuses...),
				keysOf("ops.resolution.", operations.Resolutions...),
				keysOf("ops.target.", operations.TargetKinds...),
				keysOf("ops.step.", operations.StepProposed, operations.StepAccepted, operations.StepCountered, operations.StepDeclined,
					operations.StepCounterAccepted, operations.StepStarted, operations.StepConcluded, operations.StepPostponed, operations.StepCancelled,
					operations.StepAfterAction, "drafted", "registered"),
				keysOf("ops.conflict.", "space_time", "target", "open", "resolved"),
				keysOf("ops.flash.", opsFlashKeys...),
				keysOf("ops.work.", "draft", "release", "answer", "counter", "conflict.space_time", "conflict.target", "report", "after_action"),
				keysOf("ops.field.", "kind", "title", "objective", "pair", "start", "end", "areas", "units", "contact", "counterpart", "targets",
					"callsign", "agency", "radius_m", "polygon", "reason", "after_action", "results", "unit", "position", "status", "note", "at",
					"resolution", "step", "refs", "value", "caveats", "classification", "cot", "uid", "type", "how", "time", "stale", "point",
					"remarks", "version", "lat", "lon"),
			),
			Pages: []Page{
				{Pattern: "GET /operations", Permission: auth.OpsRead, Handle: s.opsList},
				{Pattern: "GET /operations/new", Permission: auth.OpsWrite, Handle: s.opsNew},
				{Pattern: "POST /operations", Permission: auth.OpsWrite, Handle: s.opsCreate},
				{Pattern: "GET /operations/board", Permission: auth.OpsRead, Handle: s.opsBoard},
				{Pattern: "GET /operations/o/{id}", Permission: auth.OpsRead, Handle: s.opsView},
				{Pattern: "POST /operations/o/{id}/{action}", Permission: auth.OpsRead, Handle: s.opsAction},
				{Pattern: "GET /operations/o/{id}/report", Permission: auth.OpsReport, Handle: s.opsReportPage},
				{Pattern: "POST /operations/o/{id}/report", Permission: auth.OpsReport, Handle: s.opsReport},
				{Pattern: "POST /operations/conflicts/{id}", Permission: auth.OpsWrite, Handle: s.opsResolve},
			},
		}
	})
}

var opsFlashKeys = []string{"created", "released", "reported", "resolved", "step"}

// opsError translates an operations error for the user, or "" for an
// unexpected one.
func (s *Server) opsError(v *view, err error) string {
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		v.markField(fe.Field)
		return v.T("ops.error.field", "Field", opsFieldLabel(v, fe.Field), "Reason", opsReason(v, fe.Code))
	}
	return describeError(v, err, "ops.error.", "state")
}

// opsFailed shows a known operations error on the page again (render), in
// the user's language; an unexpected one is the internal-error page.
func (s *Server) opsFailed(w http.ResponseWriter, r *http.Request, u *auth.User, err error, render func(status int, msg string)) {
	msg := s.opsError(s.newView(r, u, nil), err)
	if msg == "" {
		s.fail(w, r, u, err)
		return
	}
	render(fault.Status(err), msg)
}

func opsReason(v *view, code string) string {
	if strings.HasPrefix(code, "ident.") {
		return v.T(code)
	}
	return v.T("ops.error." + code)
}

// opsFieldLabel names "units[2].callsign" as "Units 3 · Callsign".
func opsFieldLabel(v *view, field string) string {
	var parts []string
	for _, p := range strings.Split(field, ".") {
		name, idx, ok := strings.Cut(p, "[")
		label := v.T("ops.field." + name)
		if ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			label += " " + strconv.Itoa(n+1)
		}
		parts = append(parts, label)
	}
	return strings.Join(parts, " · ")
}

func opsFlash(v *view, r *http.Request) string { return flashOf(v, r, "ops.flash.", opsFlashKeys) }

// zoned is a moment in the zones of both sides of a pair and in UTC: the
// border crosses three zones and two daylight-saving rules.
type zoned struct {
	Zone, Time string
}

func zonesOf(pair string, t time.Time) []zoned {
	p, ok := border.PairByID(pair)
	if !ok || t.IsZero() {
		return nil
	}
	var out []zoned
	for _, party := range []string{"US", "MX"} {
		loc := p.Zone(party)
		lt := t.In(loc)
		abbr, _ := lt.Zone()
		out = append(out, zoned{Zone: party + " " + loc.String() + " (" + abbr + ")", Time: lt.Format("2006-01-02 15:04")})
	}
	return append(out, zoned{Zone: "UTC", Time: t.UTC().Format("2006-01-02 15:04")})
}

// opRow is an operation as a list and the board show it.
type opRow struct {
	*operations.Operation
	PairName  string
	Approx    bool
	Starts    []zoned
	Ends      []zoned
	Conflicts int
	Mine      bool
}

func (s *Server) opRow(op *operations.Operation, conflicts int) opRow {
	p, _ := border.PairByID(op.Pair)
	return opRow{Operation: op, PairName: p.Name(), Approx: p.Approximate, Starts: zonesOf(op.Pair, op.Start), Ends: zonesOf(op.Pair, op.End), Conflicts: conflicts, Mine: op.Origin == s.n.Config.Party}
}

type opsListData struct {
	Status    string
	Ops       []opRow
	Conflicts []*operations.Conflict
	Statuses  []string
}

func (s *Server) opsList(w http.ResponseWriter, r *http.Request, u *auth.User) {
	svc := operations.Of(s.n)
	ctx := r.Context()
	st := r.URL.Query().Get("status")
	if st != "" && !slices.Contains(operations.Statuses, st) {
		st = ""
	}
	ops, err := svc.List(ctx, u, operations.ListFilter{Status: st})
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	cs, err := svc.OpenConflicts(ctx, u)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	per := map[string]int{}
	for _, c := range cs {
		per[c.OperationID]++
	}
	d := opsListData{Status: st, Conflicts: cs, Statuses: operations.Statuses}
	for _, op := range ops {
		d.Ops = append(d.Ops, s.opRow(op, per[op.ID]))
	}
	v := s.newView(r, u, d)
	v.Title = v.T("ops.title")
	v.Flash = opsFlash(v, r)
	s.render(w, r, http.StatusOK, "operations", v)
}

type opsNewData struct {
	Pairs       []border.Pair
	PairNames   map[string]string
	Objectives  []string
	Agencies    []string
	Partner     []string
	TargetKinds []string
	Zone        map[string]string
}

func (s *Server) opsNewData() opsNewData {
	d := opsNewData{Pairs: border.Pairs, PairNames: map[string]string{}, Zone: map[string]string{}, Objectives: operations.Objectives,
		Agencies: operations.OpsAgencies[s.n.Config.Party], Partner: operations.OpsAgencies[s.n.Link.Partner()], TargetKinds: operations.TargetKinds}
	for _, p := range border.Pairs {
		d.PairNames[p.ID] = p.Name()
		d.Zone[p.ID] = p.Zone(s.n.Config.Party).String()
	}
	return d
}

func (s *Server) opsNew(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, s.opsNewData())
	v.Title = v.T("ops.new")
	v.Form = map[string]string{"kind": operations.Mirror, "radius_m": "2000", "unit_agency_0": u.Agency}
	s.render(w, r, http.StatusOK, "operations_new", v)
}

// unitsFromForm reads the unit rows unit_callsign_N, unit_agency_N,
// unit_shared_N.
func unitsFromForm(r *http.Request) []operations.Unit {
	var out []operations.Unit
	for i := range 6 {
		cs := strings.TrimSpace(r.PostFormValue(fmt.Sprintf("unit_callsign_%d", i)))
		if cs == "" {
			continue
		}
		out = append(out, operations.Unit{Callsign: cs, Agency: r.PostFormValue(fmt.Sprintf("unit_agency_%d", i)), Shared: r.PostFormValue(fmt.Sprintf("unit_shared_%d", i)) != ""})
	}
	return out
}

// areasFromForm reads one point with a radius, or a polygon written as
// one "lat, lon" per line.
func areasFromForm(r *http.Request) ([]operations.Area, error) {
	if poly := strings.TrimSpace(r.PostFormValue("polygon")); poly != "" {
		var pts [][2]float64
		for i, line := range strings.Split(poly, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			a, b, ok := strings.Cut(line, ",")
			lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
			lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
			if !ok || err1 != nil || err2 != nil {
				return nil, fault.Field(fmt.Sprintf("areas[0].polygon[%d]", i), "invalid_coordinates")
			}
			pts = append(pts, [2]float64{lat, lon})
		}
		return []operations.Area{{Polygon: pts}}, nil
	}
	num := func(name string) (float64, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue(name)), 64)
		if err != nil {
			if name == "radius_m" {
				return 0, fault.Field("areas[0].radius_m", "radius_out_of_range")
			}
			return 0, fault.Field("areas[0]", "invalid_coordinates")
		}
		return f, nil
	}
	lat, err := num("lat")
	if err != nil {
		return nil, err
	}
	lon, err := num("lon")
	if err != nil {
		return nil, err
	}
	rad, err := num("radius_m")
	if err != nil {
		return nil, err
	}
	return []operations.Area{{Lat: lat, Lon: lon, RadiusM: rad}}, nil
}

func formOf(r *http.Request) map[string]string {
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = r.PostForm.Get(k)
	}
	return form
}

func (s *Server) opsCreate(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, s.opsNewData())
	v.Title = v.T("ops.new")
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	v.Form = formOf(r)
	d := operations.Draft{Kind: r.PostFormValue("kind"), Title: r.PostFormValue("title"), Objective: r.PostFormValue("objective"), Urgent: r.PostFormValue("urgent") != "",
		Pair: r.PostFormValue("pair"), Start: r.PostFormValue("start"), End: r.PostFormValue("end"), Contact: r.PostFormValue("contact"),
		Units: unitsFromForm(r), Counterpart: r.PostForm["counterpart"]}
	for i := range 3 {
		k := r.PostFormValue(fmt.Sprintf("target_kind_%d", i))
		val := strings.TrimSpace(r.PostFormValue(fmt.Sprintf("target_value_%d", i)))
		if k == "" || val == "" {
			continue
		}
		t := operations.Target{Kind: k, Value: val, Country: r.PostFormValue(fmt.Sprintf("target_country_%d", i))}
		if k == "person" {
			t.Value, t.Name, t.DOB = "", val, r.PostFormValue(fmt.Sprintf("target_dob_%d", i))
		}
		d.Targets = append(d.Targets, t)
	}
	areas, err := areasFromForm(r)
	if err == nil {
		d.Areas = areas
		var op *operations.Operation
		op, err = operations.Of(s.n).Create(r.Context(), u, d)
		if err == nil {
			http.Redirect(w, r, "/operations/o/"+url.PathEscape(op.ID)+"?flash=ops.flash.created", http.StatusSeeOther)
			return
		}
	}
	if v.Error = s.opsError(v, err); v.Error == "" {
		s.fail(w, r, u, err)
		return
	}
	s.render(w, r, http.StatusUnprocessableEntity, "operations_new", v)
}

// mapData is what the "opsmap" block draws: the two countries, the
// crossings, areas and units, projected.
type mapData struct {
	W, H      float64
	K         float64 // the view's width in map units: markers keep their size on screen
	ViewBox   string
	MX, US    string
	Crossings []mapMark
	Areas     []mapArea
	Units     []mapMark
}

type mapMark struct {
	X, Y        float64
	Label, Side string
	Status      string
}

type mapArea struct {
	X, Y, R float64
	Points  string
	Side    string
}

func projectArea(a operations.Area, side string) mapArea {
	if len(a.Polygon) > 0 {
		var b strings.Builder
		for _, p := range a.Polygon {
			x, y := border.Project(p[0], p[1])
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		}
		return mapArea{Points: strings.TrimSpace(b.String()), Side: side}
	}
	x, y := border.Project(a.Lat, a.Lon)
	return mapArea{X: x, Y: y, R: math.Max(a.RadiusM/111_320*border.Scale, 2), Side: side}
}

// newMap is the whole border region, or the box around focus points
// (lat, lon pairs) with a margin.
func newMap(focus [][2]float64) mapData {
	w, h := border.Size()
	paths := border.Paths()
	m := mapData{W: w, H: h, ViewBox: fmt.Sprintf("0 0 %.0f %.0f", w, h), MX: paths["MX"], US: paths["US"], K: w}
	if len(focus) > 0 {
		minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, f := range focus {
			x, y := border.Project(f[0], f[1])
			minX, minY, maxX, maxY = math.Min(minX, x), math.Min(minY, y), math.Max(maxX, x), math.Max(maxY, y)
		}
		// At least a degree of latitude across, in the map's proportions,
		// so the border and a crossing or two stay in view.
		cx, cy := (minX+maxX)/2, (minY+maxY)/2
		hh := math.Max((maxY-minY)/2+20, border.Scale*0.75)
		hw := math.Max((maxX-minX)/2+20, hh*w/h)
		hh = math.Max(hh, hw*h/w)
		m.ViewBox = fmt.Sprintf("%.1f %.1f %.1f %.1f", cx-hw, cy-hh, 2*hw, 2*hh)
		m.K = 2 * hw
	}
	for _, c := range border.Crossings {
		x, y := border.Project(c.Lat, c.Lon)
		m.Crossings = append(m.Crossings, mapMark{X: x, Y: y, Label: c.US + " – " + c.MX})
	}
	return m
}

// SVG draws the map inline: the two countries, the crossings, the areas
// and the units, each labelled (escaped); no tiles, nothing fetched.
func (m mapData) SVG() template.HTML {
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, `<svg class="opsmap" viewBox="%s" role="img" aria-label="map" xmlns="http://www.w3.org/2000/svg">`, m.ViewBox)
	fmt.Fprintf(&b, `<rect class="sea" x="-2000" y="-2000" width="%.0f" height="%.0f"/>`, m.W+4000, m.H+4000)
	fmt.Fprintf(&b, `<path class="land us" d="%s"/><path class="land mx" d="%s"/>`, esc(m.US), esc(m.MX))
	for _, c := range m.Crossings {
		fmt.Fprintf(&b, `<circle class="crossing" cx="%.2f" cy="%.2f" r="%.2f"><title>%s</title></circle>`, c.X, c.Y, m.K/220, esc(c.Label))
	}
	for _, a := range m.Areas {
		if a.Points != "" {
			fmt.Fprintf(&b, `<polygon class="area side-%s" points="%s"/>`, esc(strings.ToLower(a.Side)), esc(a.Points))
			continue
		}
		fmt.Fprintf(&b, `<circle class="area side-%s" cx="%.1f" cy="%.1f" r="%.1f"/>`, esc(strings.ToLower(a.Side)), a.X, a.Y, a.R)
	}
	for _, u := range m.Units {
		fmt.Fprintf(&b, `<g class="unit side-%s status-%s"><circle cx="%.2f" cy="%.2f" r="%.2f"/><text x="%.2f" y="%.2f" font-size="%.2f">%s</text></g>`,
			esc(strings.ToLower(u.Side)), esc(u.Status), u.X, u.Y, m.K/110, u.X+m.K/80, u.Y-m.K/120, m.K/55, esc(u.Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func (m *mapData) addUnits(rs []*operations.Report) {
	for _, r := range rs {
		x, y := border.Project(r.Lat, r.Lon)
		m.Units = append(m.Units, mapMark{X: x, Y: y, Label: r.Unit, Side: r.Side, Status: r.Status})
	}
}

type opsViewData struct {
	Op        opRow
	Conflicts []*operations.Conflict
	Reports   []*operations.Report
	Map       mapData
	Sides     []string
	Self      string
	Actions   map[string]bool
	New       opsNewData
	// Targets are the operation's persons who match priority targets the
	// user may see.
	Targets []TargetHit
}

// actions are what u may do with op now, so the page offers only those.
func (s *Server) actions(u *auth.User, op *operations.Operation) map[string]bool {
	self := s.n.Config.Party
	a := map[string]bool{}
	write := u.Can(auth.OpsWrite) && !u.Can(auth.ReadAll)
	mine := op.Origin == self
	started := time.Now().After(op.Start)
	switch op.Status {
	case operations.StatusDraft:
		a["release"] = u.Can(auth.OpsRelease) && op.CreatedBy != u.Username
		a["release_blocked"] = u.Can(auth.OpsRelease) && op.CreatedBy == u.Username
		a["cancel"] = write
	case operations.StatusProposed:
		a["answer"] = write && !mine
		a["decline"] = write && !mine
		a["postpone"] = write && mine && !started
		a["cancel"] = write && mine
	case operations.StatusCountered:
		theirs := op.Counter != nil && op.Counter.Side != self
		a["accept_counter"] = write && theirs
		a["decline"] = write && theirs
		a["cancel"] = write
	case operations.StatusJoint, operations.StatusPlanned:
		a["start"] = write && time.Now().After(op.Start.Add(-time.Hour))
		a["postpone"] = write && !started
		a["cancel"] = write && !started
	case operations.StatusActive:
		a["conclude"] = write
		a["report"] = u.Can(auth.OpsReport) && !u.Can(auth.ReadAll)
	case operations.StatusConcluded, operations.StatusReported:
		sd := op.Sides[self]
		a["after_action"] = write && sd != nil && sd.ReportedAt.IsZero()
	}
	return a
}

func (s *Server) opsView(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderOp(w, r, u, http.StatusOK, "", nil)
}

func (s *Server) renderOp(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string, form map[string]string) {
	svc := operations.Of(s.n)
	ctx := r.Context()
	op, err := svc.Get(ctx, u, r.PathValue("id"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	cs, err := svc.Conflicts(ctx, u, op.ID)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	rs, err := svc.Reports(ctx, u, op.ID, 100)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	open := 0
	for _, c := range cs {
		if c.Status == "open" {
			open++
		}
	}
	var focus [][2]float64
	var sides []string
	for party, sd := range op.Sides {
		sides = append(sides, party)
		for _, a := range sd.Areas {
			if len(a.Polygon) > 0 {
				focus = append(focus, a.Polygon...)
			} else {
				d := a.RadiusM / 111_320
				focus = append(focus, [2]float64{a.Lat - d, a.Lon - d}, [2]float64{a.Lat + d, a.Lon + d})
			}
		}
	}
	slices.Sort(sides)
	m := newMap(focus)
	for _, party := range sides {
		for _, a := range op.Sides[party].Areas {
			m.Areas = append(m.Areas, projectArea(a, party))
		}
	}
	latest := map[string]bool{}
	var newest []*operations.Report
	for _, rep := range rs {
		if !latest[rep.Side+rep.Unit] {
			latest[rep.Side+rep.Unit] = true
			newest = append(newest, rep)
		}
	}
	m.addUnits(newest)
	d := opsViewData{Op: s.opRow(op, open), Conflicts: cs, Reports: rs, Map: m, Sides: sides, Self: s.n.Config.Party, Actions: s.actions(u, op), New: s.opsNewData()}
	var people []screenPerson
	for _, t := range op.Targets {
		if t.Kind == "person" && t.Name != "" {
			people = append(people, screenPerson{Name: t.Name, DOB: t.DOB})
		}
	}
	d.Targets = s.targetHits(u, people)
	v := s.newView(r, u, d)
	v.Title = op.Title
	v.Error = errText
	v.Form = form
	if v.Form == nil {
		v.Form = map[string]string{"radius_m": "2000", "unit_agency_0": u.Agency, "unit_shared_0": "on", "contact": ""}
	}
	if errText == "" {
		v.Flash = opsFlash(v, r)
	}
	s.render(w, r, status, "operation", v)
}

func (s *Server) opsAction(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	svc := operations.Of(s.n)
	ctx := r.Context()
	id := r.PathValue("id")
	form := formOf(r)
	var err error
	flash := "step"
	ans := operations.Answer{Contact: r.PostFormValue("contact"), Start: r.PostFormValue("start"), End: r.PostFormValue("end"), Reason: r.PostFormValue("reason"),
		AfterAction: r.PostFormValue("after_action")}
	switch action := r.PathValue("action"); action {
	case "release":
		_, err = svc.Release(ctx, u, id)
		flash = "released"
	case operations.StepAccepted, operations.StepCountered:
		ans.Units = unitsFromForm(r)
		ans.Areas, err = areasFromForm(r)
		if err == nil {
			_, err = svc.Take(ctx, u, id, action, ans)
		}
	case operations.StepAfterAction:
		res := &operations.Results{}
		for name, p := range map[string]*int{"arrests": &res.Arrests, "seizures": &res.Seizures, "weapons": &res.Weapons} {
			if x := strings.TrimSpace(r.PostFormValue(name)); x != "" {
				n, perr := strconv.Atoi(x)
				if perr != nil || n < 0 {
					err = fault.Field("results", "negative")
				}
				*p = n
			}
		}
		if x := strings.TrimSpace(r.PostFormValue("cash_usd")); x != "" {
			n, perr := strconv.ParseInt(x, 10, 64)
			if perr != nil || n < 0 {
				err = fault.Field("results", "negative")
			}
			res.CashUSD = n
		}
		for _, ref := range strings.Split(r.PostFormValue("refs"), "\n") {
			if ref = strings.TrimSpace(ref); ref != "" {
				res.Refs = append(res.Refs, ref)
			}
		}
		ans.Results = res
		if err == nil {
			_, err = svc.Take(ctx, u, id, action, ans)
		}
	default:
		_, err = svc.Take(ctx, u, id, action, ans)
	}
	if err != nil {
		s.opsFailed(w, r, u, err, func(status int, msg string) { s.renderOp(w, r, u, status, msg, form) })
		return
	}
	http.Redirect(w, r, "/operations/o/"+url.PathEscape(id)+"?flash=ops.flash."+flash, http.StatusSeeOther)
}

func (s *Server) opsResolve(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	op := r.PostFormValue("operation")
	err := operations.Of(s.n).Resolve(r.Context(), u, r.PathValue("id"), r.PostFormValue("resolution"))
	if err != nil {
		r.SetPathValue("id", op)
		s.opsFailed(w, r, u, err, func(status int, msg string) { s.renderOp(w, r, u, status, msg, nil) })
		return
	}
	http.Redirect(w, r, "/operations/o/"+url.PathEscape(op)+"?flash=ops.flash.resolved", http.StatusSeeOther)
}

type boardData struct {
	Ops       []opRow
	Units     []boardUnit
	Conflicts []*operations.Conflict
	Map       mapData
	Now       []zoned
}

// borderClocks is now on every clock of the border, west to east, and
// in UTC: Pacific, Arizona and Sonora (no daylight saving), Mountain and
// Central, with Mexico's border strip on the US dates.
func borderClocks(now time.Time) []zoned {
	var out []zoned
	for _, name := range []string{"America/Tijuana", "America/Phoenix", "America/Hermosillo", "America/Ciudad_Juarez", "America/Chicago", "America/Matamoros"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue
		}
		lt := now.In(loc)
		abbr, _ := lt.Zone()
		out = append(out, zoned{Zone: strings.ReplaceAll(strings.TrimPrefix(name, "America/"), "_", " ") + " (" + abbr + ")", Time: lt.Format("15:04")})
	}
	return append(out, zoned{Zone: "UTC", Time: now.UTC().Format("15:04")})
}

type boardUnit struct {
	*operations.Report
	Op    string
	Local string
}

// opsBoard is the live board: the map, the operations around now with their
// windows in both sides' zones and UTC, and each unit's newest report.
func (s *Server) opsBoard(w http.ResponseWriter, r *http.Request, u *auth.User) {
	svc := operations.Of(s.n)
	ctx := r.Context()
	now := time.Now()
	ops, err := svc.List(ctx, u, operations.BoardWindow(now))
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	rs, err := svc.Latest(ctx, u)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	cs, err := svc.OpenConflicts(ctx, u)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	d := boardData{Conflicts: cs, Now: borderClocks(now)}
	titles := map[string]opRow{}
	per := map[string]int{}
	for _, c := range cs {
		per[c.OperationID]++
	}
	for _, op := range ops {
		if op.Status == operations.StatusCancelled || op.Status == operations.StatusDeclined || op.Status == operations.StatusDraft {
			continue
		}
		row := s.opRow(op, per[op.ID])
		d.Ops = append(d.Ops, row)
		titles[op.ID] = row
		for party, sd := range op.Sides {
			for _, a := range sd.Areas {
				d.Map.Areas = append(d.Map.Areas, projectArea(a, party))
			}
		}
	}
	var focus [][2]float64
	for _, row := range d.Ops {
		for _, sd := range row.Sides {
			for _, a := range sd.Areas {
				if len(a.Polygon) > 0 {
					focus = append(focus, a.Polygon...)
				} else {
					focus = append(focus, [2]float64{a.Lat, a.Lon})
				}
			}
		}
	}
	for _, rep := range rs {
		focus = append(focus, [2]float64{rep.Lat, rep.Lon})
	}
	areas := d.Map.Areas
	d.Map = newMap(focus)
	d.Map.Areas = areas
	d.Map.addUnits(rs)
	for _, rep := range rs {
		op := titles[rep.OperationID]
		local := ""
		if p, ok := border.PairByID(op.Pair); ok {
			local = rep.At.In(p.Zone(rep.Side)).Format("15:04 MST")
		}
		d.Units = append(d.Units, boardUnit{Report: rep, Op: op.Title, Local: local})
	}
	v := s.newView(r, u, d)
	v.Title = v.T("ops.board")
	s.render(w, r, http.StatusOK, "board", v)
}

type reportPageData struct {
	Op       *operations.Operation
	Units    []operations.Unit
	Statuses []string
}

// opsReportPage is the plain, phone-sized page a unit reports from.
func (s *Server) opsReportPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	s.renderReportPage(w, r, u, http.StatusOK, "", nil)
}

func (s *Server) renderReportPage(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errText string, form map[string]string) {
	op, err := operations.Of(s.n).Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.missing(w, r, u, err)
		return
	}
	var units []operations.Unit
	if sd := op.Sides[s.n.Config.Party]; sd != nil {
		for _, un := range sd.Units {
			if un.Agency == u.Agency || u.Can(auth.OpsWrite) {
				units = append(units, un)
			}
		}
	}
	v := s.newView(r, u, reportPageData{Op: op, Units: units, Statuses: operations.UnitStatuses})
	v.Title = v.T("ops.report.title")
	v.Error = errText
	v.Form = form
	if v.Form == nil {
		v.Form = map[string]string{}
	}
	if errText == "" {
		v.Flash = opsFlash(v, r)
	}
	s.render(w, r, status, "operation_report", v)
}

func (s *Server) opsReport(w http.ResponseWriter, r *http.Request, u *auth.User) {
	if err := r.ParseForm(); err != nil {
		s.tooLarge(w, r, u)
		return
	}
	form := formOf(r)
	in := operations.NewReport{Unit: r.PostFormValue("unit"), Status: r.PostFormValue("status"), Note: r.PostFormValue("note")}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("lat")), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("lon")), 64)
	var err error
	if err1 != nil || err2 != nil {
		err = fault.Field("position", "invalid_coordinates")
	} else {
		in.Lat, in.Lon = lat, lon
		_, err = operations.Of(s.n).Report(r.Context(), u, r.PathValue("id"), in)
	}
	if err != nil {
		s.opsFailed(w, r, u, err, func(status int, msg string) { s.renderReportPage(w, r, u, status, msg, form) })
		return
	}
	http.Redirect(w, r, "/operations/o/"+url.PathEscape(r.PathValue("id"))+"/report?flash=ops.flash.reported", http.StatusSeeOther)
}
