package screen_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"puente/internal/screen"
)

// testdata/lists holds a few real entries of both lists, as published:
// CRLF line ends, -0- for empty, a trailing 0x1A, aliases in alt.csv and
// in the remarks, dates of birth in the remarks.
func load(t *testing.T) *screen.Screener {
	t.Helper()
	es, err := screen.Load("testdata/lists")
	if err != nil {
		t.Fatal(err)
	}
	return screen.New(es)
}

func TestLoad(t *testing.T) {
	es, err := screen.Load("testdata/lists")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]screen.Entry{}
	for _, e := range es {
		byID[e.List+" "+e.ID] = e
	}
	z, ok := byID["ofac-sdn 7226"]
	if !ok || z.Name != "ZAMBADA GARCIA, Ismael" || z.Type != "individual" || !slices.Equal(z.Years, []int{1948}) {
		t.Fatalf("Zambada: %+v", z)
	}
	if !slices.Contains(z.Names, "El Mayo") && !slices.Contains(z.Names, "Mayo") {
		t.Errorf("Zambada's aliases (remarks and alt.csv) are missing: %q", z.Names)
	}
	if b := byID["ofac-sdn 306"]; b.Type != "entity" || !slices.Contains(b.Names, "BNC") {
		t.Errorf("Banco Nacional de Cuba: %+v", b)
	}
	if u := byID["un QDi.002"]; u.Name != "AMIN MUHAMMAD UL HAQ SAAM KHAN" || !slices.Equal(u.Years, []int{1960}) || !slices.Contains(u.Names, "Dr. Amin") {
		t.Errorf("UN individual: %+v", u)
	}
	if e := byID["un CDe.001"]; e.Type != "entity" || e.Name != "ADF" {
		t.Errorf("UN entity: %+v", e)
	}
	if z := byID["un QDi.001"]; !slices.Contains(z.Names, "محمد صلاح الدين عبدالحليم زيدان") {
		t.Errorf("the UN name in its original script is not among the names: %q", z.Names)
	}
}

// TestScreenAcrossScripts: a name written in Arabic script finds the
// listed person whose list gives it, and the Latin name finds the same
// entry (names_test checks Arabic against Latin forms).
func TestScreenAcrossScripts(t *testing.T) {
	s := load(t)
	for _, q := range []string{"محمد صلاح الدين عبدالحليم زيدان", "Mohammed Salahaldin Zidane"} {
		cs := s.Screen(screen.Query{Type: "individual", Name: q})
		if len(cs) == 0 || cs[0].ID != "QDi.001" || !cs[0].Match {
			t.Fatalf("%q: %+v, want QDi.001 first and a match", q, cs)
		}
	}
	cs := s.Screen(screen.Query{Type: "individual", Name: "محمد زيدان"})
	if len(cs) == 0 || cs[0].ID != "QDi.001" || cs[0].MatchedName != "محمد صلاح الدين عبدالحليم زيدان" {
		t.Fatalf("the Arabic short name: %+v, want QDi.001 first, as its Arabic name", cs)
	}
}

func TestScreenFindsVariants(t *testing.T) {
	s := load(t)
	cases := []struct {
		query string
		year  int
		want  string // list id ranked first
		match bool
	}{
		{"Ismael Zambada García", 1948, "7226", true},
		{"ismael zambada garcia", 0, "7226", true},
		{"Zambada Garcia Ismael", 0, "7226", true},
		{"Ismael Sambada", 0, "7226", true},
		{"Ismael Zambada", 0, "7226", true},
		{"El Mayo", 0, "7226", true},
		{"Joaquín Guzmán Loera", 0, "6861", true},
		{"Joaquin Guzmam", 0, "6861", true},
		{"Chapo Guzman", 0, "6861", true},
		{"Banco Nacional de Cuba", 0, "306", true},
		{"Amin Muhammad ul Haq", 0, "QDi.002", true},
		{"Ismael Zambada García", 1990, "7226", false},
	}
	for _, c := range cases {
		cs := s.Screen(screen.Query{Name: c.query, Year: c.year})
		if len(cs) == 0 {
			t.Errorf("%q: no candidate", c.query)
			continue
		}
		if cs[0].ID != c.want || cs[0].Match != c.match {
			t.Errorf("%q (%d): first is %s %q %.3f match=%v; want %s match=%v", c.query, c.year, cs[0].ID, cs[0].Name, cs[0].Score, cs[0].Match, c.want, c.match)
		}
		if len(cs[0].Explanation) == 0 {
			t.Errorf("%q: no explanation", c.query)
		}
	}
	for _, q := range []string{"", "   ", "!!!", "Xqzv Wwwq"} {
		if cs := s.Screen(screen.Query{Name: q}); len(cs) != 0 {
			t.Errorf("%q found %+v", q, cs)
		}
	}
}

