package web

import (
	"io/fs"

	"encoding/json"
	"fmt"
	"net/http"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"puente/internal/auth"
)

// Languages puente speaks; the first is the fallback.
var Languages = []language.Tag{language.English, language.Spanish}

var matcher = language.NewMatcher(Languages)

// Translator looks up texts in the embedded catalogues, with CLDR plural
// rules from go-i18n: the node's own in i18n/<lang>.json, and each work
// area's in i18n/<area>.<lang>.json.
type Translator struct {
	bundle *i18n.Bundle
	locs   map[string]*i18n.Localizer
}

// NewTranslator loads the catalogues.
func NewTranslator() (*Translator, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	t := &Translator{bundle: b, locs: map[string]*i18n.Localizer{}}
	for _, tag := range Languages {
		base, _ := tag.Base()
		files, err := catalogueFiles(base.String())
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if _, err := b.LoadMessageFileFS(assets, f); err != nil {
				return nil, fmt.Errorf("loading %s texts from %s: %w", base, f, err)
			}
		}
		t.locs[base.String()] = i18n.NewLocalizer(b, base.String())
	}
	return t, nil
}

// catalogueFiles lists the catalogues of lang: i18n/<lang>.json and
// i18n/*.<lang>.json.
func catalogueFiles(lang string) ([]string, error) {
	areas, err := fs.Glob(assets, "i18n/*."+lang+".json")
	if err != nil {
		return nil, err
	}
	return append([]string{"i18n/" + lang + ".json"}, areas...), nil
}

// T translates id into lang. args are name/value pairs for the text's
// template; a "Count" pair also picks the plural form. A missing text
// shows its id, and the translation test keeps that from shipping.
func (t *Translator) T(lang, id string, args ...any) string {
	loc, ok := t.locs[lang]
	if !ok {
		loc = t.locs["en"]
	}
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			k := fmt.Sprint(args[i])
			data[k] = args[i+1]
			if k == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := loc.Localize(cfg)
	if err != nil && cfg.PluralCount != nil {
		// A text with one form for every count ("{{.Count}} h").
		cfg.PluralCount = nil
		s, err = loc.Localize(cfg)
	}
	if err != nil {
		return id
	}
	return s
}

// Func binds T to one language, for templates.
func (t *Translator) Func(lang string) func(string, ...any) string {
	return func(id string, args ...any) string { return t.T(lang, id, args...) }
}

// lang picks the language of a response: the user's choice, then the
// language cookie, then Accept-Language.
func (s *Server) lang(r *http.Request, u *auth.User) string {
	if u != nil && (u.Lang == "en" || u.Lang == "es") {
		return u.Lang
	}
	if c, err := r.Cookie(s.cookieName(langCookie)); err == nil && (c.Value == "en" || c.Value == "es") {
		return c.Value
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	tag, _, _ := matcher.Match(tags...)
	base, _ := tag.Base()
	if base.String() == "es" {
		return "es"
	}
	return "en"
}
