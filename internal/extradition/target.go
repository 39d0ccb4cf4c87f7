package extradition

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/input"
	"puente/internal/match"
)

// Where a nomination of ours stands (Target.Stage); the partner's are
// "received".
const (
	StageDraft     = "draft"
	StageSubmitted = "submitted"
	StageReleased  = "released"
	StageReceived  = "received"
)

// The person's status (Target.Status).
const (
	AtLarge           = "at_large"
	Located           = "located"
	Detained          = "detained"
	InProceedings     = "in_proceedings"
	TargetSurrendered = "surrendered"
	Deceased          = "deceased"
	Withdrawn         = "withdrawn"
)

// Statuses lists them in the order of a case.
var Statuses = []string{AtLarge, Located, Detained, InProceedings, TargetSurrendered, Deceased, Withdrawn}

// Stages lists the stages of a nomination.
var Stages = []string{StageDraft, StageSubmitted, StageReleased, StageReceived}

// Agencies are, per side, the agencies that work priority targets and
// extradition: who may nominate, and to whom the partner's nominations
// are released by default.
var Agencies = map[string][]string{
	"MX": {"FGR", "SRE", "SSPC", "GN", "SEMAR", "SEDENA"},
	"US": {"DOJ-OIA", "STATE", "FBI", "DEA", "HSI", "CBP", "ATF"},
}

// Bounds of a target's fields.
const (
	MaxShort    = 200
	MaxText     = 4000
	MaxAliases  = 20
	MaxCharges  = 20
	MaxNations  = 4
	MaxAddition = 4000
	MaxPhotos   = 5
	MaxPhoto    = 5 << 20
)

// Photo is a photograph of a target.
type Photo struct {
	SHA256      string `json:"sha256"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"` // image/jpeg or image/png
	Size        int64  `json:"size"`
}

