package trust

import "testing"

// TestAccessDetail reads the detail of an access entry as the partner
// writes it: the agency passed on to, and the user's name, escaped; an
// older partner's bare "to=" and a hostile name are read safely.
func TestAccessDetail(t *testing.T) {
	for _, tc := range []struct{ detail, to, name string }{
		{"", "", ""},
		{"to=FGR", "FGR", ""},
		{"name=Ana+Mart%C3%ADnez", "", "Ana Martínez"},
		{"to=FGR name=Ana+Mart%C3%ADnez", "FGR", "Ana Martínez"},
		{"name=%ZZ", "", ""},    // does not unescape
		{"name=a%0Ab", "", ""},  // a control character
		{"name=%FF%FE", "", ""}, // not UTF-8
		{"other=x to=DEA", "DEA", ""},
	} {
		to, name := accessDetail(tc.detail)
		if to != tc.to || name != tc.name {
			t.Errorf("%q: to %q name %q, want %q %q", tc.detail, to, name, tc.to, tc.name)
		}
	}
}