func TestLoadRejectsMalformedLists(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"empty folder", map[string]string{"README": "x"}, "no list found"},
		{"too few fields", map[string]string{"ofac-sdn/sdn.csv": "1,\"A\",\"individual\"\r\n"}, "line 1"},
		{"broken quotes", map[string]string{"ofac-sdn/sdn.csv": "1,\"A,\"individual\",\"X\",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-\r\n2,\"B"}, "sdn.csv"},
		{"broken XML", map[string]string{"un/consolidated.xml": "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL>"}, "consolidated.xml"},
		{"entity expansion", map[string]string{"un/consolidated.xml": `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>&b;</FIRST_NAME><REFERENCE_NUMBER>X</REFERENCE_NUMBER></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>`}, "consolidated.xml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := screen.Load(write(t, c.files))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load = %v, want an error naming %q", err, c.want)
			}
		})
	}
}

func TestListsLoadOnceAndSayWhenMissing(t *testing.T) {
	if _, err := screen.NewLists("").Screener(); err != screen.ErrNoLists {
		t.Fatalf("no folder: %v", err)
	}
	l := screen.NewLists("testdata/lists")
	a, err := l.Screener()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := l.Screener()
	if a != b || a.Len() < 10 {
		t.Fatalf("loaded twice or too little: %p %p %d", a, b, a.Len())
	}
}

// TestOwnLists: the node's own lists (its priority targets) are screened
// with the files' lists, replaced as a whole, and screened alone by a
// node without a lists folder.
func TestOwnLists(t *testing.T) {
	target := []screen.Entry{{List: "targets", ID: "MX-1", Type: "individual", Name: "Ovidio Guzmán López", Names: []string{"Ovidio Guzmán López", "El Ratón"}, Years: []int{1990}}}
	for _, dir := range []string{"testdata/lists", ""} {
		l := screen.NewLists(dir)
		l.SetOwn(target)
		sc, err := l.Screener()
		if err != nil {
			t.Fatalf("%q: %v", dir, err)
		}
		got := sc.Screen(screen.Query{Name: "Ovidio Guzman Lopez", Year: 1990})
		if len(got) == 0 || got[0].List != "targets" || got[0].ID != "MX-1" || !got[0].Match {
			t.Fatalf("%q: the target was not found first: %+v", dir, got)
		}
		l.SetOwn(nil)
		if sc, err = l.Screener(); dir == "" {
			if err != screen.ErrNoLists {
				t.Fatalf("no folder and no own lists: %v", err)
			}
			continue
		}
		for _, c := range sc.Screen(screen.Query{Name: "Ovidio Guzman Lopez", Year: 1990}) {
			if c.List == "targets" {
				t.Fatalf("a withdrawn target is still screened: %+v", c)
			}
		}
	}
}

// TestTypeNeedsTwoWords: a person's name does not match a company or a
// vessel on the strength of one shared word; of the same type, or with
// two words, it still does.
func TestTypeNeedsTwoWords(t *testing.T) {
	sc := screen.New([]screen.Entry{
		{List: "x", ID: "1", Type: "entity", Name: "GORA LLC", Names: []string{"GORA LLC"}},
		{List: "x", ID: "2", Type: "vessel", Name: "GUERA", Names: []string{"GUERA"}},
		{List: "x", ID: "3", Type: "individual", Name: "GUERA", Names: []string{"GUERA"}},
		{List: "x", ID: "4", Type: "entity", Name: "MARIA GUERA TRADING", Names: []string{"MARIA GUERA TRADING"}},
	})
	ids := func(q screen.Query) map[string]bool {
		out := map[string]bool{}
		for _, c := range sc.Screen(q) {
			out[c.ID] = true
		}
		return out
	}
	person := ids(screen.Query{Type: "individual", Name: "Güera"})
	if person["1"] || person["2"] || !person["3"] {
		t.Fatalf("a one-word person query: %v", person)
	}
	if untyped := ids(screen.Query{Name: "Güera"}); !untyped["2"] || !untyped["3"] {
		t.Fatalf("an untyped query: %v", untyped)
	}
	if two := ids(screen.Query{Type: "individual", Name: "Maria Guera"}); !two["4"] {
		t.Fatalf("two words against an entity: %v", two)
	}
}

