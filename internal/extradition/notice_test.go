package extradition

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"puente/internal/fault"
)

const redNotice = `{"notice_type": "red", "entity_id": "2025/48213", "forename": "RIGOBERTO", "name": "SALCIDO AVILA", "date_of_birth": "1979/03/14",
 "nationalities": ["mx"], "arrest_warrants": [{"charge": "Conspiracy to import fentanyl", "issuing_country_id": "US"}]}`

func TestParseNotice(t *testing.T) {
	now := day("2026-12-05")
	n, err := ParseNotice([]byte(redNotice), now)
	if err != nil {
		t.Fatal(err)
	}
	if n.DOB != "1979-03-14" || n.Issuing != "US" || n.Nationalities[0] != "MX" || n.Reference != "2025/48213" {
		t.Fatalf("parsed: %+v", n)
	}
	// Exported, it reads back the same.
	raw, _ := json.Marshal(n.JSON())
	back, err := ParseNotice(raw, now)
	if err != nil || !reflect.DeepEqual(back, n) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for _, c := range []struct{ name, in, field, code string }{
		{"not JSON", `{"notice_type": "red",`, "notice", "malformed_notice"},
		{"a member it does not define", `{"notice_type": "red", "entity_id": "2025/1", "name": "X", "arrest_warrants": [], "height": 1.8}`, "notice", "malformed_notice"},
		{"two values", redNotice + ` {}`, "notice", "malformed_notice"},
		{"an unknown kind", `{"notice_type": "purple", "entity_id": "2025/1", "name": "X", "arrest_warrants": []}`, "notice.notice_type", "invalid_notice_type"},
		{"a malformed reference", `{"notice_type": "red", "entity_id": "25-1", "name": "X", "arrest_warrants": []}`, "notice.entity_id", "invalid_reference"},
		{"no name", `{"notice_type": "diffusion", "entity_id": "2025/1", "name": " ", "arrest_warrants": []}`, "notice.name", "required"},
		{"a birth date in the future", `{"notice_type": "diffusion", "entity_id": "2025/1", "name": "X", "date_of_birth": "2030/01/01", "arrest_warrants": []}`, "notice.date_of_birth", "future_date"},
		{"a malformed birth date", `{"notice_type": "diffusion", "entity_id": "2025/1", "name": "X", "date_of_birth": "14/03/1979", "arrest_warrants": []}`, "notice.date_of_birth", "invalid_date"},
		{"a red notice without a warrant", `{"notice_type": "red", "entity_id": "2025/1", "name": "X", "arrest_warrants": []}`, "notice.arrest_warrants", "required"},
		{"a warrant's country", `{"notice_type": "red", "entity_id": "2025/1", "name": "X", "arrest_warrants": [{"charge": "y", "issuing_country_id": "USA"}]}`, "notice.arrest_warrants[0].issuing_country_id", "invalid_country"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseNotice([]byte(c.in), now)
			var fe *fault.FieldError
			if !errors.As(err, &fe) || fe.Field != c.field || fe.Code != c.code {
				t.Fatalf("ParseNotice = %v, want %s: %s", err, c.field, c.code)
			}
		})
	}
}
