package extradition

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"puente/internal/fault"
)

// Notice kinds: an INTERPOL Red Notice, or a diffusion (a request sent
// by one country's bureau, not a notice; neither is an arrest warrant).
const (
	NoticeRed       = "red"
	NoticeDiffusion = "diffusion"
)

// MaxNotices bounds the notices of one target.
const MaxNotices = 10

// Notice is the reference and the public fields of a Red Notice or a
// diffusion, as INTERPOL publishes them (NoticeJSON). It is recorded
// here; no outside service is called.
type Notice struct {
	Kind          string          `json:"kind"`
	Reference     string          `json:"reference"` // INTERPOL's entity id, "2025/12345"
	Forename      string          `json:"forename,omitempty"`
	Name          string          `json:"name"`
	DOB           string          `json:"dob,omitempty"` // YYYY-MM-DD, or YYYY when only the year is known
	Nationalities []string        `json:"nationalities,omitempty"`
	Issuing       string          `json:"issuing_country"`
	Warrants      []NoticeWarrant `json:"warrants"`
}

// NoticeWarrant is one charge of a notice and the country whose warrant
// it is.
type NoticeWarrant struct {
	Charge  string `json:"charge"`
	Country string `json:"issuing_country"`
}

// NoticeJSON is the exchange format of a notice: the members of
// INTERPOL's public notices (ws-public.interpol.int, notices/v1), which
// a bureau's export already holds, plus "notice_type" ("red" or
// "diffusion"). Dates are INTERPOL's "YYYY/MM/DD" (or "YYYY"). docs/
// extradition.md documents it.
type NoticeJSON struct {
	NoticeType     string            `json:"notice_type"`
	EntityID       string            `json:"entity_id"`
	Forename       string            `json:"forename,omitempty"`
	Name           string            `json:"name"`
	DateOfBirth    string            `json:"date_of_birth,omitempty"`
	Nationalities  []string          `json:"nationalities,omitempty"`
	ArrestWarrants []NoticeWarrantJS `json:"arrest_warrants"`
}

// NoticeWarrantJS is an arrest warrant as INTERPOL lists it.
type NoticeWarrantJS struct {
	Charge           string `json:"charge"`
	IssuingCountryID string `json:"issuing_country_id"`
}

var entityID = regexp.MustCompile(`^[0-9]{4}/[0-9]{1,8}$`)

func country(field, c string) (string, error) {
	c = strings.ToUpper(strings.TrimSpace(c))
	if len(c) != 2 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return "", fault.Field(field, "invalid_country")
	}
	return c, nil
}

// ParseNotice reads a notice in NoticeJSON, strictly: a member it does
// not define, a malformed date, reference or country is refused naming
// the field ("notice.date_of_birth").
func ParseNotice(raw []byte, now time.Time) (*Notice, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var in NoticeJSON
	if err := dec.Decode(&in); err != nil {
		return nil, &fault.FieldError{Field: "notice", Code: "malformed_notice", Err: fmt.Errorf("the notice is not the documented JSON: %w", err)}
	}
	if dec.More() {
		return nil, fault.Field("notice", "malformed_notice")
	}
	n := &Notice{Kind: in.NoticeType, Reference: strings.TrimSpace(in.EntityID), Forename: strings.TrimSpace(in.Forename), Name: strings.TrimSpace(in.Name)}
	if d := strings.TrimSpace(in.DateOfBirth); d != "" {
		n.DOB = strings.ReplaceAll(d, "/", "-")
	}
	n.Nationalities = in.Nationalities
	for _, w := range in.ArrestWarrants {
		n.Warrants = append(n.Warrants, NoticeWarrant{Charge: w.Charge, Country: w.IssuingCountryID})
	}
	if len(n.Warrants) > 0 {
		n.Issuing = n.Warrants[0].Country
	}
	if err := checkNotice(n, now); err != nil {
		return nil, err
	}
	return n, nil
}

// checkNotice verifies and normalises a notice, as imported and as the
// partner's nomination brings it.
func checkNotice(n *Notice, now time.Time) error {
	if n.Kind != NoticeRed && n.Kind != NoticeDiffusion {
		return fault.Field("notice.notice_type", "invalid_notice_type")
	}
	if !entityID.MatchString(n.Reference) {
		return fault.Field("notice.entity_id", "invalid_reference")
	}
	if err := text("notice.name", n.Name, MaxShort, true); err != nil {
		return err
	}
	if err := text("notice.forename", n.Forename, MaxShort, false); err != nil {
		return err
	}
	switch {
	case n.DOB == "":
	case len(n.DOB) == 4:
		if y := n.DOB; y < "1900" || y > now.Format("2006") || strings.Trim(y, "0123456789") != "" {
			return fault.Field("notice.date_of_birth", "invalid_date")
		}
	default:
		if err := date("notice.date_of_birth", n.DOB, now, false); err != nil {
			return err
		}
	}
	if len(n.Nationalities) > MaxNations {
		return fault.Field("notice.nationalities", "too_many")
	}
	for i := range n.Nationalities {
		c, err := country(fmt.Sprintf("notice.nationalities[%d]", i), n.Nationalities[i])
		if err != nil {
			return err
		}
		n.Nationalities[i] = c
	}
	if len(n.Warrants) == 0 && n.Kind == NoticeRed {
		return fault.Field("notice.arrest_warrants", "required")
	}
	if len(n.Warrants) > MaxCharges {
		return fault.Field("notice.arrest_warrants", "too_many")
	}
	for i := range n.Warrants {
		w := &n.Warrants[i]
		if err := text(fmt.Sprintf("notice.arrest_warrants[%d].charge", i), w.Charge, MaxText, true); err != nil {
			return err
		}
		c, err := country(fmt.Sprintf("notice.arrest_warrants[%d].issuing_country_id", i), w.Country)
		if err != nil {
			return err
		}
		w.Country = c
	}
	if n.Issuing != "" {
		c, err := country("notice.issuing_country", n.Issuing)
		if err != nil {
			return err
		}
		n.Issuing = c
	}
	return nil
}

// JSON is the notice in the exchange format.
func (n *Notice) JSON() NoticeJSON {
	out := NoticeJSON{NoticeType: n.Kind, EntityID: n.Reference, Forename: n.Forename, Name: n.Name, DateOfBirth: strings.ReplaceAll(n.DOB, "-", "/"),
		Nationalities: slices.Clone(n.Nationalities), ArrestWarrants: []NoticeWarrantJS{}}
	for _, w := range n.Warrants {
		out.ArrestWarrants = append(out.ArrestWarrants, NoticeWarrantJS{Charge: w.Charge, IssuingCountryID: w.Country})
	}
	return out
}
