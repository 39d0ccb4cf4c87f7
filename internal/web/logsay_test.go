package web

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestEveryLogKindHasASentence: every kind of log entry the node writes
// (trustlog's own and each area's KindLog… constants) is one the audit
// page says as a sentence (coreLogKinds, an area's Face.LogKinds), so a
// new kind cannot ship as a raw name; TestMissingTranslations requires
// the sentences' texts.
func TestEveryLogKindHasASentence(t *testing.T) {
	// The areas name their log kinds KindLog…; trustlog/entry.go holds
	// only log kinds.
	areaRE := regexp.MustCompile(`\bKindLog\w*\s*=\s*"([a-z_.]+)"`)
	coreRE := regexp.MustCompile(`\bKind\w*\s*=\s*"([a-z_.]+)"`)
	files, err := filepath.Glob("../*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	kinds := slices.Clone(coreLogKinds)
	facesMu.Lock()
	for _, face := range faces {
		kinds = append(kinds, face(&Server{}).LogKinds...)
	}
	facesMu.Unlock()
	found := 0
	for _, f := range files {
		if filepath.Ext(f) != ".go" || regexp.MustCompile(`_test\.go$`).MatchString(f) {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		re := areaRE
		if filepath.ToSlash(f) == "../trustlog/entry.go" {
			re = coreRE
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			found++
			if !slices.Contains(kinds, m[1]) {
				t.Errorf("%s: the log kind %q has no sentence (add it to the area's Face.LogKinds and log.say.%s)", f, m[1], m[1])
			}
		}
	}
	if found < 40 {
		t.Fatalf("only %d log kinds found: the pattern no longer finds them", found)
	}
}
