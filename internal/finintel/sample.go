package finintel

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
)

// WriteSampleGoAML writes a synthetic goAML STR with n transactions
// between a small ring of persons, companies and accounts, for the demo,
// tests and "puente bench finintel". The names and identifiers are
// invented (check digits valid).
func WriteSampleGoAML(w io.Writer, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	r := rand.New(rand.NewPCG(seed, 42))
	persons := []struct{ first, last, mother, dob, curp string }{
		{"Mónica", "Ruiz", "Salgado", "1982-11-22T00:00:00", "RUSM821122MSLZLN08"},
		{"Héctor", "Benítez", "Olvera", "1975-03-09T00:00:00", ""},
		{"Raquel", "Ibarra", "Soto", "1990-07-14T00:00:00", ""},
	}
	accounts := []struct{ bank, number string }{
		{"BBVA México", "002010077777777771"}, {"Banorte", "072180000118359711"}, {"Santander México", "014180000118359711"},
		{"Wells Fargo", "4417123456"}, {"Bank of America", "0032145678"},
	}
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>
<report>
  <rentity_id>1001</rentity_id>
  <submission_code>E</submission_code>
  <report_code>STR</report_code>
  <entity_reference>STR-2025-%04d</entity_reference>
  <submission_date>2025-10-20T10:00:00</submission_date>
  <currency_code_local>MXN</currency_code_local>
  <reason>Structured cash deposits followed by same-day wires to accounts abroad; the depositors share a home address.</reason>
  <action>Accounts under enhanced monitoring.</action>
`, seed%10000)
	for i := 0; i < n; i++ {
		p := persons[r.IntN(len(persons))]
		from, to := accounts[r.IntN(3)], accounts[3+r.IntN(2)]
		fmt.Fprintf(bw, `  <transaction>
    <transactionnumber>TX%07d</transactionnumber>
    <date_transaction>2025-%02d-%02dT12:00:00</date_transaction>
    <transmode_code>K</transmode_code>
    <amount_local>%d.%02d</amount_local>
    <t_from_my_client>
      <from_funds_code>K</from_funds_code>
      <from_account>
        <institution_name>%s</institution_name>
        <account>%s</account>
        <currency_code>MXN</currency_code>
        <signatory><is_primary>true</is_primary><t_person><first_name>%s</first_name><last_name>%s</last_name><mothers_name>%s</mothers_name><birthdate>%s</birthdate><id_number>%s</id_number><nationality1>MX</nationality1></t_person></signatory>
      </from_account>
      <from_country>MX</from_country>
    </t_from_my_client>
    <t_to>
      <to_funds_code>K</to_funds_code>
      <to_account><institution_name>%s</institution_name><account>%s</account><currency_code>USD</currency_code>
        <t_entity><name>Desert Freight LLC</name><tax_number>123456789</tax_number><incorporation_country_code>US</incorporation_country_code></t_entity>
      </to_account>
      <to_country>US</to_country>
    </t_to>
  </transaction>
`, i+1, 1+i%9, 1+i%28, 9000+r.IntN(90000), r.IntN(100), from.bank, from.number, p.first, p.last, p.mother, p.dob, p.curp, to.bank, to.number)
	}
	fmt.Fprint(bw, `  <activity>
    <report_parties>
      <report_party><person><first_name>Julián</first_name><last_name>Quintana</last_name><mothers_name>Rivas</mothers_name><birthdate>1969-05-02T00:00:00</birthdate><nationality1>MX</nationality1></person><significance>8</significance><reason>Controls the depositors.</reason></report_party>
    </report_parties>
  </activity>
</report>
`)
	return bw.Flush()
}
