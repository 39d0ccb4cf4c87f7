package ident

import (
	"math/big"
	"strings"
	"time"
)

// ssn checks a Social Security Number or an ITIN: nine digits; an SSN's
// area is not 000, 666 or 9xx, its group not 00 and its serial not 0000;
// an ITIN starts with 9 and has a group of 50-65, 70-88, 90-92 or 94-99.
func ssn(s string) (string, error) {
	if !allDigits(s) {
		return "", fail(SSN, CodeFormat, "an SSN or ITIN has digits only (separators - . and space allowed)")
	}
	if len(s) != 9 {
		return "", fail(SSN, CodeLength, "an SSN or ITIN has 9 digits, this has %d", len(s))
	}
	area, group, serial := s[:3], s[3:5], s[5:]
	if area[0] == '9' {
		g := int(group[0]-'0')*10 + int(group[1]-'0')
		if (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || g >= 94 {
			return s, nil
		}
		return "", fail(SSN, CodeReserved, "a number starting with 9 is an ITIN, and its middle digits %s are not an ITIN range", group)
	}
	if area == "000" || area == "666" || group == "00" || serial == "0000" {
		return "", fail(SSN, CodeReserved, "%s-%s-%s is a number the SSA never issues", area, group, serial)
	}
	return s, nil
}

// einPrefixes are the two-digit prefixes the IRS does not assign.
var einBad = map[string]bool{"00": true, "07": true, "08": true, "09": true, "17": true, "18": true, "19": true, "28": true,
	"29": true, "49": true, "69": true, "70": true, "78": true, "79": true, "89": true, "96": true, "97": true}

// ein checks an Employer Identification Number: nine digits with an
// assigned two-digit prefix.
func ein(s string) (string, error) {
	if !allDigits(s) {
		return "", fail(EIN, CodeFormat, "an EIN has digits only (XX-XXXXXXX)")
	}
	if len(s) != 9 {
		return "", fail(EIN, CodeLength, "an EIN has 9 digits, this has %d", len(s))
	}
	if einBad[s[:2]] {
		return "", fail(EIN, CodeReserved, "the IRS does not assign EINs starting with %s", s[:2])
	}
	return s, nil
}

// passport checks a passport number (5 to 20 letters and digits) with the
// issuing country, and returns COUNTRY:NUMBER: the same number from two
// countries is two passports.
func passport(s, country string) (string, error) {
	country = strings.ToUpper(strings.TrimSpace(country))
	if !isCountry(country) {
		return "", fail(Passport, CodeCountry, "a passport needs its issuing country as an ISO code such as MEX or USA")
	}
	if len(s) < 5 || len(s) > 20 {
		return "", fail(Passport, CodeLength, "a passport number has 5 to 20 characters, this has %d", len(s))
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z') && !(r >= '0' && r <= '9') {
			return "", fail(Passport, CodeFormat, "a passport number has letters and digits only")
		}
	}
	return alpha3(country) + ":" + s, nil
}

func isCountry(c string) bool {
	if len(c) == 2 || len(c) == 3 {
		for _, r := range c {
			if r < 'A' || r > 'Z' {
				return false
			}
		}
		return true
	}
	return false
}

// alpha3 maps the two countries of the agreement's alpha-2 codes to
// alpha-3; other codes stay as given.
func alpha3(c string) string {
	switch c {
	case "MX":
		return "MEX"
	case "US":
		return "USA"
	}
	return c
}

// callingCodes are the country calling codes for numbers written without
// one, by the country they are dialled in.
var callingCodes = map[string]string{"MX": "52", "MEX": "52", "US": "1", "USA": "1"}

// phone normalises a telephone number to E.164 (+ and 8 to 15 digits).
// "00" is an international prefix; a Mexican mobile's old "1" after +52
// and the national "044"/"045" prefixes are dropped; a ten-digit number
// without a country code takes the calling code of country.
func phone(s, country string) (string, error) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case strings.ContainsRune(" -.()/", r):
		default:
			return "", fail(Phone, CodeFormat, "a phone number has digits, an optional leading + and separators only")
		}
	}
	n := b.String()
	switch {
	case strings.HasPrefix(n, "+"):
		n = n[1:]
	case strings.HasPrefix(n, "00"):
		n = n[2:]
	default:
		n = strings.TrimPrefix(strings.TrimPrefix(n, "044"), "045")
		if len(n) == 11 && n[0] == '1' && callingCodes[strings.ToUpper(country)] == "1" {
			break // 1 + ten digits in the US
		}
		if len(n) != 10 {
			return "", fail(Phone, CodeLength, "a number without country code has 10 digits, this has %d", len(n))
		}
		cc, ok := callingCodes[strings.ToUpper(country)]
		if !ok {
			return "", fail(Phone, CodeCountry, "write the number with its country code (+52…, +1…)")
		}
		n = cc + n
	}
	if strings.HasPrefix(n, "521") && len(n) == 13 {
		n = "52" + n[3:] // Mexican mobiles lost the 1 in 2019
	}
	if len(n) < 8 || len(n) > 15 || n[0] == '0' {
		return "", fail(Phone, CodeLength, "an international number has 8 to 15 digits after the +, not starting with 0")
	}
	switch {
	case strings.HasPrefix(n, "52") && len(n) != 12:
		return "", fail(Phone, CodeLength, "a Mexican number has 10 digits after +52")
	case strings.HasPrefix(n, "1") && len(n) != 11:
		return "", fail(Phone, CodeLength, "a North American number has 10 digits after +1")
	}
	return "+" + n, nil
}

