package match

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// csvColumns are the columns ReadCSV knows; "ref" is required.
var csvColumns = map[string]func(*Subject, string){
	"ref": func(s *Subject, v string) { s.Ref = v }, "source": func(s *Subject, v string) { s.Source = v },
	"name": func(s *Subject, v string) { s.Name = v }, "dob": func(s *Subject, v string) { s.DOB = v },
	"curp": func(s *Subject, v string) { s.CURP = v }, "rfc": func(s *Subject, v string) { s.RFC = v },
	"ssn": func(s *Subject, v string) { s.SSN = v }, "ein": func(s *Subject, v string) { s.EIN = v },
	"passport": func(s *Subject, v string) { s.Passport = v }, "passport_country": func(s *Subject, v string) { s.PassportCountry = v },
	"phone": func(s *Subject, v string) { s.Phone = v }, "phone_country": func(s *Subject, v string) { s.PhoneCountry = v },
	"clabe": func(s *Subject, v string) { s.CLABE = v }, "iban": func(s *Subject, v string) { s.IBAN = v },
	"account": func(s *Subject, v string) { s.Account = v }, "bank": func(s *Subject, v string) { s.Bank = v },
	"wallet": func(s *Subject, v string) { s.Wallet = v },
}

// ReadCSV reads subjects from CSV with a header row naming the columns
// (ref, name, dob, curp, rfc, ssn, ein, passport, passport_country, phone,
// phone_country, clabe, iban, account, bank, wallet, source). Every
// identifier is checked: an error names the line and the field, and no
// subject is returned.
func ReadCSV(r io.Reader) ([]Subject, error) {
	cr := csv.NewReader(io.LimitReader(r, 64<<20))
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty: the first line names the columns")
	}
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", err)
	}
	set := make([]func(*Subject, string), len(head))
	hasRef := false
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		f, ok := csvColumns[h]
		if !ok {
			return nil, fmt.Errorf("line 1: unknown column %q", h)
		}
		set[i] = f
		hasRef = hasRef || h == "ref"
	}
	if !hasRef {
		return nil, errors.New("line 1: a ref column is required")
	}
	var out []Subject
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		var s Subject
		for i, v := range rec {
			set[i](&s, strings.TrimSpace(v))
		}
		if s.Ref == "" {
			return nil, fmt.Errorf("line %d: ref: empty", line)
		}
		if _, err := s.Keys(); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, s)
	}
}
