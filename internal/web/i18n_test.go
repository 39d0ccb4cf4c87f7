package web

import (
	"puente/internal/caveats"

	"encoding/json"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"testing"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/finintel"
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
	// Financial intelligence.
	for _, st := range []string{finintel.StatusDraft, finintel.StatusSubmitted, finintel.StatusReleased, finintel.StatusRecalled, finintel.StatusReceived, finintel.StatusSealed} {
		used["fi.status."+st] = true
	}
	for _, st := range []string{finintel.RFIOpen, finintel.RFIPartial, finintel.RFIAnswered, finintel.RFIDeclined} {
		used["rfi.status."+st] = true
	}
	for _, k := range []string{finintel.RespondPartial, finintel.RespondFull, finintel.RespondDecline} {
		used["rfi.kind."+k] = true
	}
	for _, k := range finintel.FeedbackKinds {
		used["fi.feedback."+k] = true
	}
	for _, k := range finintel.Channels {
		used["fi.channel."+k] = true
	}
	for _, k := range FlashKeys {
		used["fi.flash."+k] = true
	}
	for _, k := range []string{"recall", "retention"} {
		used["fi.seal."+k] = true
	}
	for _, k := range []string{finintel.ConsentPending, finintel.ConsentGranted, finintel.ConsentDenied} {
		used["fi.consent."+k] = true
	}
	for _, k := range []string{finintel.UseDisseminate, finintel.UseEvidential} {
		used["fi.use."+k] = true
	}
	for _, k := range []string{caveats.PurposeIntelligence, caveats.PurposeEvidential} {
		used["fi.purpose."+k] = true
	}
	for _, k := range []string{"subjects", "accounts", "transactions"} {
		used["fi.list."+k] = true
	}
	for _, k := range []string{"curp", "rfc", "ssn", "ein", "passport", "phone", "clabe", "iban", "account", "wallet"} {
		used["match.field."+k] = true
	}
	for _, k := range []string{"data.read", "data.exported", "data.passed_on", "data.refused", "data.evidential"} {
		used["access."+k] = true
	}
	// Every code and field a finintel error can carry.
	for _, c := range []string{"required", "too_long", "invalid_classification", "invalid_purpose", "unknown_agency", "invalid_retention", "invalid_ref",
		"too_many", "invalid_country", "person_has_company_fields", "invalid_subject_type", "invalid_email", "invalid_currency", "unknown_ref",
		"invalid_date", "invalid_amount", "invalid_channel", "duplicate_ref", "disclosure_too_large", "invalid_filter", "invalid_use",
		"invalid_feedback", "invalid_count", "invalid_urgency", "invalid_response", "not_released", "no_file", "four_eyes", "consent_required",
		"export_forbidden", "sealed", "wrong_status", "invalid_file_name", "attachment_too_large", "too_many_attachments"} {
		used["fi.error."+c] = true
	}
	for _, f := range []string{"title", "criminal_group", "narrative", "classification", "purpose", "releasable_to", "retention_days", "rfi_id", "ref",
		"given_names", "first_surname", "second_surname", "aliases", "dob", "nationality", "curp", "rfc", "ssn", "ein", "passport", "phone", "email",
		"name", "country", "type", "bank", "number", "clabe", "iban", "wallet", "currency", "holder", "date", "amount", "from", "to", "channel",
		"agency", "use", "reason", "kind", "count", "note", "conditions", "body", "questions", "urgency", "subjects", "accounts", "transactions",
		"disclosure_id", "direction", "q", "file", "attachments"} {
		used["fi.field."+f] = true
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
