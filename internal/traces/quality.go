package traces

import (
	"math"
	"regexp"
	"strings"
)

// Quality is the completeness check of a trace request: what will make it
// fail, and how likely it is to succeed.
type Quality struct {
	// Problems are codes, worst first: "foreign_without_importer",
	// "serial_looks_like_model", "missing_calibre"…
	Problems []string `json:"problems"`
	// Blocking are the problems that stop a submission.
	Blocking []string `json:"blocking,omitempty"`
	// Expected is the estimated chance that the trace identifies a first
	// retail purchaser, 0 to 1.
	Expected float64 `json:"expected_success"`
}

// The estimate starts from the success rate of domestic US traces (64–68%
// in ATF's reporting of 2009, against 31% for Mexican requests, a gap
// ATF and GAO put down largely to data quality) and multiplies one factor
// per problem. The factors are the project's judgement of how much each
// problem hurts, written down so they can be argued with; docs/traces.md
// lists them.
const BaseSuccess = 0.66

// factors per problem.
var factors = map[string]float64{
	"missing_serial":           0, // blocking
	"invalid_serial":           0, // blocking
	"obliterated":              0.35,
	"serial_looks_like_model":  0.3,
	"foreign_without_importer": 0.2,
	"missing_manufacturer":     0.3,
	"missing_type":             0.8,
	"missing_calibre":          0.75,
	"missing_model":            0.9,
	"missing_country":          0.85,
	"missing_recovery_date":    0, // blocking
	"missing_recovery_place":   0.9,
	"urgent_without_reason":    0, // blocking
	"missing_case_number":      1, // required by the form, does not change the odds
	"missing_officer":          1,
}

// blocking problems: the form refuses them.
var blocking = map[string]bool{"missing_serial": true, "invalid_serial": true, "missing_recovery_date": true, "urgent_without_reason": true,
	"missing_case_number": true, "missing_officer": true}

// Problems lists every problem code, for translations.
func Problems() []string {
	out := make([]string, 0, len(factors))
	for k := range factors {
		out = append(out, k)
	}
	return out
}

var (
	digitsRE = regexp.MustCompile(`^[0-9]{1,3}$`)
	modelRE  = regexp.MustCompile(`^(AK|AR|M|SKS|MP|PT|P|G|SR|MODEL)[-]?[0-9]{1,4}[A-Z]?$`)
)

// Check runs the completeness check on t's request fields.
func Check(t *Trace) Quality {
	q := Quality{Expected: BaseSuccess}
	add := func(code string) {
		q.Problems = append(q.Problems, code)
		if blocking[code] {
			q.Blocking = append(q.Blocking, code)
		}
		q.Expected *= factors[code]
	}
	f := t.Firearm
	serial := NormSerial(f.Serial)
	switch {
	case serial == "" && !f.Obliterated:
		add("missing_serial")
	case serial != "" && !serialRE.MatchString(serial):
		add("invalid_serial")
	}
	if f.Obliterated {
		add("obliterated")
	}
	model := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(f.Model), " ", ""))
	if serial != "" && (serial == model || (model != "" && strings.Contains(serial, model) && len(serial) <= len(model)+2) || digitsRE.MatchString(serial) || modelRE.MatchString(serial)) {
		add("serial_looks_like_model")
	}
	country := strings.ToUpper(strings.TrimSpace(f.Country))
	if country != "" && country != "US" && strings.TrimSpace(f.Importer) == "" {
		add("foreign_without_importer")
	}
	for _, c := range []struct{ v, code string }{{f.Manufacturer, "missing_manufacturer"}, {f.Type, "missing_type"}, {f.Calibre, "missing_calibre"},
		{f.Model, "missing_model"}, {country, "missing_country"}, {t.Recovery.Date, "missing_recovery_date"}, {t.Recovery.Place, "missing_recovery_place"},
		{t.Case, "missing_case_number"}, {t.Officer, "missing_officer"}} {
		if strings.TrimSpace(c.v) == "" {
			add(c.code)
		}
	}
	if t.Priority == Urgent && strings.TrimSpace(t.Justification) == "" {
		add("urgent_without_reason")
	}
	q.Expected = math.Round(q.Expected*100) / 100
	return q
}
