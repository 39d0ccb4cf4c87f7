package web

import (
	"encoding/json"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"testing"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/liaison"
)

func catalogue(t *testing.T, lang string) map[string]any {
	raw, err := fs.ReadFile(assets, "i18n/"+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMissingTranslations fails when a text exists in one language but not
// the other, or when a page or code asks for a text that neither has.
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
	// Every literal key in the templates.
	used := map[string]bool{}
	re := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	files, _ := fs.Glob(assets, "templates/*.html")
	for _, f := range files {
		raw, _ := fs.ReadFile(assets, f)
		for _, m := range re.FindAllSubmatch(raw, -1) {
			used[string(m[1])] = true
		}
	}
	// Every key built at run time.
	for _, r := range auth.Roles {
		used["role."+string(r)] = true
	}
	for _, p := range liaison.Priorities {
		used["priority."+p] = true
	}
	for _, a := range agreement.Areas {
		used["area."+a] = true
	}
	for _, d := range []string{"pending", "delivered", "rejected", "received"} {
		used["delivery."+d] = true
	}
	for _, p := range []string{"MX", "US"} {
		used["party."+p] = true
	}
	for _, c := range []string{"required", "too_long", "invalid_priority", "unknown_agency", "too_many_attachments", "attachment_too_large",
		"invalid_file_name", "invalid_username", "unknown_role", "password_too_short", "unknown_language", "username_taken"} {
		used["error."+c] = true
	}
	for _, f := range []string{"username", "display_name", "role", "agency", "password", "lang", "subject", "priority", "to_agency", "releasable_to", "body", "attachments", "name", "q"} {
		used["field."+f] = true
	}
	for _, k := range slices.Sorted(maps.Keys(used)) {
		if _, ok := en[k]; !ok {
			t.Errorf("the code uses %q, which has no text", k)
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
	}
	for _, c := range cases {
		if got := tr.T(c.lang, c.id, "Count", c.n); got != c.want {
			t.Errorf("%s %s %d = %q, want %q", c.lang, c.id, c.n, got, c.want)
		}
	}
}
