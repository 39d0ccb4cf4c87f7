package trust

import (
	"testing"
	"time"
)

// TestStallReportedOncePerStretch: a stall alarm stands for the whole
// stretch without a witness, so a replica that takes over the trust loop
// (knowing only the alarm in the store) does not raise it again; a
// witness ends the stretch.
func TestStallReportedOncePerStretch(t *testing.T) {
	w := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name                string
		reported, witnessed time.Time
		want                bool
	}{
		{"nothing reported yet", time.Time{}, w, false},
		{"nothing reported, never witnessed", time.Time{}, time.Time{}, false},
		{"reported for this stretch (it began at the witness)", w, w, true},
		{"reported for this stretch (it began at the loop's start, after the witness)", w.Add(time.Minute), w, true},
		{"reported, never witnessed since the node began", w, time.Time{}, true},
		{"reported before the last witness: a new stretch", w.Add(-time.Second), w, false},
	} {
		if got := stallReported(c.reported, c.witnessed); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
