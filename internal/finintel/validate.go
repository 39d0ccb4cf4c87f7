package finintel

import (
	"puente/internal/caveats"
	"puente/internal/input"

	"puente/internal/fault"

	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/ident"
)

// Limits on what a user, a file or the partner may put in a disclosure.
const (
	MaxTitle        = 200
	MaxText         = 100_000
	MaxShort        = 200
	MaxSubjects     = 10_000
	MaxAccounts     = 10_000
	MaxTransactions = 100_000
	MaxRetention    = caveats.MaxRetention
)

var (
	refRE      = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	amountRE   = regexp.MustCompile(`^[0-9]{1,15}(\.[0-9]{1,8})?$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3,5}$`)
)

// text checks a text field: the long ones (narratives, questions,
// answers, notes, reasons: longer than a title) may span lines, the rest
// are one line.
func text(field, v string, max int, required bool) error {
	var r input.Rule
	if required {
		r |= input.Required
	}
	if max > MaxTitle {
		r |= input.Multiline
	}
	return input.Text(field, v, max, r)
}

// checkIdent checks one identifier, naming the field on failure.
func checkIdent(field string, k ident.Kind, v string, c ident.Context) error {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	if _, err := ident.Normalize(k, v, c); err != nil {
		var ie *ident.Error
		if errors.As(err, &ie) {
			return fault.Field(field, "ident."+ie.Code)
		}
		return fault.Field(field, "ident.invalid")
	}
	return nil
}

func checkCaveats(c *caveats.Caveats, recipientSide string) error {
	checked, err := c.Check(auth.Agencies[recipientSide])
	if err != nil {
		return err
	}
	*c = checked
	return nil
}

func checkSubject(field string, s *Subject) error {
	if !refRE.MatchString(s.Ref) {
		return fault.Field(field+".ref", "invalid_ref")
	}
	switch s.Type {
	case "person":
		if err := text(field+".given_names", s.GivenNames, MaxShort, true); err != nil {
			return err
		}
		if err := text(field+".first_surname", s.FirstSurname, MaxShort, true); err != nil {
			return err
		}
		if err := text(field+".second_surname", s.SecondSurname, MaxShort, false); err != nil {
			return err
		}
		if len(s.Aliases) > 50 {
			return fault.Field(field+".aliases", "too_many")
		}
		for i, a := range s.Aliases {
			if err := text(fmt.Sprintf("%s.aliases[%d]", field, i), a, MaxShort, true); err != nil {
				return err
			}
		}
		if s.Nationality != "" && !ident.IsCountry(s.Nationality) {
			return fault.Field(field+".nationality", "invalid_country")
		}
		if s.Name != "" || s.EIN != "" {
			return fault.Field(field+".name", "person_has_company_fields")
		}
	case "company":
		if err := text(field+".name", s.Name, MaxShort, true); err != nil {
			return err
		}
		if s.Country != "" && !ident.IsCountry(s.Country) {
			return fault.Field(field+".country", "invalid_country")
		}
	default:
		return fault.Field(field+".type", "invalid_subject_type")
	}
	for _, f := range []struct {
		name string
		kind ident.Kind
		v    string
		c    ident.Context
	}{
		{"curp", ident.CURP, s.CURP, ident.Context{}},
		{"rfc", ident.RFC, s.RFC, ident.Context{}},
		{"ssn", ident.SSN, s.SSN, ident.Context{}},
		{"ein", ident.EIN, s.EIN, ident.Context{}},
		{"passport", ident.Passport, s.Passport, ident.Context{Country: s.PassportCtry}},
		{"phone", ident.Phone, s.Phone, ident.Context{}},
		{"dob", ident.DOB, s.DOB, ident.Context{}},
	} {
		if err := checkIdent(field+"."+f.name, f.kind, f.v, f.c); err != nil {
			return err
		}
	}
	if s.Email != "" {
		if a, err := mail.ParseAddress(s.Email); err != nil || a.Address != strings.TrimSpace(s.Email) || len(s.Email) > 254 {
			return fault.Field(field+".email", "invalid_email")
		}
	}
	return nil
}

