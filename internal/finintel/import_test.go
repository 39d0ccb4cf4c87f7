package finintel

import (
	"puente/internal/caveats"

	"bytes"
	"errors"
	"strings"
	"testing"
)

var testCaveats = caveats.Caveats{Classification: "RESTRICTED", Purpose: caveats.PurposeIntelligence, RetentionDays: 365}

func TestGoAMLSample(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSampleGoAML(&b, 200, 7); err != nil {
		t.Fatal(err)
	}
	d, err := ImportGoAML(&b, testCaveats)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Transactions) != 200 || len(d.Accounts) != 5 || len(d.Subjects) != 5 {
		t.Fatalf("got %d transactions, %d accounts, %d subjects", len(d.Transactions), len(d.Accounts), len(d.Subjects))
	}
	if d.Title != "goAML STR STR-2025-0007" || !strings.Contains(d.Narrative, "Structured cash") {
		t.Fatalf("title %q narrative %q", d.Title, d.Narrative)
	}
	var curp, company, party bool
	for _, s := range d.Subjects {
		curp = curp || s.CURP == "RUSM821122MSLZLN08"
		company = company || (s.Type == "company" && s.EIN == "123456789")
		party = party || s.FirstSurname == "Quintana"
	}
	if !curp || !company || !party {
		t.Fatalf("subjects: %+v", d.Subjects)
	}
	if tx := d.Transactions[0]; tx.Channel != "wire" || tx.Currency != "MXN" || tx.Date != "2025-01-01" {
		t.Fatalf("first transaction %+v", tx)
	}
}

const goamlHead = `<report><report_code>STR</report_code><currency_code_local>MXN</currency_code_local>`

func tx(inner string) string {
	return `<transaction><transactionnumber>T1</transactionnumber><date_transaction>2025-01-02T00:00:00</date_transaction><amount_local>10.00</amount_local>` + inner + `</transaction>`
}

const okParties = `<t_from><from_person><first_name>Ana</first_name><last_name>Soto</last_name></from_person></t_from><t_to><to_entity><name>ACME</name></to_entity></t_to>`

func TestGoAMLHostile(t *testing.T) {
	cases := []struct {
		name, xml, path, reason string
	}{
		{"broken XML", goamlHead + tx(okParties), "report", "not well-formed"},
		{"not a report", `<html><body/></html>`, "html", "root element"},
		{"empty", ``, "report", "not a goAML report"},
		{"amount is text", goamlHead + strings.Replace(tx(okParties), "10.00", "ten", 1) + `</report>`, "report/transaction[1]/amount_local", "not an amount"},
		{"bad date", goamlHead + strings.Replace(tx(okParties), "2025-01-02T00:00:00", "yesterday", 1) + `</report>`, "report/transaction[1]/date_transaction", "not a date"},
		{"bad birthdate", goamlHead + tx(strings.Replace(okParties, "<last_name>Soto</last_name>", "<last_name>Soto</last_name><birthdate>1990-13-45</birthdate>", 1)) + `</report>`, "report/transaction[1]/t_from/from_person/birthdate", "not a date"},
		{"bad CURP", goamlHead + tx(strings.Replace(okParties, "<last_name>Soto</last_name>", "<last_name>Soto</last_name><id_number>RUSM821122MSLZLN09</id_number>", 1)) + `</report>`, "report/transaction[1]/t_from/from_person", "check digit"},
		{"no from", goamlHead + tx(`<t_to><to_entity><name>ACME</name></to_entity></t_to>`) + `</report>`, "report/transaction[1]", "t_from"},
		{"person without name", goamlHead + tx(strings.Replace(okParties, "<first_name>Ana</first_name>", "", 1)) + `</report>`, "report/transaction[1]/t_from/from_person", "first_name"},
		{"bad currency", `<report><currency_code_local>pesos</currency_code_local></report>`, "report/currency_code_local", "ISO 4217"},
		{"entity expansion", `<?xml version="1.0"?><!DOCTYPE report [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><report>&b;</report>`, "report", "DOCTYPE"},
		{"undefined entity", goamlHead + `<reason>&xxe;</reason></report>`, "report/reason", "not well-formed"},
		{"wrong nesting type", goamlHead + `<transaction><amount_local><x>1</x></amount_local></transaction></report>`, "report/transaction[1]", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := ImportGoAML(strings.NewReader(c.xml), testCaveats)
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, %v; want an ImportError", d, err)
			}
			if !strings.HasPrefix(ie.Path, c.path) || !strings.Contains(ie.Reason, c.reason) {
				t.Fatalf("got %q: %q; want %q: …%s…", ie.Path, ie.Reason, c.path, c.reason)
			}
		})
	}
}