// TestPersonNeverMatchesAnotherTypeOnOneWord: a person's name of several
// words that shares one word with a vessel, an organisation, a company or
// an aircraft is never reported as a match for it.
func TestPersonNeverMatchesAnotherTypeOnOneWord(t *testing.T) {
	sc := screen.New([]screen.Entry{
		{List: "x", ID: "v1", Type: "vessel", Name: "MARIANA", Names: []string{"MARIANA"}},
		{List: "x", ID: "v2", Type: "vessel", Name: "FONSECA STAR", Names: []string{"FONSECA STAR", "FONSECA"}},
		{List: "x", ID: "o1", Type: "entity", Name: "CARTEL DE SINALOA", Names: []string{"CARTEL DE SINALOA", "SINALOA"}},
		{List: "x", ID: "c1", Type: "entity", Name: "GORA LLC", Names: []string{"GORA LLC", "LLC GORA"}},
		{List: "x", ID: "a1", Type: "aircraft", Name: "SLIM AIR", Names: []string{"SLIM AIR"}},
		{List: "x", ID: "p1", Type: "individual", Name: "FONSECA CARRILLO, Ernesto", Names: []string{"FONSECA CARRILLO, Ernesto"}},
	})
	for _, q := range []string{"Rosa Mariana Pérez", "Ernesto Fonseca", "Juan Sinaloa Ruiz", "La Güera Gora", "Carlos Slim Helú", "Mariana", "Fonseca"} {
		for _, c := range sc.Screen(screen.Query{Type: "individual", Name: q}) {
			if c.Type != "individual" && c.Match {
				t.Errorf("%q matched the %s %q (%s) on one word: %.3f %+v", q, c.Type, c.Name, c.MatchedName, c.Score, c.Explanation)
			}
		}
	}
	if cs := sc.Screen(screen.Query{Type: "individual", Name: "Ernesto Fonseca Carrillo"}); len(cs) == 0 || cs[0].ID != "p1" || !cs[0].Match {
		t.Fatalf("the person himself: %+v", cs)
	}
}

// TestExactNameRanksFirstOnTies: of two entries that score the same, the
// one whose name is the query as written ranks first, whatever the lists'
// order.
func TestExactNameRanksFirstOnTies(t *testing.T) {
	sc := screen.New([]screen.Entry{
		{List: "a", ID: "1", Type: "individual", Name: "Ismael Zambada García", Names: []string{"Ismael Zambada García"}},
		{List: "a", ID: "2", Type: "individual", Name: "ZAMBADA GARCIA, Ismael", Names: []string{"ZAMBADA GARCIA, Ismael"}},
		{List: "a", ID: "3", Type: "individual", Name: "García Zambada Ismael", Names: []string{"García Zambada Ismael"}},
	})
	for _, c := range []struct{ q, first string }{
		{"ZAMBADA GARCIA, Ismael", "2"},
		{"Zambada García, Ismael", "2"},
		{"Ismael Zambada Garcia", "1"},
		{"GARCIA ZAMBADA ISMAEL", "3"},
	} {
		cs := sc.Screen(screen.Query{Name: c.q})
		if len(cs) < 3 || cs[0].ID != c.first || cs[0].Score != cs[1].Score {
			t.Errorf("%q: %+v, want %s first of equal scores", c.q, cs, c.first)
		}
	}
}

// TestEvaluateScreening: the screening evaluation writes listed people as
// people write them and finds each first (or tied first), and counts a
// clean name as a false hit only when it is reported as a match.
func TestEvaluateScreening(t *testing.T) {
	es, err := screen.Load("testdata/lists")
	if err != nil {
		t.Fatal(err)
	}
	s := screen.New(es)
	q := screen.EvaluateScreening(s, es, 40)
	if q.Listed != 40 || q.Clean != 40 {
		t.Fatalf("%+v: want 40 of each", q)
	}
	if q.FoundFirst < 38 {
		t.Errorf("only %d of 40 variants of five listed people found first: %q", q.FoundFirst, q.Misses)
	}
	if q.FalseHits > 1 {
		t.Errorf("%d of 40 clean names reported as matches: %q", q.FalseHits, q.Hits)
	}
	want := float64(int(float64(q.FoundFirst+q.Clean-q.FalseHits)/80*1000)) / 1000
	if q.Accuracy != want {
		t.Errorf("accuracy %.3f, want %.3f", q.Accuracy, want)
	}
	// FoundFirst finds the listed name itself first.
	cs := s.Screen(screen.Query{Type: "individual", Name: "Ismael Zambada García"})
	if !screen.FoundFirst(cs, "ofac-sdn", "7226") {
		t.Fatalf("the listed name itself: %+v", cs)
	}
}
