// Package match runs blind hit/no-hit matching across the border: each
// node keeps an index of its own subjects and publishes to the partner a
// filter built from OPRF outputs (RFC 9497, ristretto255) under a key that
// never leaves it. To look a subject up, a node blinds the subject's keys,
// the owner evaluates them blind, and the asking node unblinds and checks
// the partner's filter locally. The owner learns only that a lookup of so
// many keys happened; every evaluation is counted against the agreement's
// daily quota and logged on both sides.
package match

import (
	"errors"
	"puente/internal/fault"

	"fmt"
	"sort"
	"strings"

	"puente/internal/ident"
	"puente/internal/names"
)

// Subject is one person or company in the node's own records.
type Subject struct {
	Ref             string `json:"ref"`    // the record's own reference, unique on the node
	Source          string `json:"source"` // "import", "watchlist", "disclosure", …
	Name            string `json:"name"`
	DOB             string `json:"dob,omitempty"`
	CURP            string `json:"curp,omitempty"`
	RFC             string `json:"rfc,omitempty"`
	SSN             string `json:"ssn,omitempty"`
	EIN             string `json:"ein,omitempty"`
	Passport        string `json:"passport,omitempty"`
	PassportCountry string `json:"passport_country,omitempty"`
	Phone           string `json:"phone,omitempty"`
	PhoneCountry    string `json:"phone_country,omitempty"` // for numbers without country code
	CLABE           string `json:"clabe,omitempty"`
	IBAN            string `json:"iban,omitempty"`
	Account         string `json:"account,omitempty"`
	Bank            string `json:"bank,omitempty"`
	Wallet          string `json:"wallet,omitempty"`
}

// KeyTypes names what a key is made of, for hit reports: the type is the
// part of a key before the first colon.
var KeyTypes = []string{"curp", "rfc", "ssn", "ein", "passport", "phone", "clabe", "iban", "account", "wallet", "name_year"}

// fieldErr is an identifier that does not check, naming the field; its
// code is the identifier check's code.
func fieldErr(field string, err error) *fault.FieldError {
	code := "invalid"
	var ie *ident.Error
	if errors.As(err, &ie) {
		code = ie.Code
	}
	return &fault.FieldError{Field: field, Code: code, Err: err}
}

// Keys normalises the subject's identifiers and returns its match keys,
// sorted: "curp:ZANM821122MSLMBD07", "passport:MEX:95040018273",
// "name_year:sbd:i:1948" (the sound key of the first surname, the initial
// of the first given name, the birth year). A malformed identifier is an
// error naming the field; nothing is derived from it.
func (s Subject) Keys() ([]string, error) {
	var keys []string
	add := func(field, typ string, k ident.Kind, v string, c ident.Context) error {
		if strings.TrimSpace(v) == "" {
			return nil
		}
		n, err := ident.Normalize(k, v, c)
		if err != nil {
			return fieldErr(field, err)
		}
		keys = append(keys, typ+":"+n)
		return nil
	}
	for _, f := range []struct {
		field, typ string
		kind       ident.Kind
		v          string
		c          ident.Context
	}{
		{"curp", "curp", ident.CURP, s.CURP, ident.Context{}},
		{"rfc", "rfc", ident.RFC, s.RFC, ident.Context{}},
		{"ssn", "ssn", ident.SSN, s.SSN, ident.Context{}},
		{"ein", "ein", ident.EIN, s.EIN, ident.Context{}},
		{"passport", "passport", ident.Passport, s.Passport, ident.Context{Country: s.PassportCountry}},
		{"phone", "phone", ident.Phone, s.Phone, ident.Context{Country: s.PhoneCountry}},
		{"clabe", "clabe", ident.CLABE, s.CLABE, ident.Context{}},
		{"iban", "iban", ident.IBAN, s.IBAN, ident.Context{}},
		{"account", "account", ident.Account, s.Account, ident.Context{Bank: s.Bank}},
		{"wallet", "wallet", ident.Wallet, s.Wallet, ident.Context{}},
	} {
		if err := add(f.field, f.typ, f.kind, f.v, f.c); err != nil {
			return nil, err
		}
	}
	year := ""
	if strings.TrimSpace(s.DOB) != "" {
		d, err := ident.Normalize(ident.DOB, s.DOB, ident.Context{})
		if err != nil {
			return nil, fieldErr("dob", err)
		}
		year = d[:4]
	}
	keys = append(keys, NameYearKeys(s.Name, year)...)
	sort.Strings(keys)
	return keys, nil
}

// NameYearKeys are the blind name keys of a person: for each surname (the
// first and the second), its sound key with the initial of the first given
// name and the birth year, such as "name_year:smbd:i:1948". A name written
// without a comma may be in either order, so both readings contribute:
// the first word as the given name ("Ismael Zambada García") and the last
// ("Zambada García Ismael"). The keys survive accents, particles, surname
// order, one surname or two, and sound-alike spellings (Zambada/Sambada).
// A hit on them alone is reported as possible, never strong: "name and
// year" is shared by namesakes. Names of one word give no key.
func NameYearKeys(name, year string) []string {
	if year == "" {
		return nil
	}
	n := names.ParseTyped(name, names.TypePerson)
	if len(n.Tokens) < 2 {
		return nil
	}
	type reading struct{ given, surnames []string }
	var rs []reading
	if n.SurnameFirst {
		g, sn := n.Given()
		rs = append(rs, reading{g, sn})
	} else {
		rs = append(rs, reading{n.Tokens[:1], n.Tokens[1:]}, reading{n.Tokens[len(n.Tokens)-1:], n.Tokens[:len(n.Tokens)-1]})
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		if len(r.given) == 0 || len(r.surnames) == 0 {
			continue
		}
		for _, sn := range r.surnames[:min(2, len(r.surnames))] {
			if len(sn) < 2 {
				continue
			}
			k := fmt.Sprintf("name_year:%s:%c:%s", names.Phonetic(sn), r.given[0][0], year)
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// KeyType is the type part of a key.
func KeyType(key string) string {
	t, _, _ := strings.Cut(key, ":")
	return t
}
