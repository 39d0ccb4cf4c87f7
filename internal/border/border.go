// Package border is the southwest border as the agreement pairs it: the
// nine US Border Patrol sectors, the Mexican border states opposite each,
// the main crossings with their coordinates and time zones, and the two
// countries' outlines, for checking which side a point is on and for
// drawing the map as inline SVG.
//
// The outlines come from Natural Earth's 1:50m countries (public domain),
// as packaged by the npm registry's world-atlas 2.0.2 (ISC licence,
// © Michael Bostock), simplified to 0.01° by gen/main.go. They are
// embedded in the binary: no tile server, no network at run time.
package border

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
	_ "time/tzdata" // the border's zones, whatever the host has

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// Sector is a US Border Patrol sector of the southwest border.
type Sector struct {
	Code string  `json:"code"`
	Name string  `json:"name"`
	Lat  float64 `json:"lat"` // the sector's headquarters
	Lon  float64 `json:"lon"`
	Zone string  `json:"zone"` // IANA zone of most of the sector
}

// State is a Mexican border state.
type State struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Zone is the IANA zone of its border municipalities (which keep the
	// US daylight-saving dates where the rest of the state keeps none).
	Zone string `json:"zone"`
}

// Pair is a US sector and the Mexican state opposite it: what a mirror
// operation is planned on. Approximate says the sector faces more than
// one state, or the state more than one sector, so the pairing is a
// convention, not a line on the map.
type Pair struct {
	ID          string `json:"id"`
	Sector      string `json:"sector"`
	State       string `json:"state"`
	Approximate bool   `json:"approximate"`
}

// Crossing is a port of entry and the Mexican crossing opposite it.
type Crossing struct {
	ID   string  `json:"id"`
	US   string  `json:"us"`
	MX   string  `json:"mx"`
	Pair string  `json:"pair"`
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
}

// Sectors, west to east.
var Sectors = []Sector{
	{"SDC", "San Diego", 32.6401, -117.0842, "America/Los_Angeles"},
	{"ELC", "El Centro", 32.7920, -115.5631, "America/Los_Angeles"},
	{"YUM", "Yuma", 32.6927, -114.6277, "America/Phoenix"},
	{"TCA", "Tucson", 32.2226, -110.9747, "America/Phoenix"},
	{"EPT", "El Paso", 31.7619, -106.4850, "America/Denver"},
	{"BBT", "Big Bend", 30.3582, -103.6610, "America/Chicago"},
	{"DRT", "Del Rio", 29.3709, -100.8959, "America/Chicago"},
	{"LRT", "Laredo", 27.5306, -99.4803, "America/Chicago"},
	{"RGV", "Rio Grande Valley", 26.3017, -98.1633, "America/Chicago"},
}

// States, west to east.
var States = []State{
	{"BC", "Baja California", "America/Tijuana"},
	{"SON", "Sonora", "America/Hermosillo"},
	{"CHIH", "Chihuahua", "America/Ciudad_Juarez"},
	{"COAH", "Coahuila", "America/Matamoros"},
	{"NL", "Nuevo León", "America/Monterrey"},
	{"TAMPS", "Tamaulipas", "America/Matamoros"},
}

// Pairs, west to east.
var Pairs = []Pair{
	{"sdc-bc", "SDC", "BC", false},
	{"elc-bc", "ELC", "BC", false},
	{"yum-bc", "YUM", "BC", true},
	{"yum-son", "YUM", "SON", true},
	{"tca-son", "TCA", "SON", false},
	{"ept-chih", "EPT", "CHIH", false},
	{"bbt-chih", "BBT", "CHIH", true},
	{"bbt-coah", "BBT", "COAH", true},
	{"drt-coah", "DRT", "COAH", false},
	{"lrt-nl", "LRT", "NL", true},
	{"lrt-tamps", "LRT", "TAMPS", true},
	{"rgv-tamps", "RGV", "TAMPS", false},
}

// Crossings, west to east.
var Crossings = []Crossing{
	{"san-ysidro", "San Ysidro", "Tijuana (El Chaparral)", "sdc-bc", 32.5422, -117.0293},
	{"otay-mesa", "Otay Mesa", "Mesa de Otay", "sdc-bc", 32.5527, -116.9381},
	{"tecate", "Tecate", "Tecate", "sdc-bc", 32.5770, -116.6275},
	{"calexico", "Calexico", "Mexicali", "elc-bc", 32.6644, -115.4988},
	{"andrade", "Andrade", "Los Algodones", "yum-bc", 32.7181, -114.7280},
	{"san-luis", "San Luis", "San Luis Río Colorado", "yum-son", 32.4856, -114.7823},
	{"lukeville", "Lukeville", "Sonoyta", "tca-son", 31.8808, -112.8168},
	{"nogales", "Nogales (DeConcini)", "Nogales", "tca-son", 31.3330, -110.9425},
	{"douglas", "Douglas", "Agua Prieta", "tca-son", 31.3337, -109.5602},
	{"santa-teresa", "Santa Teresa", "San Jerónimo", "ept-chih", 31.7836, -106.6795},
	{"el-paso", "El Paso (Paso del Norte)", "Ciudad Juárez", "ept-chih", 31.7587, -106.4869},
	{"presidio", "Presidio", "Ojinaga", "bbt-chih", 29.5604, -104.3717},
	{"del-rio", "Del Rio", "Ciudad Acuña", "drt-coah", 29.3268, -100.9285},
	{"eagle-pass", "Eagle Pass", "Piedras Negras", "drt-coah", 28.7090, -100.5000},
	{"laredo", "Laredo", "Nuevo Laredo", "lrt-tamps", 27.4995, -99.5076},
	{"hidalgo", "Hidalgo", "Reynosa", "rgv-tamps", 26.0945, -98.2697},
	{"brownsville", "Brownsville", "Matamoros", "rgv-tamps", 25.9010, -97.4975},
}

