//go:build ignore

// Command gen writes countries.json, the outlines of Mexico and the
// United States near their border, from Natural Earth's 1:50m countries
// (public domain) as packaged by the npm registry's world-atlas
// (ISC licence). Run it from internal/border after "npm pack
// world-atlas@2" and unpacking the tarball:
//
//	go run ./gen /path/to/package/countries-50m.json > countries.json
//
// It decodes the TopoJSON, keeps the rings of the two countries that
// reach the border region, and simplifies them (Douglas–Peucker, 0.01°).
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
)

type topology struct {
	Transform *struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Objects map[string]struct {
		Geometries []struct {
			Type       string            `json:"type"`
			Arcs       json.RawMessage   `json:"arcs"`
			Properties map[string]string `json:"properties"`
		} `json:"geometries"`
	} `json:"objects"`
	Arcs [][][2]float64 `json:"arcs"`
}

type pt [2]float64

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var t topology
	if err := json.Unmarshal(raw, &t); err != nil {
		panic(err)
	}
	arcs := make([][]pt, len(t.Arcs))
	for i, a := range t.Arcs {
		var x, y float64
		for _, p := range a {
			if t.Transform != nil {
				x, y = x+p[0], y+p[1]
				arcs[i] = append(arcs[i], pt{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]})
			} else {
				arcs[i] = append(arcs[i], pt{p[0], p[1]})
			}
		}
	}
	ring := func(ids []int) []pt {
		var out []pt
		for _, id := range ids {
			var a []pt
			if id >= 0 {
				a = append(a, arcs[id]...)
			} else {
				src := arcs[^id]
				for i := len(src) - 1; i >= 0; i-- {
					a = append(a, src[i])
				}
			}
			if len(out) > 0 {
				a = a[1:]
			}
			out = append(out, a...)
		}
		return out
	}
	out := map[string][][]pt{}
	for _, g := range t.Objects["countries"].Geometries {
		code := map[string]string{"Mexico": "MX", "United States of America": "US"}[g.Properties["name"]]
		if code == "" {
			continue
		}
		var polys [][][]int
		if g.Type == "Polygon" {
			var p [][]int
			json.Unmarshal(g.Arcs, &p)
			polys = [][][]int{p}
		} else {
			json.Unmarshal(g.Arcs, &polys)
		}
		for _, p := range polys {
			r := ring(p[0]) // outer rings only: neither country has a lake that matters here
			if !near(r) {
				continue
			}
			out[code] = append(out[code], simplify(r, 0.01))
		}
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

// near: the ring reaches the border region.
func near(r []pt) bool {
	for _, p := range r {
		if p[0] > -125 && p[0] < -85 && p[1] > 14 && p[1] < 40 {
			return true
		}
	}
	return false
}

func simplify(r []pt, eps float64) []pt {
	if len(r) < 4 {
		return r
	}
	keep := make([]bool, len(r))
	keep[0], keep[len(r)-1] = true, true
	var dp func(i, j int)
	dp = func(i, j int) {
		best, at := 0.0, -1
		for k := i + 1; k < j; k++ {
			if d := segDist(r[k], r[i], r[j]); d > best {
				best, at = d, k
			}
		}
		if at >= 0 && best > eps {
			keep[at] = true
			dp(i, at)
			dp(at, j)
		}
	}
	dp(0, len(r)-1)
	var out []pt
	for i, p := range r {
		if keep[i] {
			out = append(out, pt{math.Round(p[0]*1e4) / 1e4, math.Round(p[1]*1e4) / 1e4})
		}
	}
	return out
}

func segDist(p, a, b pt) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := dx*dx + dy*dy
	t := 0.0
	if l > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	x, y := a[0]+t*dx-p[0], a[1]+t*dy-p[1]
	return math.Hypot(x, y)
}
