// Package ident checks and normalises the identifiers that financial
// intelligence and subject matching work with: CURP and RFC (Mexico), SSN,
// ITIN and EIN (United States), CLABE and IBAN accounts, passports, phone
// numbers in E.164, crypto wallets and dates of birth. Check digits are
// verified where the standard defines one (CURP, CLABE, IBAN). Errors say
// which rule failed, with a stable code for translation.
package ident

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Kind is a type of identifier.
type Kind string

const (
	CURP     Kind = "curp"
	RFC      Kind = "rfc"
	SSN      Kind = "ssn" // also accepts an ITIN
	EIN      Kind = "ein"
	Passport Kind = "passport"
	Phone    Kind = "phone"
	CLABE    Kind = "clabe"
	IBAN     Kind = "iban"
	Account  Kind = "account" // a bank account number, with its bank
	Wallet   Kind = "wallet"
	DOB      Kind = "dob"
)

// Kinds lists every kind.
var Kinds = []Kind{CURP, RFC, SSN, EIN, Passport, Phone, CLABE, IBAN, Account, Wallet, DOB}

// Error codes, stable for translations and API clients.
const (
	CodeEmpty      = "empty"
	CodeLength     = "length"
	CodeFormat     = "format"
	CodeCheckDigit = "check_digit"
	CodeDate       = "date"
	CodeState      = "state"
	CodeCountry    = "country"
	CodeReserved   = "reserved"
	CodeUnknown    = "unknown_kind"
)

// Error is an invalid identifier.
type Error struct {
	Kind   Kind
	Code   string
	Detail string // a sentence in English for logs and the CLI
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Kind, e.Detail) }

func fail(k Kind, code, format string, args ...any) error {
	return &Error{Kind: k, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Context carries what some kinds need besides the value: the country of
// a passport, the bank of an account, the country a phone number is
// dialled from when written without a country code.
type Context struct {
	Country string // ISO 3166 alpha-2 or alpha-3 (passport, phone default)
	Bank    string // for Account
}

// Normalize checks raw as an identifier of kind k and returns its
// canonical form: upper case without separators (CURP, RFC, IBAN,
// passport "MEX:X1234567"), digits only (SSN, EIN, CLABE), E.164 for
// phones, lower-case hex for Ethereum wallets, YYYY-MM-DD (or YYYY) for
// dates of birth.
func Normalize(k Kind, raw string, c Context) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fail(k, CodeEmpty, "no value")
	}
	switch k {
	case CURP:
		return curp(compact(s))
	case RFC:
		return rfc(compact(s))
	case SSN:
		return ssn(digits(s, "-. "))
	case EIN:
		return ein(digits(s, "-. "))
	case Passport:
		return passport(compact(s), c.Country)
	case Phone:
		return phone(s, c.Country)
	case CLABE:
		return clabe(digits(s, "-. "))
	case IBAN:
		return iban(compact(s))
	case Account:
		return account(s, c.Bank)
	case Wallet:
		return wallet(strings.TrimSpace(raw))
	case DOB:
		return dob(s)
	}
	return "", fail(k, CodeUnknown, "unknown identifier type %q", string(k))
}

// compact upper-cases s and drops spaces, dashes, dots and slashes.
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '/', '\t':
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
}

// digits returns s without the separator runes in sep, or s itself with a
// non-digit left in (for the caller to refuse).
func digits(s, sep string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(sep, r) {
			return -1
		}
		return r
	}, s)
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// yymmdd checks a six-digit date; the century is unknown.
func yymmdd(s string) bool {
	if len(s) != 6 || !allDigits(s) {
		return false
	}
	for _, century := range []string{"19", "20"} {
		if _, err := time.Parse("20060102", century+s); err == nil {
			return true
		}
	}
	return false
}