// Target is a priority target nominated by one side.
type Target struct {
	ID     string `json:"id"`
	Origin string `json:"origin"`
	Agency string `json:"agency"` // the nominating agency

	Name            string   `json:"name"`
	Aliases         []string `json:"aliases,omitempty"`
	DOB             string   `json:"dob,omitempty"` // YYYY-MM-DD
	Nationalities   []string `json:"nationalities,omitempty"`
	CURP            string   `json:"curp,omitempty"`
	RFC             string   `json:"rfc,omitempty"`
	Passport        string   `json:"passport,omitempty"`
	PassportCountry string   `json:"passport_country,omitempty"`
	SSN             string   `json:"ssn,omitempty"`
	Organisation    string   `json:"organisation,omitempty"`
	Charges         []Charge `json:"charges,omitempty"`
	// Notices are the INTERPOL Red Notices and diffusions about the
	// person (references and public fields; not warrants).
	Notices []Notice `json:"notices,omitempty"`
	// Photos are the person's photographs, named by SHA-256; their bytes
	// cross the link ahead of the version that names them.
	Photos  []Photo `json:"photos,omitempty"`
	Summary string  `json:"summary,omitempty"`

	Status string `json:"status"`
	Stage  string `json:"stage"`
	// Version counts the releases and updates sent to the partner: the
	// partner takes each once, in order.
	Version int             `json:"version"`
	Caveats caveats.Caveats `json:"caveats"`

	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	ReleasedBy string    `json:"released_by,omitempty"`
	ReleasedAt time.Time `json:"released_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Reason is why a reviewer returned the nomination to its author.
	Reason string `json:"reason,omitempty"`

	// Ack is the partner's acknowledgement; Additions what either side
	// added after the release (the partner's knowledge, mostly).
	Ack       *Ack       `json:"ack,omitempty"`
	Additions []Addition `json:"additions,omitempty"`
}

// Charge is one charge and its warrant.
type Charge struct {
	Offence string `json:"offence"`
	Court   string `json:"court,omitempty"`
	Warrant string `json:"warrant,omitempty"` // the warrant's number
	Date    string `json:"date,omitempty"`    // YYYY-MM-DD
}

// Ack is the receiving side's acknowledgement of a nomination.
type Ack struct {
	ID     string    `json:"id"`
	By     string    `json:"by"`
	Agency string    `json:"agency"`
	At     time.Time `json:"at"`
}

// Addition is what a side adds to a released nomination: where the person
// was seen, an identifier, a warrant of its own.
type Addition struct {
	ID     string    `json:"id"`
	Target string    `json:"target"`
	Side   string    `json:"side"`
	By     string    `json:"by"`
	Agency string    `json:"agency"`
	At     time.Time `json:"at"`
	Text   string    `json:"text"`
}

// Title is how the target is named in lists.
func (t *Target) Title() string {
	if t.Organisation != "" {
		return t.Name + " (" + t.Organisation + ")"
	}
	return t.Name
}

// Active reports whether the target is still sought: indexed, screened.
func (t *Target) Active() bool {
	return (t.Stage == StageReleased || t.Stage == StageReceived) && t.Status != Withdrawn && t.Status != Deceased
}

// Subject is the target as the blind-matching index sees it.
func (t *Target) Subject() match.Subject {
	return match.Subject{Ref: "target:" + t.ID, Source: "target", Name: t.Name, DOB: t.DOB, CURP: t.CURP, RFC: t.RFC, SSN: t.SSN,
		Passport: t.Passport, PassportCountry: t.PassportCountry}
}

// IdentifierKeys are the target's normalised identifiers (not its name),
// by which a second nomination of the same person is refused.
func (t *Target) IdentifierKeys() []string {
	keys, err := t.Subject().Keys()
	if err != nil {
		return nil
	}
	var out []string
	for _, k := range keys {
		if match.KeyType(k) != "name_year" {
			out = append(out, k)
		}
	}
	return out
}

func text(field, v string, max int, required bool) error {
	r := input.Rule(0)
	if required {
		r = input.Required
	}
	return input.Text(field, v, max, r)
}

// date checks a YYYY-MM-DD date that may not lie after now.
func date(field, v string, now time.Time, required bool) error {
	if v == "" {
		if required {
			return fault.Field(field, "required")
		}
		return nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return fault.Field(field, "invalid_date")
	}
	if d.After(now) {
		return fault.Field(field, "future_date")
	}
	if d.Year() < 1900 {
		return fault.Field(field, "invalid_date")
	}
	return nil
}

// check verifies a nomination as its author sends it and as the partner's
// copy arrives, and normalises it: each refusal names the field.
func check(t *Target, now time.Time) error {
	t.Name = strings.Join(strings.Fields(t.Name), " ")
	if err := text("name", t.Name, MaxShort, true); err != nil {
		return err
	}
	if len(t.Aliases) > MaxAliases {
		return fault.Field("aliases", "too_many")
	}
	aliases := t.Aliases[:0]
	for i, a := range t.Aliases {
		a = strings.Join(strings.Fields(a), " ")
		if a == "" {
			continue
		}
		if err := text(fmt.Sprintf("aliases[%d]", i), a, MaxShort, true); err != nil {
			return err
		}
		if !slices.Contains(aliases, a) {
			aliases = append(aliases, a)
		}
	}
	t.Aliases = aliases
	if err := date("dob", t.DOB, now, false); err != nil {
		return err
	}
	if len(t.Nationalities) > MaxNations {
		return fault.Field("nationalities", "too_many")
	}
	for i, n := range t.Nationalities {
		n = strings.ToUpper(strings.TrimSpace(n))
		if len(n) != 2 || strings.Trim(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return fault.Field(fmt.Sprintf("nationalities[%d]", i), "invalid_country")
		}
		t.Nationalities[i] = n
	}
	for _, f := range []struct {
		field, v string
		max      int
	}{{"organisation", t.Organisation, MaxShort}, {"curp", t.CURP, 18}, {"rfc", t.RFC, 13}, {"passport", t.Passport, 20},
		{"passport_country", t.PassportCountry, 3}, {"ssn", t.SSN, 11}} {
		if err := text(f.field, f.v, f.max+8, false); err != nil {
			return err
		}
	}
	if err := input.Text("summary", t.Summary, MaxText, input.Multiline); err != nil {
		return err
	}
	// The identifiers must read as what they claim to be: the error names
	// the field and the identifier check's code ("check_digit").
	if _, err := t.Subject().Keys(); err != nil {
		return err
	}
	if t.DOB == "" && len(t.IdentifierKeys()) == 0 {
		return fault.Field("identifiers", "no_identifying_element")
	}
	if len(t.Charges) > MaxCharges {
		return fault.Field("charges", "too_many")
	}
	for i := range t.Charges {
		c := &t.Charges[i]
		f := func(name string) string { return fmt.Sprintf("charges[%d].%s", i, name) }
		if err := text(f("offence"), c.Offence, MaxShort, true); err != nil {
			return err
		}
		if err := text(f("court"), c.Court, MaxShort, false); err != nil {
			return err
		}
		if err := text(f("warrant"), c.Warrant, MaxShort, false); err != nil {
			return err
		}
		if err := date(f("date"), c.Date, now, false); err != nil {
			return err
		}
	}
	if len(t.Photos) > MaxPhotos {
		return fault.Field("photos", "too_many")
	}
	for i, p := range t.Photos {
		if err := input.FileName(fmt.Sprintf("photos[%d].name", i), p.Name); err != nil {
			return err
		}
		if p.ContentType != "image/jpeg" && p.ContentType != "image/png" {
			return fault.Field(fmt.Sprintf("photos[%d]", i), "not_a_photo")
		}
		if p.Size <= 0 || p.Size > MaxPhoto || len(p.SHA256) != 64 {
			return fault.Field(fmt.Sprintf("photos[%d]", i), "photo_too_large")
		}
	}
	if len(t.Notices) > MaxNotices {
		return fault.Field("notices", "too_many")
	}
	for i := range t.Notices {
		if err := checkNotice(&t.Notices[i], now); err != nil {
			return err
		}
	}
	if t.Status == "" {
		t.Status = AtLarge
	}
	if !slices.Contains(Statuses, t.Status) {
		return fault.Field("status", "invalid_status")
	}
	return nil
}

// shared is the nomination as it crosses: who wrote and who released it
// stay with the side that did; the acknowledgement and the additions cross
// as their own kinds.
func (t *Target) shared() Target {
	c := *t
	c.CreatedBy, c.ReleasedBy, c.Reason, c.Ack, c.Additions = "", "", "", nil, nil
	return c
}
