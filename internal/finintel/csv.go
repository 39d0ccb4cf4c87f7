package finintel

import (
	"puente/internal/fault"

	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// CSV columns per kind of record; the header row names them, in any
// order, and only "ref" plus the required ones must be present.
var csvColumns = map[string][]string{
	"subjects": {"ref", "type", "given_names", "first_surname", "second_surname", "aliases", "dob", "nationality", "curp", "rfc", "passport",
		"passport_country", "ssn", "phone", "email", "name", "ein", "country"},
	"accounts":     {"ref", "bank", "number", "clabe", "iban", "wallet", "currency", "holder"},
	"transactions": {"ref", "date", "amount", "currency", "from", "to", "channel"},
}

// CSVKinds are the kinds of CSV file ImportCSV reads.
var CSVKinds = []string{"subjects", "accounts", "transactions"}

// ImportCSV reads subjects, accounts or transactions from CSV with a
// header row and adds them to c. Each row is checked as it is read; the
// first problem is an *ImportError with its line and column, and c is left
// as it was. Aliases are separated by "|".
func ImportCSV(kind string, r io.Reader, c *Content) error {
	cols, ok := csvColumns[kind]
	if !ok {
		return &ImportError{Line: 0, Reason: fmt.Sprintf("unknown kind %q: use subjects, accounts or transactions", kind)}
	}
	cr := csv.NewReader(io.LimitReader(r, 256<<20))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return &ImportError{Line: 1, Reason: "the file is empty: it needs a header row"}
	} else if err != nil {
		return csvErr(err)
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(cols, h) {
			return &ImportError{Line: 1, Field: h, Reason: "unknown column; known: " + strings.Join(cols, ", ")}
		}
		if _, dup := index[h]; dup {
			return &ImportError{Line: 1, Field: h, Reason: "column appears twice"}
		}
		index[h] = i
	}
	if _, ok := index["ref"]; !ok {
		return &ImportError{Line: 1, Field: "ref", Reason: "the header needs a ref column"}
	}
	next := *c
	next.Subjects = slices.Clone(c.Subjects)
	next.Accounts = slices.Clone(c.Accounts)
	next.Transactions = slices.Clone(c.Transactions)
	refs := map[string]bool{}
	for _, s := range next.Subjects {
		refs[s.Ref] = true
	}
	for _, a := range next.Accounts {
		refs[a.Ref] = true
	}
	txRefs := map[string]bool{}
	for _, t := range next.Transactions {
		txRefs[t.Ref] = true
	}
	holders := map[string]bool{}
	for _, s := range next.Subjects {
		holders[s.Ref] = true
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		get := func(col string) string {
			if i, ok := index[col]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		var ferr error
		switch kind {
		case "subjects":
			s := Subject{Ref: get("ref"), Type: get("type"), GivenNames: get("given_names"), FirstSurname: get("first_surname"),
				SecondSurname: get("second_surname"), DOB: get("dob"), Nationality: strings.ToUpper(get("nationality")), CURP: get("curp"), RFC: get("rfc"),
				Passport: get("passport"), PassportCtry: strings.ToUpper(get("passport_country")), SSN: get("ssn"), Phone: get("phone"), Email: get("email"),
				Name: get("name"), EIN: get("ein"), Country: strings.ToUpper(get("country"))}
			if s.Type == "" {
				s.Type = "person"
				if s.Name != "" && s.GivenNames == "" {
					s.Type = "company"
				}
			}
			if a := get("aliases"); a != "" {
				for _, x := range strings.Split(a, "|") {
					if x = strings.TrimSpace(x); x != "" {
						s.Aliases = append(s.Aliases, x)
					}
				}
			}
			if ferr = checkSubject("row", &s); ferr == nil && refs[s.Ref] {
				ferr = fault.Field("row.ref", "duplicate_ref")
			}
			if ferr == nil {
				refs[s.Ref], holders[s.Ref] = true, true
				next.Subjects = append(next.Subjects, s)
			}
		case "accounts":
			a := Account{Ref: get("ref"), Bank: get("bank"), Number: get("number"), CLABE: get("clabe"), IBAN: get("iban"), Wallet: get("wallet"),
				Currency: strings.ToUpper(get("currency")), Holder: get("holder")}
			if ferr = checkAccount("row", &a, holders); ferr == nil && refs[a.Ref] {
				ferr = fault.Field("row.ref", "duplicate_ref")
			}
			if ferr == nil {
				refs[a.Ref] = true
				next.Accounts = append(next.Accounts, a)
			}
		case "transactions":
			t := Transaction{Ref: get("ref"), Date: get("date"), Amount: get("amount"), Currency: strings.ToUpper(get("currency")), From: get("from"),
				To: get("to"), Channel: strings.ToLower(get("channel"))}
			if t.Channel == "" {
				t.Channel = "other"
			}
			if ferr = checkTransaction("row", &t); ferr == nil && txRefs[t.Ref] {
				ferr = fault.Field("row.ref", "duplicate_ref")
			}
			if ferr == nil {
				txRefs[t.Ref] = true
				next.Transactions = append(next.Transactions, t)
			}
		}
		if ferr != nil {
			var fe *fault.FieldError
			errors.As(ferr, &fe)
			field := strings.TrimPrefix(fe.Field, "row.")
			field, _, _ = strings.Cut(field, "[")
			return &ImportError{Line: line, Field: field, Reason: strings.ReplaceAll(strings.TrimPrefix(fe.Code, "ident."), "_", " "), reasonCode: fe.Code}
		}
	}
	if err := CheckContent(&next); err != nil {
		var fe *fault.FieldError
		if errors.As(err, &fe) {
			return &ImportError{Field: fe.Field, Reason: strings.ReplaceAll(fe.Code, "_", " "), reasonCode: fe.Code}
		}
		return err
	}
	*c = next
	return nil
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ImportError{Line: pe.Line, Reason: pe.Err.Error()}
	}
	return &ImportError{Reason: err.Error()}
}
