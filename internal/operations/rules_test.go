package operations

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"puente/internal/agreement"
	"puente/internal/fault"
)

func code(err error) string {
	var fe *fault.FieldError
	if errors.As(err, &fe) {
		return fe.Code
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

// TestParseTimeAcrossZones: wall-clock times are read in the pair's own
// zone; the spring gap and the autumn overlap are refused where the zone
// keeps daylight saving, and accepted in Arizona and Sonora, which keep
// none.
func TestParseTimeAcrossZones(t *testing.T) {
	load := func(name string) *time.Location {
		l, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	cases := []struct {
		name, zone, in string
		want           string // UTC, or the error code
	}{
		{"El Paso, spring gap", "America/Denver", "2027-03-14T02:30", "nonexistent_time"},
		{"El Paso, autumn overlap", "America/Denver", "2027-11-07T01:30", "ambiguous_time"},
		{"El Paso, before the change", "America/Denver", "2027-03-14T01:30", "2027-03-14T08:30:00Z"},
		{"El Paso, after the change", "America/Denver", "2027-03-14T03:30", "2027-03-14T09:30:00Z"},
		{"Ciudad Juárez follows the US dates", "America/Ciudad_Juarez", "2027-03-14T02:30", "nonexistent_time"},
		{"Matamoros follows the US dates", "America/Matamoros", "2027-11-07T01:30", "ambiguous_time"},
		{"Tucson has no gap", "America/Phoenix", "2027-03-14T02:30", "2027-03-14T09:30:00Z"},
		{"Tucson, November", "America/Phoenix", "2027-11-07T01:30", "2027-11-07T08:30:00Z"},
		{"Sonora has no gap", "America/Hermosillo", "2027-03-14T02:30", "2027-03-14T09:30:00Z"},
		{"Tijuana, spring gap", "America/Tijuana", "2027-03-14T02:30", "nonexistent_time"},
		{"an offset is never ambiguous", "America/Denver", "2027-11-07T01:30:00-06:00", "2027-11-07T07:30:00Z"},
		{"not a time", "America/Denver", "tomorrow", "invalid_time"},
		{"empty", "America/Denver", " ", "required"},
	}
	for _, c := range cases {
		got, err := ParseTime("start", c.in, load(c.zone))
		if err != nil {
			if code(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
			continue
		}
		if s := got.Format(time.RFC3339); s != c.want {
			t.Errorf("%s: %s, want %s", c.name, s, c.want)
		}
	}
	// A window across a change: six wall-clock hours in El Paso are five
	// real hours in March and seven in November; in Tucson, six and six.
	for _, c := range []struct {
		zone, from, to string
		hours          float64
	}{
		{"America/Denver", "2027-03-14T00:00", "2027-03-14T06:00", 5},
		{"America/Denver", "2027-11-07T00:00", "2027-11-07T06:00", 7},
		{"America/Phoenix", "2027-03-14T00:00", "2027-03-14T06:00", 6},
		{"America/Hermosillo", "2027-11-07T00:00", "2027-11-07T06:00", 6},
	} {
		a, err1 := ParseTime("start", c.from, load(c.zone))
		b, err2 := ParseTime("end", c.to, load(c.zone))
		if err1 != nil || err2 != nil || b.Sub(a).Hours() != c.hours {
			t.Errorf("%s %s → %s: %v hours (%v, %v), want %v", c.zone, c.from, c.to, b.Sub(a).Hours(), err1, err2, c.hours)
		}
	}
	// Arizona against its neighbours: one instant, three wall clocks.
	at := time.Date(2027, 7, 1, 18, 0, 0, 0, time.UTC)
	for zone, want := range map[string]string{"America/Phoenix": "11:00", "America/Hermosillo": "11:00", "America/Los_Angeles": "11:00", "America/Denver": "12:00", "America/Tijuana": "11:00", "America/Ciudad_Juarez": "12:00"} {
		if got := at.In(load(zone)).Format("15:04"); got != want {
			t.Errorf("%s in July: %s, want %s", zone, got, want)
		}
	}
	at = time.Date(2027, 1, 15, 18, 0, 0, 0, time.UTC)
	for zone, want := range map[string]string{"America/Phoenix": "11:00", "America/Los_Angeles": "10:00", "America/Denver": "11:00"} {
		if got := at.In(load(zone)).Format("15:04"); got != want {
			t.Errorf("%s in January: %s, want %s", zone, got, want)
		}
	}
}

// TestWindowsAndAreas: bad windows, coordinates and polygons name their
// field.
func TestWindowsAndAreas(t *testing.T) {
	now := time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name       string
		start, end time.Time
		want       string
	}{
		{"ends before it starts", now.Add(2 * time.Hour), now.Add(time.Hour), "ends_before_start"},
		{"in the past", now.Add(-3 * time.Hour), now.Add(time.Hour), "in_the_past"},
		{"too long", now, now.Add(8 * 24 * time.Hour), "window_too_long"},
		{"good", now.Add(time.Hour), now.Add(5 * time.Hour), ""},
	} {
		if got := code(checkWindow(c.start, c.end, now)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		name  string
		party string
		areas []Area
		want  string
	}{
		{"Nogales, Arizona, for the US", "US", []Area{{Lat: 31.35, Lon: -110.94, RadiusM: 500}}, ""},
		{"Nogales, Sonora, for the US", "US", []Area{{Lat: 31.28, Lon: -110.94, RadiusM: 500}}, "wrong_side"},
		{"Hermosillo for MX", "MX", []Area{{Lat: 29.07, Lon: -110.95, RadiusM: 500}}, ""},
		{"Denver is not the border", "US", []Area{{Lat: 39.7, Lon: -104.9, RadiusM: 500}}, "outside_border_region"},
		{"latitude out of range", "MX", []Area{{Lat: 120, Lon: -110, RadiusM: 500}}, "invalid_coordinates"},
		{"radius too small", "MX", []Area{{Lat: 29.07, Lon: -110.95, RadiusM: 5}}, "radius_out_of_range"},
		{"no area", "MX", nil, "required"},
		{"a polygon", "MX", []Area{{Polygon: [][2]float64{{29.0, -111.0}, {29.0, -110.9}, {29.1, -110.9}, {29.1, -111.0}}}}, ""},
		{"a polygon given clockwise", "MX", []Area{{Polygon: [][2]float64{{29.0, -111.0}, {29.1, -111.0}, {29.1, -110.9}, {29.0, -110.9}}}}, ""},
		{"a bow tie", "MX", []Area{{Polygon: [][2]float64{{29.0, -111.0}, {29.1, -110.9}, {29.0, -110.9}, {29.1, -111.0}}}}, "self_intersecting"},
		{"two points", "MX", []Area{{Polygon: [][2]float64{{29.0, -111.0}, {29.1, -110.9}}}}, "polygon_vertices"},
		{"half of Sonora", "MX", []Area{{Polygon: [][2]float64{{28.0, -112.0}, {28.0, -109.5}, {30.5, -109.5}, {30.5, -112.0}}}}, "polygon_too_large"},
		{"a polygon reaching into Arizona", "MX", []Area{{Polygon: [][2]float64{{31.0, -111.0}, {31.0, -110.9}, {31.6, -110.9}}}}, "wrong_side"},
	} {
		if got := code(checkAreas("areas", c.areas, c.party, true)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestCellsMeetAcrossAnEdge: two small areas 300 m apart share a cell
// whichever way the cell edges fall; areas 10 km apart do not; windows
// an hour apart share a bucket, windows a day apart do not.
func TestCellsMeetAcrossAnEdge(t *testing.T) {
	d := agreement.Deconfliction{}.WithDefaults()
	start := time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)
	op := func(lat, lon float64, from, to time.Duration) *Operation {
		return &Operation{Start: start.Add(from), End: start.Add(to), Sides: map[string]*Side{"MX": {Areas: []Area{{Lat: lat, Lon: lon, RadiusM: 100}}}}}
	}
	meet := func(a, b *Operation) bool {
		ka := spaceTimeKeys(a, "MX", d)
		for _, k := range spaceTimeKeys(b, "MX", d) {
			if slices.Contains(ka, k) {
				return true
			}
		}
		return false
	}
	// 300 m apart, at 200 places along a line that crosses many cell
	// edges: they always meet.
	for i := range 200 {
		lat, lon := 31.30+float64(i)*0.0007, -110.95+float64(i)*0.0011
		if !meet(op(lat, lon, 0, 2*time.Hour), op(lat+0.0027, lon, time.Hour, 3*time.Hour)) {
			t.Fatalf("areas 300 m apart at %.4f,%.4f do not meet", lat, lon)
		}
	}
	if meet(op(31.30, -110.95, 0, 2*time.Hour), op(31.39, -110.95, 0, 2*time.Hour)) {
		t.Error("areas 10 km apart meet")
	}
	if !meet(op(31.30, -110.95, 0, 2*time.Hour), op(31.30, -110.95, 3*time.Hour, 4*time.Hour)) {
		t.Error("windows an hour apart do not meet")
	}
	if meet(op(31.30, -110.95, 0, 2*time.Hour), op(31.30, -110.95, 26*time.Hour, 28*time.Hour)) {
		t.Error("windows a day apart meet")
	}
	for _, k := range spaceTimeKeys(op(31.30, -110.95, 0, 2*time.Hour), "MX", d) {
		cell, from, to, ok := parseCellKey(k)
		if !ok || !cell.IsValid() || to.Sub(from) != time.Duration(d.WindowHours)*time.Hour {
			t.Fatalf("key %s does not read back", k)
		}
	}
}

func TestTargetKeys(t *testing.T) {
	for _, c := range []struct {
		t    Target
		want string
	}{
		{Target{Kind: "plate", Value: "vyt-4471", Country: "MX"}, "target:plate:MX:VYT4471"},
		{Target{Kind: "vin", Value: "1hgcm82633a004352"}, "target:vin:1HGCM82633A004352"},
		{Target{Kind: "phone", Value: "+52 631 555 0142"}, "target:phone:+526315550142"},
		{Target{Kind: "person", Name: "Ismael Zambada García", DOB: "1948-01-01"}, "target:name_year:"},
		{Target{Kind: "vin", Value: "IHGCM82633A004352"}, "error"},
		{Target{Kind: "plate", Value: "ABC123", Country: "GT"}, "error"},
		{Target{Kind: "person", Name: "Zambada"}, "error"},
	} {
		ks, err := targetKeys(c.t)
		got := "error"
		if err == nil {
			got = strings.Join(ks, " ")
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.t, got, c.want)
		}
	}
}