// The border region: what an operation's coordinates must fall in.
const (
	MinLat, MaxLat = 24.5, 34.0
	MinLon, MaxLon = -118.0, -96.5
)

// Tolerance is how far into the partner's outline a point may lie and
// still count as on our side: the outlines are simplified to about 1 km
// and the Rio Grande bends within that; crossings lie up to 2.4 km "in".
const Tolerance = 3000.0

// PairByID returns a pair.
func PairByID(id string) (Pair, bool) {
	i := slices.IndexFunc(Pairs, func(p Pair) bool { return p.ID == id })
	if i < 0 {
		return Pair{}, false
	}
	return Pairs[i], true
}

// SectorByCode returns a sector.
func SectorByCode(code string) (Sector, bool) {
	i := slices.IndexFunc(Sectors, func(s Sector) bool { return s.Code == code })
	if i < 0 {
		return Sector{}, false
	}
	return Sectors[i], true
}

// StateByCode returns a state.
func StateByCode(code string) (State, bool) {
	i := slices.IndexFunc(States, func(s State) bool { return s.Code == code })
	if i < 0 {
		return State{}, false
	}
	return States[i], true
}

// Zone returns the time zone of party's side of the pair.
func (p Pair) Zone(party string) *time.Location {
	name := "UTC"
	if party == "US" {
		s, _ := SectorByCode(p.Sector)
		name = s.Zone
	} else {
		s, _ := StateByCode(p.State)
		name = s.Zone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Name is the pair as people say it: "Tucson – Sonora".
func (p Pair) Name() string {
	s, _ := SectorByCode(p.Sector)
	st, _ := StateByCode(p.State)
	return s.Name + " – " + st.Name
}

// InRegion reports whether a point lies in the border region.
func InRegion(lat, lon float64) bool {
	return lat >= MinLat && lat <= MaxLat && lon >= MinLon && lon <= MaxLon
}

//go:embed countries.json
var countriesJSON []byte

var outlines = func() map[string][]*s2.Loop {
	var raw map[string][][][2]float64
	if err := json.Unmarshal(countriesJSON, &raw); err != nil {
		panic(fmt.Sprintf("border: the embedded outlines do not read: %v", err))
	}
	out := map[string][]*s2.Loop{}
	for code, rings := range raw {
		for _, r := range rings {
			if len(r) > 1 && r[0] == r[len(r)-1] {
				r = r[:len(r)-1]
			}
			pts := make([]s2.Point, len(r))
			for i, p := range r {
				pts[i] = s2.PointFromLatLng(s2.LatLngFromDegrees(p[1], p[0]))
			}
			l := s2.LoopFromPoints(pts)
			if l.Area() > 2*math.Pi {
				l.Invert()
			}
			out[code] = append(out[code], l)
		}
	}
	return out
}()

// Side says which country's outline holds the point ("MX", "US", or ""
// at sea), and how far inside it the point lies, in metres.
func Side(lat, lon float64) (party string, depth float64) {
	p := s2.PointFromLatLng(s2.LatLngFromDegrees(lat, lon))
	for code, loops := range outlines {
		for _, l := range loops {
			if l.ContainsPoint(p) {
				return code, distance(p, l)
			}
		}
	}
	return "", 0
}

// OnSide reports whether a point may be used by party's units: in the
// border region and not further than Tolerance inside the other
// country.
func OnSide(party string, lat, lon float64) bool {
	if !InRegion(lat, lon) {
		return false
	}
	side, depth := Side(lat, lon)
	return side == "" || side == party || depth <= Tolerance
}

// EarthRadius is the mean radius of the Earth, in metres.
const EarthRadius = 6371008.8

func latDeg(p s2.Point) float64 { return s2.LatLngFromPoint(p).Lat.Degrees() }
func lonDeg(p s2.Point) float64 { return s2.LatLngFromPoint(p).Lng.Degrees() }

func distance(p s2.Point, l *s2.Loop) float64 {
	best := s1.InfAngle()
	for i := 0; i < l.NumVertices(); i++ {
		if d := s2.DistanceFromSegment(p, l.Vertex(i), l.Vertex(i+1)); d < best {
			best = d
		}
	}
	return best.Radians() * EarthRadius
}
