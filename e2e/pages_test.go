package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"puente/internal/auth"
	"puente/internal/demo"
	"puente/internal/fault"
	"puente/internal/testenv"
	"puente/internal/web"
)

// TestEveryPageInBothLanguages signs in as users of every role on a
// seeded pair, visits every page their menus and lists lead to (up to a
// bound), in Spanish and in English, and fails on what a reader should
// never see: a translation key instead of its text, a raw enum value
// ("not_completed"), or a phrase of the other language's interface (an
// English sentence left on a Spanish page, or the reverse).
func TestEveryPageInBothLanguages(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the demo and crawls its pages")
	}
	p := testenv.StartPair(t)
	ctx := context.Background()
	for party, users := range demo.Users {
		for _, du := range users {
			if _, err := p.Nodes[party].Auth.Create(ctx, auth.NewUser{Username: du.Username, DisplayName: du.Name, Role: du.Role, Agency: du.Agency, Password: demo.Password}); err != nil && !errors.Is(err, fault.ErrConflict) {
				t.Fatal(err)
			}
		}
	}
	if err := demo.SeedAreas(ctx, p.Nodes["MX"], p.Nodes["US"]); err != nil {
		t.Fatal(err)
	}
	cat := map[string]map[string]string{"en": catalogue(t, "en"), "es": catalogue(t, "es")}
	// The keys' first parts ("trn" of "trn.status.draft"): a word of the
	// page starting with one and a dot is a key that was not translated.
	prefixes := map[string]bool{}
	for k := range cat["en"] {
		prefixes[strings.SplitN(k, ".", 2)[0]] = true
	}
	keyRE := regexp.MustCompile(`\b([a-z][a-z0-9]*)\.[a-z0-9_]+(\.[a-z0-9_]+)*\b`)
	enumRE := regexp.MustCompile(`\b[a-z]+_[a-z_]+\b`)
	// The other language's interface: every phrase of two words or more
	// whose translation differs, cut at the placeholders.
	phrases := map[string][]string{}
	for lang, other := range map[string]string{"es": "en", "en": "es"} {
		for k, v := range cat[other] {
			if cat[lang][k] == v {
				continue
			}
			for _, part := range regexp.MustCompile(`\{\{[^}]*\}\}|[«»"(),:;.…]`).Split(v, -1) {
				part = strings.TrimSpace(part)
				if len(strings.Fields(part)) >= 3 && !sameInBoth(part, cat[lang]) {
					phrases[lang] = append(phrases[lang], part)
				}
			}
		}
		slices.Sort(phrases[lang])
		phrases[lang] = slices.Compact(phrases[lang])
	}
	users := map[string][]string{"MX": {"auditor", "supervisora", "coordinador", "juridico", "capacitacion", "policia", "admin"},
		"US": {"auditor", "analyst", "atf", "hsi", "training", "legal"}}
	var problems []string
	pages := 0
	for _, party := range []string{"MX", "US"} {
		base := p.URL(party)
		for _, who := range users[party] {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
			post := func(path string, form url.Values) {
				req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", base)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			post("/login", url.Values{"username": {who}, "password": {demo.Password}})
			for _, lang := range []string{"es", "en"} {
				post("/lang", url.Values{"lang": {lang}, "next": {"/"}})
				seen := map[string]bool{}
				queue := []string{"/"}
				for len(queue) > 0 && len(seen) < 90 {
					path := queue[0]
					queue = queue[1:]
					if seen[path] {
						continue
					}
					seen[path] = true
					resp, err := c.Get(base + path)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
						continue
					}
					pages++
					if resp.StatusCode >= 500 {
						problems = append(problems, fmt.Sprintf("%s %s %s (%s): status %d", party, who, path, lang, resp.StatusCode))
					}
					doc := string(body)
					for _, m := range regexp.MustCompile(`href="(/[^"#]*)"`).FindAllStringSubmatch(doc, -1) {
						link := html.UnescapeString(m[1])
						if !seen[link] && !skipLink(link) {
							queue = append(queue, link)
						}
					}
					text := visibleText(doc)
					where := fmt.Sprintf("%s %s %s (%s)", party, who, path, lang)
					for _, m := range keyRE.FindAllStringSubmatch(text, -1) {
						if prefixes[m[1]] && !strings.Contains(m[0], "..") {
							problems = append(problems, where+": untranslated key "+m[0])
						}
					}
					for _, m := range enumRE.FindAllString(text, -1) {
						if !slices.Contains(citedFields, m) {
							problems = append(problems, where+": raw value "+m)
						}
					}
					for _, ph := range phrases[lang] {
						if strings.Contains(text, ph) && !slices.Contains(dataPhrases, ph) {
							problems = append(problems, where+": the other language's "+strconvQuote(ph))
						}
					}
				}
			}
		}
	}
	slices.Sort(problems)
	problems = slices.Compact(problems)
	t.Logf("%d pages read", pages)
	if len(problems) > 0 {
		t.Fatalf("%d problems:\n%s", len(problems), strings.Join(problems[:min(len(problems), 3000)], "\n"))
	}
}

// citedFields are the agreement's field names that the legal sources of
// the extradition clocks cite by name.
var citedFields = []string{"formal_request_days"}

// dataPhrases are phrases of one language's interface that the demo's
// records also hold as data (a charge typed in Spanish, shown on both
// nodes as written).
var dataPhrases = []string{"Tráfico de armas"}

func strconvQuote(s string) string { return "«" + s + "»" }

// sameInBoth reports whether phrase is also a phrase of lang's own
// catalogue (a proper name, a code).
func sameInBoth(phrase string, own map[string]string) bool {
	for _, v := range own {
		if strings.Contains(v, phrase) {
			return true
		}
	}
	return false
}

// skipLink leaves out what is not a page: downloads, the event stream,
// static files, actions behind a GET.
func skipLink(link string) bool {
	for _, s := range []string{"/static/", "/events", ".csv", ".json", "/file", "/download", "/export", "/attachments/", "/logout", "/record"} {
		if strings.Contains(link, s) {
			return true
		}
	}
	return false
}

var (
	scriptRE = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>`)
	tagRE    = regexp.MustCompile(`(?s)<[^>]*>`)
	// Values the page shows as data, not as words: identifiers, hashes,
	// codes in <code>, what a user typed into a field.
	codeRE = regexp.MustCompile(`(?s)<(code|pre|textarea|option)[^>]*>.*?</(code|pre|textarea|option)>`)
)

func visibleText(doc string) string {
	doc = scriptRE.ReplaceAllString(doc, " ")
	doc = codeRE.ReplaceAllString(doc, " ")
	doc = tagRE.ReplaceAllString(doc, " ")
	return strings.Join(strings.Fields(html.UnescapeString(doc)), " ")
}

// catalogue reads a language's texts (all areas'), plural forms joined.
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(web.Translations(), "i18n", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "."+lang+".json") && path != "i18n/"+lang+".json" {
			return err
		}
		b, err := fs.ReadFile(web.Translations(), path)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				out[k] = v
			case map[string]any:
				var parts []string
				for _, x := range v {
					parts = append(parts, fmt.Sprint(x))
				}
				slices.Sort(parts)
				out[k] = strings.Join(parts, " | ")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
