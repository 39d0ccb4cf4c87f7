package web

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"puente/internal/caveats"
	"puente/internal/finintel"
)

func TestDecodeForm(t *testing.T) {
	post := func(v url.Values) *http.Request {
		r, _ := http.NewRequest("POST", "/", strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	var s finintel.Subject
	decodeForm(post(url.Values{"type": {"person"}, "given_names": {"  Mónica "}, "aliases": {"La Güera | Moni"}, "nationality": {"mx"},
		"ref": {"S9"}, "unknown": {"x"}}), &s, "nationality")
	want := finintel.Subject{Ref: "S9", Type: "person", GivenNames: "Mónica", Aliases: []string{"La Güera", "Moni"}, Nationality: "MX"}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("subject: %+v", s)
	}
	var c caveats.Caveats
	decodeForm(post(url.Values{"classification": {"SECRET"}, "releasable_to": {"FGR", "SEDENA"}, "retention_days": {" 365 "}, "no_export": {"1"}}), &c)
	if c.Classification != "SECRET" || !reflect.DeepEqual(c.ReleasableTo, []string{"FGR", "SEDENA"}) || c.RetentionDays != 365 || !c.NoExport {
		t.Errorf("caveats: %+v", c)
	}
	var f finintel.Feedback
	decodeForm(post(url.Values{"count": {"many"}, "currency": {"usd"}}), &f, "currency")
	if f.Count != 0 || f.Currency != "USD" {
		t.Errorf("feedback: %+v", f)
	}
}
