package border

import (
	"fmt"
	"math"
	"strings"
)

// The map's projection: equirectangular over the border region, with
// longitudes shortened by the cosine of its middle latitude, at Scale
// units per degree of latitude.
const Scale = 48.0

var lonFactor = math.Cos((MinLat + MaxLat) / 2 * math.Pi / 180)

// Project turns a point into map coordinates.
func Project(lat, lon float64) (x, y float64) {
	return (lon - MinLon) * lonFactor * Scale, (MaxLat - lat) * Scale
}

// Size is the map's width and height in its own units.
func Size() (w, h float64) {
	return (MaxLon - MinLon) * lonFactor * Scale, (MaxLat - MinLat) * Scale
}

// Paths are the SVG path data of each country's outline ("MX", "US"),
// projected; what falls outside the region is clipped by the SVG.
func Paths() map[string]string {
	return paths
}

var paths = func() map[string]string {
	out := map[string]string{}
	for code, loops := range outlines {
		var b strings.Builder
		for _, l := range loops {
			for i := 0; i < l.NumVertices(); i++ {
				ll := l.Vertex(i)
				lat, lon := latDeg(ll), lonDeg(ll)
				if lon < MinLon-15 || lon > MaxLon+15 || lat < MinLat-15 || lat > MaxLat+15 {
					continue
				}
				x, y := Project(lat, lon)
				op := "L"
				if b.Len() == 0 || strings.HasSuffix(b.String(), "Z") {
					op = "M"
				}
				fmt.Fprintf(&b, "%s%.1f %.1f", op, x, y)
			}
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "Z") {
				b.WriteString("Z")
			}
		}
		out[code] = b.String()
	}
	return out
}()