func TestGoAMLTooLarge(t *testing.T) {
	old := MaxGoAMLBytes
	MaxGoAMLBytes = 10 << 10
	defer func() { MaxGoAMLBytes = old }()
	var b bytes.Buffer
	WriteSampleGoAML(&b, 100, 1)
	_, err := ImportGoAML(&b, testCaveats)
	var ie *ImportError
	if !errors.As(err, &ie) || !strings.Contains(ie.Reason, "larger than") {
		t.Fatalf("got %v", err)
	}
}

func TestCSVImport(t *testing.T) {
	cases := []struct {
		name, kind, csv string
		line            int
		field, reason   string
	}{
		{"good subjects", "subjects", "ref,given_names,first_surname,curp,aliases\nS1,Mónica,Ruiz,RUSM821122MSLZLN08,La Güera|Moni\n", 0, "", ""},
		{"bad CURP", "subjects", "ref,given_names,first_surname,curp\nS1,Ana,Soto,\nS2,Luis,Mora,RUSM821122MSLZLN09\n", 3, "curp", "check digit"},
		{"unknown column", "subjects", "ref,nickname\nS1,x\n", 1, "nickname", "unknown column"},
		{"no ref column", "accounts", "bank,clabe\nBBVA,002010077777777771\n", 1, "ref", "ref column"},
		{"bad CLABE", "accounts", "ref,bank,clabe\nA1,BBVA,002010077777777772\n", 2, "clabe", "check digit"},
		{"bad IBAN", "accounts", "ref,iban\nA1,GB82WEST12345698765433\n", 2, "iban", "check digit"},
		{"unknown holder", "accounts", "ref,clabe,holder\nA1,002010077777777771,S9\n", 2, "holder", "unknown ref"},
		{"bad amount", "transactions", "ref,date,amount,currency,from,to,channel\nT1,2025-01-01,1.000,00,MXN,a,b,wire\n", 2, "", "wrong number of fields"},
		{"bad date", "transactions", "ref,date,amount,currency,from,to,channel\nT1,01/02/2025,100,MXN,a,b,wire\n", 2, "date", "invalid date"},
		{"bad channel", "transactions", "ref,date,amount,currency,from,to,channel\nT1,2025-01-01,100,MXN,a,b,pigeon\n", 2, "channel", "invalid channel"},
		{"duplicate", "transactions", "ref,date,amount,currency,from,to\nT1,2025-01-01,100,MXN,a,b\nT1,2025-01-02,100,MXN,a,b\n", 3, "ref", "duplicate ref"},
		{"unquoted quote", "subjects", "ref,given_names,first_surname\nS1,An\"a,Soto\n", 2, "", "quote"},
		{"empty", "subjects", "", 1, "", "empty"},
		{"unknown kind", "people", "ref\n", 0, "", "unknown kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			content := Content{Subjects: []Subject{{Ref: "S0", Type: "person", GivenNames: "X", FirstSurname: "Y"}}}
			err := ImportCSV(c.kind, strings.NewReader(c.csv), &content)
			if c.reason == "" {
				if err != nil || len(content.Subjects) != 2 || len(content.Subjects[1].Aliases) != 2 {
					t.Fatalf("got %v, %+v", err, content.Subjects)
				}
				return
			}
			var ie *ImportError
			if !errors.As(err, &ie) || ie.Line != c.line || ie.Field != c.field || !strings.Contains(ie.Reason, c.reason) {
				t.Fatalf("got %#v; want line %d, field %q, …%s…", err, c.line, c.field, c.reason)
			}
			if len(content.Subjects) != 1 || len(content.Accounts)+len(content.Transactions) != 0 {
				t.Fatalf("a bad file changed the content: %+v", content)
			}
		})
	}
}

func TestFTM(t *testing.T) {
	d := &Disclosure{ID: "D1", Origin: "MX", FromAgency: "UIF", Caveats: testCaveats}
	c := &Content{
		Subjects:     []Subject{{Ref: "S1", Type: "person", GivenNames: "Ana", FirstSurname: "Soto", CURP: "RUSM821122MSLZLN08"}},
		Accounts:     []Account{{Ref: "A1", CLABE: "002010077777777771", Holder: "S1"}, {Ref: "W1", Wallet: "0x52908400098527886E0F7030069857D2E4169EE7"}},
		Transactions: []Transaction{{Ref: "T1", Date: "2025-01-01", Amount: "10", Currency: "MXN", From: "A1", To: "Casa X", Channel: "cash"}},
	}
	out, err := FTM(d, c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{`"schema":"Person"`, `"idNumber":["RUSM821122MSLZLN08"]`, `"schema":"CryptoWallet"`, `"schema":"Ownership"`,
		`"payerAccount":["puente-D1-A1"]`, `"payer":["puente-D1-S1"]`, `"description":["to Casa X"]`} {
		if !strings.Contains(s, want) {
			t.Errorf("FtM export lacks %s:\n%s", want, s)
		}
	}
}
