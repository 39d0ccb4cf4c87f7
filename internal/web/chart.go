package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"puente/internal/auth"
	"puente/internal/sheet"
)

// A chart is drawn on the server as inline SVG: no script, nothing
// fetched, readable without JavaScript, with each point's value in a
// <title> for a tooltip, and a table beside it with the same numbers.

// series is one line of a line chart.
type series struct {
	Name   string
	Class  string // CSS class: its colour
	Values []float64
}

const chartW, chartH, chartPad = 640.0, 220.0, 36.0

// lineChart draws series over the labels of the x axis (months).
func lineChart(label string, xs []string, ss []series) template.HTML {
	var b strings.Builder
	esc := html.EscapeString
	max := 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			max = math.Max(max, v)
		}
	}
	if max == 0 {
		max = 1
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, esc(label))
	axis(&b, max)
	step := (chartW - 2*chartPad) / math.Max(float64(len(xs)-1), 1)
	for i, x := range xs {
		if i%2 == 0 || len(xs) <= 6 {
			fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, chartPad+float64(i)*step, chartH-8, esc(x))
		}
	}
	// The legend, along the top.
	lx := chartPad
	for _, s := range ss {
		fmt.Fprintf(&b, `<rect class="%s" x="%.0f" y="4" width="10" height="10"/><text class="tick legend" x="%.0f" y="13">%s</text>`, esc(s.Class), lx, lx+14, esc(s.Name))
		lx += 24 + 6.5*float64(len([]rune(s.Name)))
	}
	for _, s := range ss {
		var pts []string
		for i, v := range s.Values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", chartPad+float64(i)*step, yOf(v, max)))
		}
		fmt.Fprintf(&b, `<polyline class="line %s" points="%s"><title>%s</title></polyline>`, esc(s.Class), strings.Join(pts, " "), esc(s.Name))
		for i, v := range s.Values {
			fmt.Fprintf(&b, `<circle class="dot %s" cx="%.1f" cy="%.1f" r="2.5"><title>%s %s: %s</title></circle>`, esc(s.Class), chartPad+float64(i)*step, yOf(v, max),
				esc(s.Name), esc(xs[i]), esc(fmtNum(v)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// bar is one bar of a bar chart, split into parts (one per side).
type bar struct {
	Label string
	Parts []barPart
}

type barPart struct {
	Class string
	Name  string
	Value float64
}

// barChart draws horizontal stacked bars.
func barChart(label string, bars []bar) template.HTML {
	var b strings.Builder
	esc := html.EscapeString
	max := 0.0
	for _, br := range bars {
		t := 0.0
		for _, p := range br.Parts {
			t += p.Value
		}
		max = math.Max(max, t)
	}
	if max == 0 {
		max = 1
	}
	row := 22.0
	h := math.Max(row*float64(len(bars))+10, 40)
	left := 170.0
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, chartW, h, esc(label))
	for i, br := range bars {
		y := 5 + float64(i)*row
		fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.1f" text-anchor="end">%s</text>`, left-6, y+14, esc(br.Label))
		x := left
		total := 0.0
		for _, p := range br.Parts {
			w := p.Value / max * (chartW - left - 60)
			fmt.Fprintf(&b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.0f"><title>%s · %s: %s</title></rect>`, esc(p.Class), x, y, w, row-6,
				esc(br.Label), esc(p.Name), esc(fmtNum(p.Value)))
			x += w
			total += p.Value
		}
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f">%s</text>`, x+4, y+14, esc(fmtNum(total)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func yOf(v, max float64) float64 { return chartH - chartPad - v/max*(chartH-2*chartPad) }

func axis(b *strings.Builder, max float64) {
	for _, f := range []float64{0, 0.5, 1} {
		y := yOf(max*f, max)
		fmt.Fprintf(b, `<line class="grid" x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f"/><text class="tick" x="%.0f" y="%.1f" text-anchor="end">%s</text>`,
			chartPad, chartW-chartPad, y, y, chartPad-4, y+4, html.EscapeString(fmtNum(max*f)))
	}
}

// fmtNum writes a figure for a chart: whole numbers with thin grouping,
// small ones with up to two decimals.
func fmtNum(v float64) string {
	if v != math.Trunc(v) && math.Abs(v) < 100 {
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	}
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	out = append([]string{s}, out...)
	r := strings.Join(out, ",")
	if neg {
		r = "-" + r
	}
	return r
}

// chartTable is one chart's numbers: a row per label, a column per side
// or month. The "chart" block in layout.html draws its SVG with the table
// behind it and a link to its CSV.
type chartTable struct {
	Chart string // its name in the page and in ?chart=
	Title string // translated
	Unit  string
	Cols  []string
	Rows  []chartRow
	SVG   template.HTML
	CSV   string // the address of its CSV
}

type chartRow struct {
	Label  string
	Values []float64
}

// chartCSV writes the table of ?chart= among tables as a CSV named
// prefix+chart+suffix, its cells neutralised for spreadsheets.
func (s *Server) chartCSV(w http.ResponseWriter, r *http.Request, u *auth.User, tables []chartTable, prefix, suffix string) {
	chart := r.URL.Query().Get("chart")
	i := slices.IndexFunc(tables, func(t chartTable) bool { return t.Chart == chart })
	if i < 0 {
		s.notFound(w, r, u)
		return
	}
	t := tables[i]
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+prefix+t.Chart+suffix+`.csv"`)
	sw := sheet.NewWriter(w)
	_ = sw.Write(append([]string{t.Title}, t.Cols...))
	for _, row := range t.Rows {
		rec := []string{row.Label}
		for _, x := range row.Values {
			rec = append(rec, strconv.FormatFloat(x, 'f', -1, 64))
		}
		_ = sw.Write(rec)
	}
	if err := sw.Flush(); err != nil {
		s.log.Warn("writing a chart's CSV", "chart", t.Chart, "err", err)
	}
}

// sparkline is a small bar chart of a figure's last months, oldest
// first, for a table cell: the values are in its title and label.
func sparkline(vs []int) template.HTML {
	if len(vs) == 0 {
		return ""
	}
	peak := 1
	parts := make([]string, len(vs))
	for i, v := range vs {
		peak = max(peak, v)
		parts[i] = strconv.Itoa(v)
	}
	const w, h = 4, 18
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`,
		len(vs)*(w+1), h, len(vs)*(w+1), h, strings.Join(parts, ", "), strings.Join(parts, ", "))
	for i, v := range vs {
		bh := max(1, v*(h-2)/peak)
		if v == 0 {
			bh = 1
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d"%s/>`, i*(w+1), h-bh, w, bh, map[bool]string{true: ` class="zero"`}[v == 0])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
