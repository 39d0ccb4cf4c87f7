package store

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestMigrationsAreTwins: the two dialects' migrations are one schema.
// Each file exists for both, and they differ only in the dialect's type
// names (and comments).
func TestMigrationsAreTwins(t *testing.T) {
	comment := regexp.MustCompile(`--[^\n]*`)
	space := regexp.MustCompile(`\s+`)
	// SQLite's spelling → PostgreSQL's, longest first.
	types := strings.NewReplacer(
		"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY",
		"INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY",
		"BLOB", "BYTEA",
	)
	norm := func(s string) string {
		return strings.TrimSpace(space.ReplaceAllString(comment.ReplaceAllString(s, ""), " "))
	}
	lite, err := fs.Glob(migrations, "migrations/sqlite/*.sql")
	if err != nil || len(lite) == 0 {
		t.Fatalf("no SQLite migrations: %v", err)
	}
	pg, _ := fs.Glob(migrations, "migrations/postgres/*.sql")
	if len(pg) != len(lite) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones", len(lite), len(pg))
	}
	for _, f := range lite {
		twin := strings.Replace(f, "/sqlite/", "/postgres/", 1)
		a, err := fs.ReadFile(migrations, f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := fs.ReadFile(migrations, twin)
		if err != nil {
			t.Errorf("%s has no PostgreSQL twin", f)
			continue
		}
		got, want := types.Replace(norm(string(a))), norm(string(b))
		if got != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s and its twin differ beyond type names, from %q / %q", f, got[max(0, i-40):min(len(got), i+60)], want[max(0, i-40):min(len(want), i+60)])
		}
	}
}