// ibanLengths are the IBAN lengths of common countries (ISO 13616
// registry); a country not listed is checked for the general shape only.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DK": 18, "DO": 28, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "GT": 28, "HR": 21,
	"HU": 28, "IE": 22, "IL": 23, "IT": 27, "KW": 30, "LB": 28, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31,
	"NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "SA": 24, "SE": 24, "SI": 19,
	"SK": 24, "SV": 28, "TR": 26, "UA": 29, "VG": 24,
}

// iban checks an International Bank Account Number: country, two check
// digits, the national part, and the ISO 7064 mod 97-10 check.
func iban(s string) (string, error) {
	if len(s) < 15 || len(s) > 34 {
		return "", fail(IBAN, CodeLength, "an IBAN has 15 to 34 characters, this has %d", len(s))
	}
	for i, r := range s {
		ok := (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if i < 2 {
			ok = r >= 'A' && r <= 'Z'
		} else if i < 4 {
			ok = r >= '0' && r <= '9'
		}
		if !ok {
			return "", fail(IBAN, CodeFormat, "an IBAN is a country code, two check digits and letters or digits")
		}
	}
	if n, ok := ibanLengths[s[:2]]; ok && n != len(s) {
		return "", fail(IBAN, CodeLength, "an IBAN from %s has %d characters, this has %d", s[:2], n, len(s))
	}
	var num strings.Builder
	for _, r := range s[4:] + s[:4] {
		if r >= 'A' && r <= 'Z' {
			num.WriteString(big.NewInt(int64(r - 'A' + 10)).String())
		} else {
			num.WriteRune(r)
		}
	}
	v, _ := new(big.Int).SetString(num.String(), 10)
	if new(big.Int).Mod(v, big.NewInt(97)).Int64() != 1 {
		return "", fail(IBAN, CodeCheckDigit, "the check digits of this IBAN do not match (mod 97)")
	}
	return s, nil
}

// account checks a bank account number with its bank: 4 to 34 letters
// and digits, returned as BANK:NUMBER.
func account(s, bank string) (string, error) {
	bank = strings.ToUpper(strings.Join(strings.Fields(bank), " "))
	if bank == "" {
		return "", fail(Account, CodeFormat, "an account number needs its bank")
	}
	n := compact(s)
	if len(n) < 4 || len(n) > 34 {
		return "", fail(Account, CodeLength, "an account number has 4 to 34 characters, this has %d", len(n))
	}
	for _, r := range n {
		if !(r >= 'A' && r <= 'Z') && !(r >= '0' && r <= '9') {
			return "", fail(Account, CodeFormat, "an account number has letters and digits only")
		}
	}
	return bank + ":" + n, nil
}

// wallet checks the shape of a Bitcoin (legacy base58 or bech32) or
// Ethereum address. Base58 and bech32 checksums are not verified.
func wallet(s string) (string, error) {
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		h := strings.ToLower(s[2:])
		if len(h) != 40 || strings.Trim(h, "0123456789abcdef") != "" {
			return "", fail(Wallet, CodeFormat, "an Ethereum address is 0x and 40 hexadecimal digits")
		}
		return "0x" + h, nil
	case strings.HasPrefix(strings.ToLower(s), "bc1"):
		l := strings.ToLower(s)
		if len(l) < 14 || len(l) > 74 || strings.Trim(l[3:], "qpzry9x8gf2tvdw0s3jn54khce6mua7l") != "" {
			return "", fail(Wallet, CodeFormat, "a bech32 Bitcoin address is bc1 and 11 to 71 bech32 characters")
		}
		return l, nil
	case s != "" && (s[0] == '1' || s[0] == '3'):
		const b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
		if len(s) < 26 || len(s) > 35 || strings.Trim(s, b58) != "" {
			return "", fail(Wallet, CodeFormat, "a legacy Bitcoin address is 26 to 35 base58 characters starting with 1 or 3")
		}
		return s, nil
	}
	return "", fail(Wallet, CodeFormat, "not a Bitcoin or Ethereum address")
}

// dob reads a date of birth: 1948-03-01, 01/03/1948 (day first, as both
// Mexico and the lists write it), 1 Mar 1948, or a year alone. It returns
// YYYY-MM-DD or YYYY.
func dob(s string) (string, error) {
	for _, layout := range []string{"2006-01-02", "02/01/2006", "2/1/2006", "02-01-2006", "2 Jan 2006", "02 Jan 2006", "January 2, 2006", "2006/01/02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return checkYear(t.Year(), t.Format("2006-01-02"))
		}
	}
	if len(s) == 4 && allDigits(s) {
		y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
		return checkYear(y, s)
	}
	return "", fail(DOB, CodeDate, "a date of birth is written 1948-03-01, 01/03/1948 or 1948")
}

func checkYear(y int, out string) (string, error) {
	if y < 1900 || y > time.Now().Year() {
		return "", fail(DOB, CodeDate, "a year of birth between 1900 and this year")
	}
	return out, nil
}

// IsCountry reports whether c has the shape of an ISO 3166 alpha-2 or
// alpha-3 code (upper case).
func IsCountry(c string) bool { return isCountry(c) }
