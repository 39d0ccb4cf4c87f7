// Package caveats holds the handling rules the originator attaches to
// anything that crosses the link (a thread, a disclosure, an operation),
// and the one rule that reads them: Permits. Every work area stores and
// sends this one type; the third-party rule is enforced by asking it.
package caveats

import (
	"encoding/json"
	"fmt"
	"slices"

	"puente/internal/fault"
)

// Purposes a disclosure may be used for.
const (
	PurposeIntelligence = "intelligence-only"
	PurposeEvidential   = "evidential"
)

// Classifications, lowest first.
var Classifications = []string{"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"}

// Caveats travel with what crosses and bind the recipient. The JSON form
// is part of signed content: keep field names and omissions as they are.
type Caveats struct {
	Classification string `json:"classification"`
	// Purpose is PurposeIntelligence or PurposeEvidential: evidential use
	// of intelligence-only material needs the originator's consent.
	Purpose string `json:"purpose,omitempty"`
	// ReleasableTo names agencies of the recipient's side that may receive
	// it without asking (besides the addressee); any other needs consent.
	ReleasableTo []string `json:"releasable_to,omitempty"`
	// RetentionDays is how long the recipient may keep the content.
	RetentionDays int `json:"retention_days,omitempty"`
	// NoExport forbids exporting the entities to analysts' tools.
	NoExport       bool `json:"no_export,omitempty"`
	ThirdPartyRule bool `json:"third_party_rule"`
}

// Use is what a recipient wants to do with the material.
type Use string

// The uses the caveats decide.
const (
	// Disseminate: pass it on to another agency of the recipient's side.
	Disseminate Use = "disseminate"
	// Evidential: use it as evidence.
	Evidential Use = "evidential"
	// Export: export its entities to analysts' tools.
	Export Use = "export"
)

// Permits reports whether the caveats alone allow use (for Disseminate,
// by agency) without the originator's consent. A use it does not know is
// never permitted.
func (c Caveats) Permits(use Use, agency string) bool {
	switch use {
	case Disseminate:
		return slices.Contains(c.ReleasableTo, agency)
	case Evidential:
		return c.Purpose == PurposeEvidential
	case Export:
		return !c.NoExport
	}
	return false
}

// Normalized returns c with ReleasableTo sorted and without repeats.
func (c Caveats) Normalized() Caveats {
	c.ReleasableTo = slices.Compact(slices.Sorted(slices.Values(c.ReleasableTo)))
	return c
}

// MaxRetention bounds RetentionDays: a hundred years.
const MaxRetention = 36_500

// Check checks caveats a user entered for material released to the
// partner, whose agencies are recipientAgencies, and returns them
// normalised. Each refusal names the field.
func (c Caveats) Check(recipientAgencies []string) (Caveats, error) {
	if !slices.Contains(Classifications, c.Classification) {
		return c, fault.Field("caveats.classification", "invalid_classification")
	}
	if c.Purpose != PurposeIntelligence && c.Purpose != PurposeEvidential {
		return c, fault.Field("caveats.purpose", "invalid_purpose")
	}
	for _, a := range c.ReleasableTo {
		if !slices.Contains(recipientAgencies, a) {
			return c, fault.Field("caveats.releasable_to", "unknown_agency")
		}
	}
	if c.RetentionDays < 1 || c.RetentionDays > MaxRetention {
		return c, fault.Field("caveats.retention_days", "invalid_retention")
	}
	return c.Normalized(), nil
}

// Decode reads caveats stored with a record. Corrupt or missing caveats
// are an error: they must never read as "no restrictions".
func Decode(raw string) (Caveats, error) {
	var c Caveats
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return Caveats{}, fmt.Errorf("the stored caveats are corrupt: %w", err)
	}
	if c.Classification == "" {
		return Caveats{}, fmt.Errorf("the stored caveats have no classification: %q", raw)
	}
	return c, nil
}
