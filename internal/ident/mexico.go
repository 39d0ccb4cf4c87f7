package ident

import (
	"strings"
)

// curpStates are the two-letter birth-state codes of a CURP (NE: born
// abroad).
var curpStates = map[string]bool{
	"AS": true, "BC": true, "BS": true, "CC": true, "CL": true, "CM": true, "CS": true, "CH": true, "DF": true, "DG": true,
	"GT": true, "GR": true, "HG": true, "JC": true, "MC": true, "MN": true, "MS": true, "NT": true, "NL": true, "OC": true,
	"PL": true, "QT": true, "QR": true, "SP": true, "SL": true, "SR": true, "TC": true, "TS": true, "TL": true, "VZ": true,
	"YN": true, "ZS": true, "NE": true,
}

// curpAlphabet gives each character its value in the CURP check digit
// (RENAPO): digits, then letters with Ñ after N.
const curpAlphabet = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"

func letter(r rune) bool { return (r >= 'A' && r <= 'Z') || r == 'Ñ' }

// curp checks the 18 characters of a Clave Única de Registro de Población:
// four letters, the birth date (YYMMDD), sex (H, M or X), the birth state,
// three inner consonants, a differentiator (a digit for births before 2000,
// a letter after) and the check digit.
func curp(s string) (string, error) {
	r := []rune(s)
	if len(r) != 18 {
		return "", fail(CURP, CodeLength, "a CURP has 18 characters, this has %d", len(r))
	}
	for i := 0; i < 4; i++ {
		if !letter(r[i]) {
			return "", fail(CURP, CodeFormat, "characters 1-4 of a CURP are letters")
		}
	}
	if !yymmdd(string(r[4:10])) {
		return "", fail(CURP, CodeDate, "characters 5-10 of a CURP are a valid birth date (YYMMDD)")
	}
	if r[10] != 'H' && r[10] != 'M' && r[10] != 'X' {
		return "", fail(CURP, CodeFormat, "character 11 of a CURP is the sex: H, M or X")
	}
	if !curpStates[string(r[11:13])] {
		return "", fail(CURP, CodeState, "characters 12-13 of a CURP are a state code, not %q", string(r[11:13]))
	}
	for i := 13; i < 16; i++ {
		if !letter(r[i]) || strings.ContainsRune("AEIOU", r[i]) {
			return "", fail(CURP, CodeFormat, "characters 14-16 of a CURP are consonants")
		}
	}
	if !letter(r[16]) && (r[16] < '0' || r[16] > '9') {
		return "", fail(CURP, CodeFormat, "character 17 of a CURP is a letter or a digit")
	}
	if r[17] < '0' || r[17] > '9' {
		return "", fail(CURP, CodeFormat, "character 18 of a CURP is its check digit")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexRune(curpAlphabet, r[i])
		v = len([]rune(curpAlphabet[:v])) // rune index, Ñ is two bytes
		sum += v * (18 - i)
	}
	want := (10 - sum%10) % 10
	if int(r[17]-'0') != want {
		return "", fail(CURP, CodeCheckDigit, "the check digit of this CURP should be %d, not %c", want, r[17])
	}
	return s, nil
}

// rfc checks the structure of a Registro Federal de Contribuyentes: four
// letters (a person) or three (a company, & and Ñ allowed), the date
// (YYMMDD) and a three-character homoclave. The SAT's check character is
// not verified: the issue asks for the structure, and older RFCs break it.
func rfc(s string) (string, error) {
	r := []rune(s)
	n := len(r)
	if n != 12 && n != 13 {
		return "", fail(RFC, CodeLength, "an RFC has 13 characters (a person) or 12 (a company), this has %d", n)
	}
	lead := n - 9
	for i := 0; i < lead; i++ {
		if !letter(r[i]) && r[i] != '&' {
			return "", fail(RFC, CodeFormat, "the first %d characters of this RFC are letters", lead)
		}
	}
	if !yymmdd(string(r[lead : lead+6])) {
		return "", fail(RFC, CodeDate, "characters %d-%d of an RFC are a valid date (YYMMDD)", lead+1, lead+6)
	}
	for _, c := range r[lead+6:] {
		if !letter(c) && (c < '0' || c > '9') {
			return "", fail(RFC, CodeFormat, "the last three characters of an RFC (the homoclave) are letters or digits")
		}
	}
	return s, nil
}

// clabe checks an 18-digit Clave Bancaria Estandarizada: bank (3), plaza
// (3), account (11) and a check digit (weights 3, 7, 1).
func clabe(s string) (string, error) {
	if !allDigits(s) {
		return "", fail(CLABE, CodeFormat, "a CLABE has digits only")
	}
	if len(s) != 18 {
		return "", fail(CLABE, CodeLength, "a CLABE has 18 digits, this has %d", len(s))
	}
	w := [3]int{3, 7, 1}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s[i]-'0') * w[i%3] % 10
	}
	want := (10 - sum%10) % 10
	if int(s[17]-'0') != want {
		return "", fail(CLABE, CodeCheckDigit, "the check digit of this CLABE should be %d, not %c", want, s[17])
	}
	return s, nil
}
