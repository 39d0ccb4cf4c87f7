package border

import (
	"strings"
	"testing"
	"time"
)

func TestSide(t *testing.T) {
	for _, c := range []struct {
		name     string
		lat, lon float64
		want     string
	}{
		{"Tucson", 32.2226, -110.9747, "US"},
		{"Hermosillo", 29.0729, -110.9559, "MX"},
		{"San Diego", 32.7157, -117.1611, "US"},
		{"Tijuana centre", 32.5149, -117.0382, "MX"},
		{"Ciudad Juárez", 31.6904, -106.4245, "MX"},
		{"El Paso", 31.7776, -106.4425, "US"},
		{"Nuevo Laredo", 27.4764, -99.5164, "MX"},
		{"Monterrey", 25.6866, -100.3161, "MX"},
		{"Brownsville", 25.9300, -97.4846, "US"},
		{"Pacific off Ensenada", 31.2, -117.6, ""},
	} {
		if got, _ := Side(c.lat, c.lon); got != c.want {
			t.Errorf("%s: side %q, want %q", c.name, got, c.want)
		}
	}
	// A crossing lies on the line: both sides may use it.
	for _, c := range Crossings {
		if !OnSide("MX", c.Lat, c.Lon) || !OnSide("US", c.Lat, c.Lon) {
			t.Errorf("crossing %s is not usable by both sides", c.ID)
		}
	}
	if OnSide("US", 29.0729, -110.9559) {
		t.Error("Hermosillo is on the US side")
	}
	if OnSide("MX", 40, -100) {
		t.Error("a point outside the region is accepted")
	}
}

func TestData(t *testing.T) {
	if len(Sectors) != 9 {
		t.Fatalf("%d sectors", len(Sectors))
	}
	for _, p := range Pairs {
		if _, ok := SectorByCode(p.Sector); !ok {
			t.Errorf("pair %s: unknown sector", p.ID)
		}
		if _, ok := StateByCode(p.State); !ok {
			t.Errorf("pair %s: unknown state", p.ID)
		}
		for _, party := range []string{"MX", "US"} {
			if p.Zone(party) == time.UTC {
				t.Errorf("pair %s has no zone for %s", p.ID, party)
			}
		}
	}
	for _, c := range Crossings {
		if _, ok := PairByID(c.Pair); !ok {
			t.Errorf("crossing %s: unknown pair", c.ID)
		}
		if !InRegion(c.Lat, c.Lon) {
			t.Errorf("crossing %s is outside the region", c.ID)
		}
	}
	for code, d := range Paths() {
		if !strings.HasPrefix(d, "M") || strings.Count(d, "L") < 100 {
			t.Errorf("outline of %s is too short: %.40s", code, d)
		}
	}
}
