package caveats_test

import (
	"testing"

	"puente/internal/caveats"
)

func TestPermits(t *testing.T) {
	open := caveats.Caveats{Classification: "RESTRICTED", Purpose: caveats.PurposeEvidential, ReleasableTo: []string{"FGR"}}
	closed := caveats.Caveats{Classification: "SECRET", Purpose: caveats.PurposeIntelligence, NoExport: true}
	for _, c := range []struct {
		name   string
		c      caveats.Caveats
		use    caveats.Use
		agency string
		want   bool
	}{
		{"releasable agency", open, caveats.Disseminate, "FGR", true},
		{"other agency", open, caveats.Disseminate, "SEDENA", false},
		{"nothing releasable", closed, caveats.Disseminate, "FGR", false},
		{"evidential purpose", open, caveats.Evidential, "", true},
		{"intelligence only", closed, caveats.Evidential, "", false},
		{"export allowed", open, caveats.Export, "", true},
		{"no export", closed, caveats.Export, "", false},
		{"unknown use", open, caveats.Use("sell"), "FGR", false},
	} {
		if got := c.c.Permits(c.use, c.agency); got != c.want {
			t.Errorf("%s: Permits(%s, %q) = %v", c.name, c.use, c.agency, got)
		}
	}
}

func TestDecodeRefusesCorruptRows(t *testing.T) {
	for _, raw := range []string{"", "null", "{}", `{"classification":`, `not json`, `{"releasable_to":["FGR"]}`} {
		if c, err := caveats.Decode(raw); err == nil {
			t.Errorf("Decode(%q) = %+v, want an error", raw, c)
		}
	}
	c, err := caveats.Decode(`{"classification":"RESTRICTED","releasable_to":["FGR"],"third_party_rule":true}`)
	if err != nil || !c.Permits(caveats.Disseminate, "FGR") || !c.ThirdPartyRule {
		t.Fatalf("Decode of a good row: %+v, %v", c, err)
	}
}
