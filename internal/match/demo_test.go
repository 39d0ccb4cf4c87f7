package match

import "testing"

// The demo's identifiers are valid: they check like real ones.
func TestDemoSubjectsAreValid(t *testing.T) {
	for party, subs := range DemoSubjects {
		for _, s := range subs {
			if _, err := s.Keys(); err != nil {
				t.Errorf("%s %s: %v", party, s.Ref, err)
			}
		}
	}
}
