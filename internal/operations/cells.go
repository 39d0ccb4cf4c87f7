package operations

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"

	"puente/internal/agreement"
	"puente/internal/border"
	"puente/internal/fault"
	"puente/internal/ident"
	"puente/internal/match"
)

// Key prefixes in the blind-matching index: an operation's space-time
// cells and its targets. Persons' keys ("curp:…") never meet them.
const (
	cellPrefix   = "opcell:"
	targetPrefix = "target:"
)

func toPoint(lat, lon float64) s2.Point { return s2.PointFromLatLng(s2.LatLngFromDegrees(lat, lon)) }

func meters(m float64) s1.Angle { return s1.Angle(m / border.EarthRadius) }

// loopOf is a polygon's loop, turned to hold the smaller side.
func loopOf(poly [][2]float64) *s2.Loop {
	pts := make([]s2.Point, len(poly))
	for i, v := range poly {
		pts[i] = toPoint(v[0], v[1])
	}
	l := s2.LoopFromPoints(pts)
	if l.Area() > 2*math.Pi {
		l.Invert()
	}
	return l
}

// checkPolygon refuses a polygon that has too few or too many vertices,
// lies outside the region or on the other side, crosses itself, or is
// too large.
func checkPolygon(field string, poly [][2]float64, party string) error {
	if len(poly) > 1 && poly[0] == poly[len(poly)-1] {
		poly = poly[:len(poly)-1]
	}
	if len(poly) < 3 || len(poly) > MaxPolygon {
		return fault.Field(field+".polygon", "polygon_vertices")
	}
	for i, v := range poly {
		if err := checkPoint(fmt.Sprintf("%s.polygon[%d]", field, i), v[0], v[1], party); err != nil {
			return err
		}
	}
	l := loopOf(poly)
	if err := l.Validate(); err != nil {
		return fault.Field(field+".polygon", "self_intersecting")
	}
	n := l.NumVertices()
	for i := 0; i < n; i++ {
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue // adjacent through the closing edge
			}
			if s2.CrossingSign(l.Vertex(i), l.Vertex(i+1), l.Vertex(j), l.Vertex(j+1)) != s2.DoNotCross {
				return fault.Field(field+".polygon", "self_intersecting")
			}
		}
	}
	if km2 := l.Area() * border.EarthRadius * border.EarthRadius / 1e6; km2 > MaxPolygonKm2 {
		return fault.Field(field+".polygon", "polygon_too_large")
	}
	return nil
}

// cells are the S2 cells of level that cover areas widened by margin
// metres: two areas closer than twice the margin share a cell.
func cells(areas []Area, level int, margin float64) []s2.CellID {
	rc := &s2.RegionCoverer{MinLevel: level, MaxLevel: level, MaxCells: 1 << 20}
	var out []s2.CellID
	for _, a := range areas {
		if len(a.Polygon) == 0 {
			cu := rc.Covering(s2.CapFromCenterAngle(toPoint(a.Lat, a.Lon), meters(a.RadiusM+margin)))
			cu.Denormalize(level, 1)
			out = append(out, cu...)
			continue
		}
		cu := rc.Covering(s2.PolygonFromLoops([]*s2.Loop{loopOf(a.Polygon)}))
		cu.Denormalize(level, 1)
		ring := []s2.CellID(cu)
		width := s2.MinWidthMetric.Value(level) * border.EarthRadius
		for range int(math.Ceil(margin / width)) {
			var next []s2.CellID
			for _, c := range ring {
				next = append(next, c.AllNeighbors(level)...)
			}
			ring = append(ring, next...)
			slices.Sort(ring)
			ring = slices.Compact(ring)
		}
		out = append(out, ring...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// buckets are the time buckets of hours hours that cover [start, end]
// widened by half of hours at each end: two windows less than hours
// apart share a bucket.
func buckets(start, end time.Time, hours int) []int64 {
	w := int64(hours) * 3600
	half := w / 2
	var out []int64
	for b := (start.Unix() - half) / w; b <= (end.Unix()+half-1)/w; b++ {
		out = append(out, b)
	}
	return out
}

// spaceTimeKeys are an operation's cells × buckets on side party, the
// keys it is deconflicted by: "opcell:<token>:<hours>h<bucket>".
func spaceTimeKeys(op *Operation, party string, d agreement.Deconfliction) []string {
	d = d.WithDefaults()
	sd := op.Sides[party]
	if sd == nil {
		return nil
	}
	var keys []string
	for _, c := range cells(sd.Areas, d.CellLevel, float64(d.DistanceMeters)/2) {
		for _, b := range buckets(op.Start, op.End, d.WindowHours) {
			keys = append(keys, fmt.Sprintf("%s%s:%dh%d", cellPrefix, c.ToToken(), d.WindowHours, b))
		}
	}
	return keys
}

// parseCellKey reads a space-time key back into its cell and its bucket's
// window.
func parseCellKey(k string) (s2.CellID, time.Time, time.Time, bool) {
	var token string
	var hours, b int64
	rest, ok := strings.CutPrefix(k, cellPrefix)
	if !ok {
		return 0, time.Time{}, time.Time{}, false
	}
	tok, tb, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, time.Time{}, time.Time{}, false
	}
	token = tok
	if _, err := fmt.Sscanf(tb, "%dh%d", &hours, &b); err != nil || hours <= 0 {
		return 0, time.Time{}, time.Time{}, false
	}
	c := s2.CellIDFromToken(token)
	if !c.IsValid() {
		return 0, time.Time{}, time.Time{}, false
	}
	from := time.Unix(b*hours*3600, 0).UTC()
	return c, from, from.Add(time.Duration(hours) * time.Hour), true
}

// targetKeys are a target's keys: "target:phone:+52…",
// "target:plate:MX:ABC1234", "target:vin:…", "target:name_year:…".
func targetKeys(t Target) ([]string, error) {
	switch t.Kind {
	case "phone":
		n, err := ident.Normalize(ident.Phone, t.Value, ident.Context{Country: t.Country})
		if err != nil {
			return nil, err
		}
		return []string{targetPrefix + "phone:" + n}, nil
	case "plate":
		v := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(t.Value))
		if !plateRE.MatchString(v) || (t.Country != "MX" && t.Country != "US") {
			return nil, fmt.Errorf("a plate is 2 to 10 letters and digits, of MX or US")
		}
		return []string{targetPrefix + "plate:" + t.Country + ":" + v}, nil
	case "vin":
		v := strings.ToUpper(strings.TrimSpace(t.Value))
		if !vinRE.MatchString(v) {
			return nil, fmt.Errorf("a VIN is 17 letters and digits, without I, O or Q")
		}
		return []string{targetPrefix + "vin:" + v}, nil
	case "person":
		d, err := ident.Normalize(ident.DOB, t.DOB, ident.Context{})
		if err != nil {
			return nil, err
		}
		ks := match.NameYearKeys(t.Name, d[:4])
		if len(ks) == 0 {
			return nil, fmt.Errorf("a person needs a given name and a surname")
		}
		for i := range ks {
			ks[i] = targetPrefix + ks[i]
		}
		return ks, nil
	}
	return nil, fmt.Errorf("unknown target kind %q", t.Kind)
}

// KeysOf are every key op is deconflicted by on side party: its
// space-time cells and its targets, as the blind-matching index holds them.
func KeysOf(op *Operation, party string, d agreement.Deconfliction) []string {
	keys := spaceTimeKeys(op, party, d)
	for _, t := range op.Targets {
		ks, _ := targetKeys(t)
		keys = append(keys, ks...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}
