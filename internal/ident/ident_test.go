package ident_test

import (
	"errors"
	"testing"

	"puente/internal/ident"
)

func TestNormalize(t *testing.T) {
	mx := ident.Context{Country: "MX"}
	us := ident.Context{Country: "US"}
	cases := []struct {
		kind ident.Kind
		in   string
		ctx  ident.Context
		want string // "" means an error with code
		code string
	}{
		// CURP: real values from the OFAC SDN list's remarks.
		{ident.CURP, "ZANM821122MSLMBD07", mx, "ZANM821122MSLMBD07", ""},
		{ident.CURP, "zanm800402mslmbn02", mx, "ZANM800402MSLMBN02", ""},
		{ident.CURP, " ZANM-821122-MSLMBD07 ", mx, "ZANM821122MSLMBD07", ""},
		{ident.CURP, "ZANM821122MSLMBD08", mx, "", ident.CodeCheckDigit},
		{ident.CURP, "ZANM821122MSLMBD0", mx, "", ident.CodeLength},
		{ident.CURP, "ZANM821322MSLMBD07", mx, "", ident.CodeDate},
		{ident.CURP, "ZANM821122MXXMBD07", mx, "", ident.CodeState},
		{ident.CURP, "ZANM821122QSLMBD07", mx, "", ident.CodeFormat},
		{ident.CURP, "Z4NM821122MSLMBD07", mx, "", ident.CodeFormat},
		{ident.CURP, "", mx, "", ident.CodeEmpty},
		// RFC: persons (13) and companies (12).
		{ident.RFC, "ZANM-821122-H87", mx, "ZANM821122H87", ""},
		{ident.RFC, "GOAP780710RH7", mx, "GOAP780710RH7", ""},
		{ident.RFC, "ABC680524P76", mx, "ABC680524P76", ""},
		{ident.RFC, "ZANM821122", mx, "", ident.CodeLength},
		{ident.RFC, "ZANM823122H87", mx, "", ident.CodeDate},
		{ident.RFC, "Z1NM821122H87", mx, "", ident.CodeFormat},
		// CLABE: check digit with weights 3, 7, 1.
		{ident.CLABE, "002010077777777771", mx, "002010077777777771", ""},
		{ident.CLABE, "032 180 000118359719", mx, "032180000118359719", ""},
		{ident.CLABE, "002010077777777772", mx, "", ident.CodeCheckDigit},
		{ident.CLABE, "00201007777777777", mx, "", ident.CodeLength},
		{ident.CLABE, "00201007777777777A", mx, "", ident.CodeFormat},
		// IBAN: mod 97 and country lengths.
		{ident.IBAN, "GB82 WEST 1234 5698 7654 32", us, "GB82WEST12345698765432", ""},
		{ident.IBAN, "de89370400440532013000", us, "DE89370400440532013000", ""},
		{ident.IBAN, "GB82WEST12345698765433", us, "", ident.CodeCheckDigit},
		{ident.IBAN, "GB82WEST1234569876543", us, "", ident.CodeLength},
		{ident.IBAN, "1282WEST12345698765432", us, "", ident.CodeFormat},
		// SSN, ITIN, EIN.
		{ident.SSN, "123-45-6789", us, "123456789", ""},
		{ident.SSN, "912-70-1234", us, "912701234", ""},
		{ident.SSN, "000-12-3456", us, "", ident.CodeReserved},
		{ident.SSN, "666-12-3456", us, "", ident.CodeReserved},
		{ident.SSN, "912-40-1234", us, "", ident.CodeReserved},
		{ident.SSN, "123-45-678", us, "", ident.CodeLength},
		{ident.SSN, "12a-45-6789", us, "", ident.CodeFormat},
		{ident.EIN, "12-3456789", us, "123456789", ""},
		{ident.EIN, "07-3456789", us, "", ident.CodeReserved},
		// Phones to E.164.
		{ident.Phone, "+52 1 55 1234 5678", mx, "+525512345678", ""},
		{ident.Phone, "(55) 1234-5678", mx, "+525512345678", ""},
		{ident.Phone, "044 55 1234 5678", mx, "+525512345678", ""},
		{ident.Phone, "00 52 55 1234 5678", us, "+525512345678", ""},
		{ident.Phone, "(202) 555-0143", us, "+12025550143", ""},
		{ident.Phone, "1-202-555-0143", us, "+12025550143", ""},
		{ident.Phone, "+1 202 555 01434", us, "", ident.CodeLength},
		{ident.Phone, "+52 55 1234 567", mx, "", ident.CodeLength},
		{ident.Phone, "55 1234 5678", ident.Context{}, "", ident.CodeCountry},
		{ident.Phone, "55-1234-5678 ext 2", mx, "", ident.CodeFormat},
		// Passports carry their country.
		{ident.Passport, "95040018273", ident.Context{Country: "MX"}, "MEX:95040018273", ""},
		{ident.Passport, "x1234567", ident.Context{Country: "usa"}, "USA:X1234567", ""},
		{ident.Passport, "95040018273", ident.Context{}, "", ident.CodeCountry},
		{ident.Passport, "12#45678", ident.Context{Country: "MEX"}, "", ident.CodeFormat},
		// Accounts carry their bank.
		{ident.Account, "0123 4567 89", ident.Context{Bank: "BBVA  México"}, "BBVA MÉXICO:0123456789", ""},
		{ident.Account, "0123456789", ident.Context{}, "", ident.CodeFormat},
		// Wallets.
		{ident.Wallet, "0x52908400098527886E0F7030069857D2E4169EE7", us, "0x52908400098527886e0f7030069857d2e4169ee7", ""},
		{ident.Wallet, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", us, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", ""},
		{ident.Wallet, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", us, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", ""},
		{ident.Wallet, "0x1234", us, "", ident.CodeFormat},
		{ident.Wallet, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0", us, "", ident.CodeFormat},
		// Dates of birth.
		{ident.DOB, "1948-03-01", mx, "1948-03-01", ""},
		{ident.DOB, "01/03/1948", mx, "1948-03-01", ""},
		{ident.DOB, "22 Nov 1982", mx, "1982-11-22", ""},
		{ident.DOB, "1948", mx, "1948", ""},
		{ident.DOB, "31/02/1948", mx, "", ident.CodeDate},
		{ident.DOB, "1848", mx, "", ident.CodeDate},
		{ident.Kind("shoe size"), "42", mx, "", ident.CodeUnknown},
	}
	for _, c := range cases {
		got, err := ident.Normalize(c.kind, c.in, c.ctx)
		if c.want != "" {
			if err != nil || got != c.want {
				t.Errorf("Normalize(%s, %q) = %q, %v; want %q", c.kind, c.in, got, err, c.want)
			}
			continue
		}
		var e *ident.Error
		if !errors.As(err, &e) || e.Code != c.code || e.Kind != c.kind {
			t.Errorf("Normalize(%s, %q) = %q, %v; want error %s", c.kind, c.in, got, err, c.code)
		}
	}
}
