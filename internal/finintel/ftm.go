package finintel

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ftmEntity is one FollowTheMoney entity (https://followthemoney.tech):
// an id, a schema and multi-valued properties.
type ftmEntity struct {
	ID         string              `json:"id"`
	Schema     string              `json:"schema"`
	Properties map[string][]string `json:"properties"`
}

// FTM writes a disclosure's subjects, accounts and transactions as
// FollowTheMoney entities, one JSON object per line (the format ftm and
// Aleph import): Person, Company, BankAccount, CryptoWallet, Ownership for
// account holders and Payment for transactions. Ids are the disclosure id
// and the record's ref, so a re-export merges with an earlier one.
func FTM(d *Disclosure, c *Content) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	id := func(ref string) string { return "puente-" + d.ID + "-" + ref }
	emit := func(e ftmEntity) error {
		for k, v := range e.Properties {
			var keep []string
			for _, x := range v {
				if x != "" {
					keep = append(keep, x)
				}
			}
			if len(keep) == 0 {
				delete(e.Properties, k)
			} else {
				e.Properties[k] = keep
			}
		}
		return enc.Encode(e)
	}
	note := fmt.Sprintf("puente disclosure %s from %s (%s); caveats: %s, %s", d.ID, d.FromAgency, d.Origin, d.Caveats.Classification, d.Caveats.Purpose)
	known := map[string]string{}   // ref → entity id
	holders := map[string]string{} // account ref → holder ref
	for _, a := range c.Accounts {
		holders[a.Ref] = a.Holder
	}
	for _, s := range c.Subjects {
		e := ftmEntity{ID: id(s.Ref), Properties: map[string][]string{"name": {s.FullName()}, "notes": {note}, "topics": {"crime.fin"}}}
		if s.Type == "company" {
			e.Schema = "Company"
			e.Properties["taxNumber"] = []string{s.RFC, s.EIN}
			e.Properties["country"] = []string{s.Country}
			e.Properties["jurisdiction"] = []string{s.Country}
		} else {
			e.Schema = "Person"
			e.Properties["firstName"] = []string{s.GivenNames}
			e.Properties["lastName"] = []string{s.FirstSurname}
			e.Properties["secondName"] = []string{s.SecondSurname}
			e.Properties["alias"] = s.Aliases
			e.Properties["birthDate"] = []string{s.DOB}
			e.Properties["nationality"] = []string{s.Nationality}
			e.Properties["idNumber"] = []string{s.CURP, s.SSN}
			e.Properties["taxNumber"] = []string{s.RFC}
			e.Properties["passportNumber"] = []string{s.Passport}
			e.Properties["phone"] = []string{s.Phone}
			e.Properties["email"] = []string{s.Email}
		}
		if err := emit(e); err != nil {
			return nil, err
		}
		known[s.Ref] = e.ID
	}
	for _, a := range c.Accounts {
		e := ftmEntity{ID: id(a.Ref), Schema: "BankAccount", Properties: map[string][]string{
			"accountNumber": {a.Number, a.CLABE}, "iban": {a.IBAN}, "bankName": {a.Bank}, "currency": {a.Currency}, "notes": {note}}}
		if a.Wallet != "" && a.Number == "" && a.CLABE == "" && a.IBAN == "" {
			e = ftmEntity{ID: id(a.Ref), Schema: "CryptoWallet", Properties: map[string][]string{"publicKey": {a.Wallet}, "currency": {a.Currency}, "notes": {note}}}
		}
		if err := emit(e); err != nil {
			return nil, err
		}
		known[a.Ref] = e.ID
		if a.Holder != "" {
			if err := emit(ftmEntity{ID: id(a.Ref + "-holder"), Schema: "Ownership", Properties: map[string][]string{
				"owner": {known[a.Holder]}, "asset": {e.ID}, "role": {"holder"}}}); err != nil {
				return nil, err
			}
		}
	}
	for _, t := range c.Transactions {
		e := ftmEntity{ID: id(t.Ref), Schema: "Payment", Properties: map[string][]string{
			"date": {t.Date}, "amount": {t.Amount}, "currency": {t.Currency}, "programme": {t.Channel}, "notes": {note}}}
		for _, side := range []struct{ ref, party, account string }{{t.From, "payer", "payerAccount"}, {t.To, "beneficiary", "beneficiaryAccount"}} {
			eid, ok := known[side.ref]
			switch {
			case !ok:
				// An outsider named in free text.
				e.Properties[side.party+"Name"] = []string{side.ref}
			case holders[side.ref] != "" || isAcct(holders, side.ref):
				e.Properties[side.account] = []string{eid}
				if h := holders[side.ref]; h != "" {
					e.Properties[side.party] = []string{known[h]}
				}
			default:
				e.Properties[side.party] = []string{eid}
			}
		}
		// FtM has no payerName; keep outsiders in the description.
		if v, ok := e.Properties["payerName"]; ok {
			e.Properties["description"] = append(e.Properties["description"], "from "+v[0])
			delete(e.Properties, "payerName")
		}
		if v, ok := e.Properties["beneficiaryName"]; ok {
			e.Properties["description"] = append(e.Properties["description"], "to "+v[0])
			delete(e.Properties, "beneficiaryName")
		}
		if err := emit(e); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func isAcct(holders map[string]string, ref string) bool {
	_, ok := holders[ref]
	return ok
}
