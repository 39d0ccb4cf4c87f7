package web

import (
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"puente/internal/names"
)

func catalogue(t *testing.T, lang string) map[string]any {
	t.Helper()
	files, err := catalogueFiles(lang)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	for _, f := range files {
		raw, err := fs.ReadFile(assets, f)
		if err != nil {
			t.Fatal(err)
		}
		var part map[string]any
		if err := json.Unmarshal(raw, &part); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range part {
			if _, dup := m[k]; dup {
				t.Errorf("%q is in two %s catalogues", k, lang)
			}
			m[k] = v
		}
	}
	return m
}

// literalKeys finds the translation keys written out in templates and Go
// sources: any string literal whose first part is a catalogue prefix.
func literalKeys(t *testing.T, prefixes map[string]bool) map[string]string {
	t.Helper()
	used := map[string]string{}
	tplKey := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	tpls, err := templateFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tpls {
		raw, _ := fs.ReadFile(assets, f)
		for _, m := range tplKey.FindAllSubmatch(raw, -1) {
			used[string(m[1])] = f
		}
	}
	goKey := regexp.MustCompile(`"([a-z]+)\.([a-z0-9_.]*[a-z0-9_])"`)
	srcs, _ := filepath.Glob("*.go")
	areaSrcs, _ := filepath.Glob("../*/area.go")
	for _, f := range append(srcs, areaSrcs...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllSubmatch(raw, -1) {
			if prefixes[string(m[1])] {
				used[string(m[1])+"."+string(m[2])] = f
			}
		}
	}
	return used
}

var (
	codeRE  = regexp.MustCompile(`(?:fault\.Field\([^,\n]+, |\bCode: |fault\.New\(fault\.\w+, )"([a-z_.]+)"`)
	fieldRE = regexp.MustCompile(`(?:fault\.Field\(|Field: )"([a-z_.]+)"|\b(?:field|f) \+ "\.([a-z_]+)"`)
)

// errorKeys reads the codes and fields of the field errors and reasons in
// package dir's sources and returns the keys the pages translate them by.
func errorKeys(t *testing.T, dir, errorKey, fieldKey string) map[string]string {
	t.Helper()
	used := map[string]string{}
	files, _ := filepath.Glob(filepath.Join("..", dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range codeRE.FindAllSubmatch(raw, -1) {
			code := string(m[1])
			if strings.HasSuffix(code, ".") {
				continue // a prefix joined at run time ("ident." + code)
			}
			if strings.HasPrefix(code, "ident.") {
				used[code] = f // identifier checks have texts of their own
			} else {
				used[errorKey+code] = f
			}
		}
		for _, m := range fieldRE.FindAllSubmatch(raw, -1) {
			name := string(m[1]) + string(m[2])
			used[fieldKey+name[strings.LastIndex(name, ".")+1:]] = f
		}
	}
	return used
}

// usesPackage reports whether package dir's sources import path.
func usesPackage(t *testing.T, dir, path string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", dir, "*.go"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), `"`+path+`"`) {
			return true
		}
	}
	return false
}

// TestMissingTranslations fails when a text exists in one language but not
// the other, or when a page, an area or an error asks for a text that
// neither has. The keys are discovered: from templates and sources, from
// the error codes and fields in each area's package, and from the run-time
// keys each area's Face lists.
func TestMissingTranslations(t *testing.T) {
	en, es := catalogue(t, "en"), catalogue(t, "es")
	for k := range en {
		if _, ok := es[k]; !ok {
			t.Errorf("%q is in English but not in Spanish", k)
		}
	}
	for k := range es {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is in Spanish but not in English", k)
		}
	}
	prefixes := map[string]bool{}
	for k := range en {
		prefixes[k[:strings.Index(k+".", ".")]] = true
	}
	used := literalKeys(t, prefixes)
	add := func(from string, keys ...string) {
		for _, k := range keys {
			used[k] = from
		}
	}
	add("coreKeys", coreKeys()...)
	add("names.Hows", keysOf("how.", names.Hows...)...)
	maps.Copy(used, errorKeys(t, "auth", "error.", "field."))
	facesMu.Lock()
	names := slices.Sorted(maps.Keys(faces))
	facesMu.Unlock()
	for _, name := range names {
		f := faces[name](&Server{})
		add(name+" Face.Keys", f.Keys...)
		add(name+" Face.LogKinds", keysOf("log.say.", f.LogKinds...)...)
		for _, nav := range f.Nav {
			add(name+" Face.Nav", nav.Label)
		}
		if f.ErrorKey != "" {
			maps.Copy(used, errorKeys(t, name, f.ErrorKey, f.FieldKey))
			// The shared text and file-name rules report through the areas
			// that use them.
			if usesPackage(t, name, "puente/internal/input") {
				for k, v := range errorKeys(t, "input", f.ErrorKey, f.FieldKey) {
					if strings.HasPrefix(k, f.ErrorKey) {
						used[k] = v
					}
				}
			}
		}
	}
	if len(used) < 400 {
		t.Fatalf("only %d keys discovered: the discovery is broken", len(used))
	}
	for _, k := range slices.Sorted(maps.Keys(used)) {
		if _, ok := en[k]; !ok {
			t.Errorf("%s uses %q, which has no text", used[k], k)
		}
	}
}

func TestTranslatorPlurals(t *testing.T) {
	tr, err := NewTranslator()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		lang, id string
		n        int
		want     string
	}{
		{"en", "home.pending_count", 1, "1 message"},
		{"en", "home.pending_count", 3, "3 messages"},
		{"es", "home.pending_count", 1, "1 mensaje"},
		{"es", "home.pending_count", 0, "0 mensajes"},
		{"es", "agreement.days", 60, "60 días"},
		{"es", "fi.title", 0, "Inteligencia financiera"},
	}
	for _, c := range cases {
		if got := tr.T(c.lang, c.id, "Count", c.n); got != c.want {
			t.Errorf("%s %s %d = %q, want %q", c.lang, c.id, c.n, got, c.want)
		}
	}
}
