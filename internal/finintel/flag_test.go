package finintel

import (
	"testing"

	"puente/internal/screen"
)

// TestFlagOf: a match whose year fits is flagged; a strong name match with
// another year is flagged with the discrepancy named (lists' birth dates
// are often wrong); a weaker one with another year is not; no match, no
// flag.
func TestFlagOf(t *testing.T) {
	for _, c := range []struct {
		name    string
		year    int
		cand    screen.Candidate
		flagged bool
		differs bool
	}{
		{"year fits", 1957, screen.Candidate{Match: true, Score: 0.85, BirthYears: []int{1957}}, true, false},
		{"no year here", 0, screen.Candidate{Match: true, Score: 0.85, BirthYears: []int{1954}}, true, false},
		{"El Chapo: 1957 against the SDN's 1954", 1957, screen.Candidate{Match: true, Score: 0.97, BirthYears: []int{1954}}, true, true},
		{"a weaker name with another year", 1957, screen.Candidate{Match: true, Score: 0.84, BirthYears: []int{1954}}, false, false},
		{"no match", 1957, screen.Candidate{Match: false, Score: 0.7}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, ok := flagOf("S1", "Joaquín Archivaldo Guzmán Loera", c.year, c.cand)
			if ok != c.flagged || f.YearDiffers != c.differs {
				t.Fatalf("flagOf = %+v, %t; want flagged %t, differs %t", f, ok, c.flagged, c.differs)
			}
			if f.YearDiffers && (f.Year != c.year || len(f.ListedYears) == 0) {
				t.Fatalf("the discrepancy is not named: %+v", f)
			}
		})
	}
}