func checkAccount(field string, a *Account, subjects map[string]bool) error {
	if !refRE.MatchString(a.Ref) {
		return fault.Field(field+".ref", "invalid_ref")
	}
	if a.Number == "" && a.CLABE == "" && a.IBAN == "" && a.Wallet == "" {
		return fault.Field(field+".number", "required")
	}
	if err := text(field+".bank", a.Bank, MaxShort, false); err != nil {
		return err
	}
	if a.Number != "" {
		if err := checkIdent(field+".number", ident.Account, a.Number, ident.Context{Bank: a.Bank}); err != nil {
			return err
		}
	}
	if err := checkIdent(field+".clabe", ident.CLABE, a.CLABE, ident.Context{}); err != nil {
		return err
	}
	if err := checkIdent(field+".iban", ident.IBAN, a.IBAN, ident.Context{}); err != nil {
		return err
	}
	if err := checkIdent(field+".wallet", ident.Wallet, a.Wallet, ident.Context{}); err != nil {
		return err
	}
	if a.Currency != "" && !currencyRE.MatchString(a.Currency) {
		return fault.Field(field+".currency", "invalid_currency")
	}
	if a.Holder != "" && !subjects[a.Holder] {
		return fault.Field(field+".holder", "unknown_ref")
	}
	return nil
}

func checkTransaction(field string, t *Transaction) error {
	if !refRE.MatchString(t.Ref) {
		return fault.Field(field+".ref", "invalid_ref")
	}
	if _, err := time.Parse(time.DateOnly, t.Date); err != nil {
		return fault.Field(field+".date", "invalid_date")
	}
	if !amountRE.MatchString(t.Amount) {
		return fault.Field(field+".amount", "invalid_amount")
	}
	if !currencyRE.MatchString(t.Currency) {
		return fault.Field(field+".currency", "invalid_currency")
	}
	if err := text(field+".from", t.From, MaxShort, true); err != nil {
		return err
	}
	if err := text(field+".to", t.To, MaxShort, true); err != nil {
		return err
	}
	if !slices.Contains(Channels, t.Channel) {
		return fault.Field(field+".channel", "invalid_channel")
	}
	return nil
}

// CheckContent checks every subject, account and transaction, and that
// refs are unique. The first problem is returned, naming its field.
func CheckContent(c *Content) error {
	if len(c.Subjects) > MaxSubjects {
		return fault.Field("subjects", "too_many")
	}
	if len(c.Accounts) > MaxAccounts {
		return fault.Field("accounts", "too_many")
	}
	if len(c.Transactions) > MaxTransactions {
		return fault.Field("transactions", "too_many")
	}
	refs := map[string]bool{}
	subjects := map[string]bool{}
	for i := range c.Subjects {
		f := fmt.Sprintf("subjects[%d]", i)
		if err := checkSubject(f, &c.Subjects[i]); err != nil {
			return err
		}
		if refs[c.Subjects[i].Ref] {
			return fault.Field(f+".ref", "duplicate_ref")
		}
		refs[c.Subjects[i].Ref], subjects[c.Subjects[i].Ref] = true, true
	}
	for i := range c.Accounts {
		f := fmt.Sprintf("accounts[%d]", i)
		if err := checkAccount(f, &c.Accounts[i], subjects); err != nil {
			return err
		}
		if refs[c.Accounts[i].Ref] {
			return fault.Field(f+".ref", "duplicate_ref")
		}
		refs[c.Accounts[i].Ref] = true
	}
	txRefs := map[string]bool{}
	for i := range c.Transactions {
		f := fmt.Sprintf("transactions[%d]", i)
		if err := checkTransaction(f, &c.Transactions[i]); err != nil {
			return err
		}
		if txRefs[c.Transactions[i].Ref] {
			return fault.Field(f+".ref", "duplicate_ref")
		}
		txRefs[c.Transactions[i].Ref] = true
	}
	return nil
}

// checkDraft checks a whole draft for a disclosure to recipientSide.
func checkDraft(d *Draft, recipientSide string) error {
	d.Title = strings.TrimSpace(d.Title)
	if err := text("title", d.Title, MaxTitle, true); err != nil {
		return err
	}
	if err := text("criminal_group", d.CriminalGroup, MaxShort, false); err != nil {
		return err
	}
	if err := text("narrative", d.Narrative, MaxText, true); err != nil {
		return err
	}
	if err := checkCaveats(&d.Caveats, recipientSide); err != nil {
		return err
	}
	if d.RFIID != "" && !refRE.MatchString(d.RFIID) {
		return fault.Field("rfi_id", "invalid_ref")
	}
	return CheckContent(&d.Content)
}
