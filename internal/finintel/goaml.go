package finintel

import (
	"puente/internal/caveats"

	"puente/internal/fault"

	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxGoAMLBytes bounds a goAML file (a variable so tests can lower it).
var MaxGoAMLBytes int64 = 512 << 20

// ImportError is a problem in an imported file, with where it is: an
// element path for goAML ("report/transaction[3]/amount_local"), a line
// and column for CSV.
type ImportError struct {
	Path   string // goAML element path
	Line   int    // CSV line, 1-based
	Field  string // CSV column
	Reason string
	// reasonCode is the field error's code, for translation.
	reasonCode string
}

// Code is a stable code for the reason, when there is one (such as
// "ident.check_digit" or "invalid_amount").
func (e *ImportError) Code() string { return e.reasonCode }

// Where is the element path, or the line and column.
func (e *ImportError) Where() string {
	if e.Path != "" {
		return e.Path
	}
	if e.Field != "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Field)
	}
	return fmt.Sprintf("line %d", e.Line)
}

// Unwrap makes an import error an invalid input.
func (e *ImportError) Unwrap() error { return fault.ErrInvalid }

func (e *ImportError) Error() string {
	if e.Path != "" {
		return e.Path + ": " + e.Reason
	}
	if e.Field != "" {
		return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Field, e.Reason)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// The goAML elements puente reads (the UNODC goAML XML schema). Anything
// else in the report is skipped.
type (
	gPhone struct {
		Prefix string `xml:"tph_country_prefix"`
		Number string `xml:"tph_number"`
	}
	gIdentification struct {
		Type    string `xml:"type"`
		Number  string `xml:"number"`
		Country string `xml:"issue_country"`
	}
	gPerson struct {
		FirstName       string            `xml:"first_name"`
		MiddleName      string            `xml:"middle_name"`
		LastName        string            `xml:"last_name"`
		MothersName     string            `xml:"mothers_name"`
		Alias           string            `xml:"alias"`
		BirthDate       string            `xml:"birthdate"`
		SSN             string            `xml:"ssn"`
		Passport        string            `xml:"passport_number"`
		PassportCountry string            `xml:"passport_country"`
		IDNumber        string            `xml:"id_number"`
		Nationality     string            `xml:"nationality1"`
		Phones          []gPhone          `xml:"phones>phone"`
		Email           []string          `xml:"email"`
		TaxNumber       string            `xml:"tax_number"`
		Identification  []gIdentification `xml:"identification"`
	}
	gEntity struct {
		Name                string `xml:"name"`
		IncorporationNumber string `xml:"incorporation_number"`
		TaxNumber           string `xml:"tax_number"`
		Country             string `xml:"incorporation_country_code"`
	}
	gSignatory struct {
		Person *gPerson `xml:"t_person"`
	}
	gAccount struct {
		Institution string       `xml:"institution_name"`
		Account     string       `xml:"account"`
		IBAN        string       `xml:"iban"`
		Currency    string       `xml:"currency_code"`
		Signatories []gSignatory `xml:"signatory"`
		Entity      *gEntity     `xml:"t_entity"`
	}
	gFrom struct {
		Account *gAccount `xml:"from_account"`
		Person  *gPerson  `xml:"from_person"`
		Entity  *gEntity  `xml:"from_entity"`
	}
	gTo struct {
		Account *gAccount `xml:"to_account"`
		Person  *gPerson  `xml:"to_person"`
		Entity  *gEntity  `xml:"to_entity"`
	}
	gTransaction struct {
		Number   string `xml:"transactionnumber"`
		Date     string `xml:"date_transaction"`
		Mode     string `xml:"transmode_code"`
		Amount   string `xml:"amount_local"`
		FromMy   *gFrom `xml:"t_from_my_client"`
		From     *gFrom `xml:"t_from"`
		ToMy     *gTo   `xml:"t_to_my_client"`
		To       *gTo   `xml:"t_to"`
		Comments string `xml:"comments"`
	}
	gReportParty struct {
		Person  *gPerson  `xml:"person"`
		Account *gAccount `xml:"account"`
		Entity  *gEntity  `xml:"entity"`
	}
	gActivity struct {
		Parties []gReportParty `xml:"report_parties>report_party"`
	}
)

var curpShape = regexp.MustCompile(`^[A-Z]{4}[0-9]{6}[HMX][A-Z]{5}[0-9A-Z][0-9]$`)

// goamlReader turns a goAML report into a draft as it streams.
type goamlReader struct {
	d         *Draft
	currency  string
	persons   map[string]string // identity → subject ref
	accounts  map[string]string
	paths     map[string]string // subject or account ref → first element path
	txs       map[string]bool
	reason    string
	action    string
	code      string
	entityRef string
}

// ImportGoAML reads a goAML XML report (report, transaction with
// t_from_my_client / t_from / t_to_my_client / t_to holding from_person,
// from_account, from_entity and their to_ variants, activity with
// report_parties) into a draft disclosure, streaming the file. Persons,
// entities and accounts met several times become one subject or account.
// Every problem is an *ImportError naming the element path; a DOCTYPE (and
// so any entity declaration) is refused.
func ImportGoAML(r io.Reader, caveats caveats.Caveats) (*Draft, error) {
	lr := &io.LimitedReader{R: r, N: MaxGoAMLBytes + 1}
	dec := xml.NewDecoder(lr)
	dec.Strict = true
	g := &goamlReader{d: &Draft{Caveats: caveats}, persons: map[string]string{}, accounts: map[string]string{}, paths: map[string]string{}, txs: map[string]bool{}}
	depth, ntx, nparty := 0, 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if lr.N <= 0 {
			return nil, &ImportError{Path: "report", Reason: fmt.Sprintf("the file is larger than %d MiB", MaxGoAMLBytes>>20)}
		}
		if err != nil {
			return nil, &ImportError{Path: "report", Reason: "not well-formed XML: " + err.Error()}
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, &ImportError{Path: "report", Reason: "a DOCTYPE or entity declaration is not allowed in a goAML report"}
		case xml.StartElement:
			depth++
			if depth == 1 {
				if t.Name.Local != "report" {
					return nil, &ImportError{Path: t.Name.Local, Reason: "the root element must be <report>"}
				}
				continue
			}
			if depth != 2 {
				continue
			}
			var err error
			switch t.Name.Local {
			case "transaction":
				ntx++
				path := fmt.Sprintf("report/transaction[%d]", ntx)
				var tx gTransaction
				if err = dec.DecodeElement(&tx, &t); err == nil {
					err = g.transaction(path, &tx)
				} else {
					err = &ImportError{Path: path, Reason: xmlReason(err)}
				}
			case "activity":
				var a gActivity
				if err = dec.DecodeElement(&a, &t); err == nil {
					for _, p := range a.Parties {
						nparty++
						path := fmt.Sprintf("report/activity/report_parties/report_party[%d]", nparty)
						if _, err = g.party(path, "", p.Person, p.Account, p.Entity); err != nil {
							break
						}
					}
				} else {
					err = &ImportError{Path: "report/activity", Reason: xmlReason(err)}
				}
			case "currency_code_local", "reason", "action", "report_code", "entity_reference":
				var v string
				if err = dec.DecodeElement(&v, &t); err != nil {
					err = &ImportError{Path: "report/" + t.Name.Local, Reason: xmlReason(err)}
					break
				}
				v = strings.TrimSpace(v)
				switch t.Name.Local {
				case "currency_code_local":
					if !currencyRE.MatchString(v) {
						err = &ImportError{Path: "report/currency_code_local", Reason: fmt.Sprintf("%q is not an ISO 4217 currency code", v)}
					}
					g.currency = v
				case "reason":
					g.reason = v
				case "action":
					g.action = v
				case "report_code":
					g.code = v
				case "entity_reference":
					g.entityRef = v
				}
			default:
				err = dec.Skip()
			}
			depth-- // DecodeElement and Skip consume the end element
			if err != nil {
				return nil, err
			}
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 || g.d.Subjects == nil && g.d.Transactions == nil && g.code == "" && g.reason == "" {
		return nil, &ImportError{Path: "report", Reason: "the file is not a goAML report"}
	}
	title := "goAML " + g.code
	if g.entityRef != "" {
		title += " " + g.entityRef
	}
	g.d.Title = strings.TrimSpace(title)
	g.d.Narrative = strings.TrimSpace(g.reason + "\n\n" + g.action)
	if g.d.Narrative == "" {
		g.d.Narrative = "Imported from a goAML report."
	}
	if len(g.d.Narrative) > MaxText {
		g.d.Narrative = g.d.Narrative[:MaxText]
	}
	if len(g.d.Transactions) > MaxTransactions {
		return nil, &ImportError{Path: "report", Reason: fmt.Sprintf("more than %d transactions", MaxTransactions)}
	}
	if err := CheckContent(&g.d.Content); err != nil {
		return nil, g.explain(err)
	}
	return g.d, nil
}

func xmlReason(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("not well-formed XML (line %d): %s", se.Line, se.Msg)
	}
	return err.Error()
}

// explain turns a content error ("subjects[3].curp") into the element path
// the subject came from.
func (g *goamlReader) explain(err error) error {
	var fe *fault.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	list, rest, _ := strings.Cut(fe.Field, "]")
	kind, idx, _ := strings.Cut(list, "[")
	i, _ := strconv.Atoi(idx)
	var ref string
	switch kind {
	case "subjects":
		if i < len(g.d.Subjects) {
			ref = g.d.Subjects[i].Ref
		}
	case "accounts":
		if i < len(g.d.Accounts) {
			ref = g.d.Accounts[i].Ref
		}
	}
	field := strings.TrimPrefix(rest, ".")
	reason := strings.ReplaceAll(strings.TrimPrefix(fe.Code, "ident."), "_", " ")
	if p := g.paths[ref]; p != "" {
		return &ImportError{Path: p, Reason: fmt.Sprintf("%s: %s", goamlField[field], reason)}
	}
	return &ImportError{Path: "report", Reason: fe.Field + ": " + reason}
}

// goamlField names the goAML element a draft field came from.
var goamlField = map[string]string{
	"curp": "id_number (CURP)", "rfc": "tax_number (RFC)", "ssn": "ssn", "ein": "tax_number (EIN)", "passport": "passport_number",
	"phone": "phones/phone", "dob": "birthdate", "email": "email", "nationality": "nationality1", "given_names": "first_name",
	"first_surname": "last_name", "name": "name", "country": "incorporation_country_code", "number": "account", "iban": "iban",
	"clabe": "account (CLABE)", "currency": "currency_code", "ref": "ref",
}

func gDate(path, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Format(time.DateOnly), nil
		}
	}
	return "", &ImportError{Path: path, Reason: fmt.Sprintf("%q is not a date (xs:dateTime)", v)}
}

func (g *goamlReader) person(path string, p *gPerson) (string, error) {
	dob, err := gDate(path+"/birthdate", p.BirthDate)
	if err != nil {
		return "", err
	}
	s := Subject{Type: "person", GivenNames: strings.TrimSpace(strings.TrimSpace(p.FirstName) + " " + strings.TrimSpace(p.MiddleName)),
		FirstSurname: strings.TrimSpace(p.LastName), SecondSurname: strings.TrimSpace(p.MothersName), DOB: dob,
		Nationality: strings.ToUpper(strings.TrimSpace(p.Nationality)), SSN: strings.TrimSpace(p.SSN), Passport: strings.TrimSpace(p.Passport),
		PassportCtry: strings.ToUpper(strings.TrimSpace(p.PassportCountry))}
	if a := strings.TrimSpace(p.Alias); a != "" {
		s.Aliases = []string{a}
	}
	if id := strings.ToUpper(strings.TrimSpace(p.IDNumber)); curpShape.MatchString(id) {
		s.CURP = id
	}
	for _, x := range p.Identification {
		if n := strings.ToUpper(strings.TrimSpace(x.Number)); s.CURP == "" && curpShape.MatchString(n) {
			s.CURP = n
		}
	}
	if t := strings.TrimSpace(p.TaxNumber); t != "" {
		s.RFC = t
	}
	if len(p.Phones) > 0 && strings.TrimSpace(p.Phones[0].Number) != "" {
		ph := strings.TrimSpace(p.Phones[0].Number)
		if pre := strings.TrimSpace(p.Phones[0].Prefix); pre != "" && !strings.HasPrefix(ph, "+") {
			ph = "+" + strings.TrimPrefix(pre, "+") + ph
		}
		s.Phone = ph
	}
	if len(p.Email) > 0 {
		s.Email = strings.TrimSpace(p.Email[0])
	}
	if s.GivenNames == "" || s.FirstSurname == "" {
		return "", &ImportError{Path: path, Reason: "a person needs first_name and last_name"}
	}
	return g.subject(path, strings.ToLower(s.FullName())+"|"+s.DOB+"|"+s.CURP+"|"+s.Passport+"|"+s.SSN, s), nil
}

// subject returns the ref of the subject known by key, adding s (first
// met at path) when it is new: a person or entity named in many
// transactions is one subject.
func (g *goamlReader) subject(path, key string, s Subject) string {
	if ref, ok := g.persons[key]; ok {
		return ref
	}
	s.Ref = fmt.Sprintf("P%d", len(g.d.Subjects)+1)
	g.persons[key], g.paths[s.Ref] = s.Ref, path
	g.d.Subjects = append(g.d.Subjects, s)
	return s.Ref
}

func (g *goamlReader) entity(path string, e *gEntity) (string, error) {
	s := Subject{Type: "company", Name: strings.TrimSpace(e.Name), Country: strings.ToUpper(strings.TrimSpace(e.Country))}
	if s.Name == "" {
		return "", &ImportError{Path: path + "/name", Reason: "an entity needs a name"}
	}
	if t := strings.ToUpper(strings.TrimSpace(e.TaxNumber)); t != "" {
		if s.Country == "US" || s.Country == "USA" {
			s.EIN = t
		} else {
			s.RFC = t
		}
	}
	return g.subject(path, "entity|"+strings.ToLower(s.Name)+"|"+s.RFC+"|"+s.EIN, s), nil
}

func (g *goamlReader) account(path string, a *gAccount) (string, error) {
	acc := Account{Bank: strings.TrimSpace(a.Institution), IBAN: strings.TrimSpace(a.IBAN), Currency: strings.ToUpper(strings.TrimSpace(a.Currency))}
	n := strings.TrimSpace(a.Account)
	if len(n) == 18 && strings.Trim(n, "0123456789") == "" {
		acc.CLABE = n // Mexican accounts travel as their CLABE
	} else {
		acc.Number = n
	}
	if acc.Number == "" && acc.CLABE == "" && acc.IBAN == "" {
		return "", &ImportError{Path: path + "/account", Reason: "an account needs its number or IBAN"}
	}
	for i, sg := range a.Signatories {
		if sg.Person != nil {
			ref, err := g.person(fmt.Sprintf("%s/signatory[%d]/t_person", path, i+1), sg.Person)
			if err != nil {
				return "", err
			}
			if acc.Holder == "" {
				acc.Holder = ref
			}
		}
	}
	if a.Entity != nil {
		ref, err := g.entity(path+"/t_entity", a.Entity)
		if err != nil {
			return "", err
		}
		acc.Holder = ref
	}
	key := strings.ToLower(acc.Bank) + "|" + acc.Number + "|" + acc.CLABE + "|" + acc.IBAN
	if ref, ok := g.accounts[key]; ok {
		return ref, nil
	}
	acc.Ref = fmt.Sprintf("A%d", len(g.d.Accounts)+1)
	g.accounts[key], g.paths[acc.Ref] = acc.Ref, path
	g.d.Accounts = append(g.d.Accounts, acc)
	return acc.Ref, nil
}

// party reads the person, account or entity an element names, as
// <PREFIXaccount>, <PREFIXperson> or <PREFIXentity> (no prefix under
// report_party, "from_" and "to_" in a transaction), and returns its ref.
func (g *goamlReader) party(path, prefix string, p *gPerson, a *gAccount, e *gEntity) (string, error) {
	switch {
	case a != nil:
		return g.account(path+"/"+prefix+"account", a)
	case p != nil:
		return g.person(path+"/"+prefix+"person", p)
	case e != nil:
		return g.entity(path+"/"+prefix+"entity", e)
	}
	return "", &ImportError{Path: path, Reason: fmt.Sprintf("names no %saccount, %sperson or %sentity", prefix, prefix, prefix)}
}

// channelOf maps goAML transmission modes to puente's channels. The codes
// are each FIU's own; the common ones are recognised and the rest are
// "other".
func channelOf(mode string) string {
	switch m := strings.ToLower(strings.TrimSpace(mode)); {
	case m == "a" || strings.Contains(m, "cash") || strings.Contains(m, "efectivo"):
		return "cash"
	case m == "k" || m == "e" || strings.Contains(m, "wire") || strings.Contains(m, "transfer") || strings.Contains(m, "spei"):
		return "wire"
	case m == "c" || strings.Contains(m, "cheque") || strings.Contains(m, "check"):
		return "check"
	case strings.Contains(m, "card") || strings.Contains(m, "tarjeta"):
		return "card"
	case strings.Contains(m, "crypto") || strings.Contains(m, "virtual"):
		return "crypto"
	case strings.Contains(m, "remit"):
		return "remittance"
	}
	return "other"
}

func (g *goamlReader) transaction(path string, t *gTransaction) error {
	if g.currency == "" {
		return &ImportError{Path: "report/currency_code_local", Reason: "must come before the first transaction"}
	}
	date, err := gDate(path+"/date_transaction", t.Date)
	if err != nil {
		return err
	}
	if date == "" {
		return &ImportError{Path: path + "/date_transaction", Reason: "required"}
	}
	amount := strings.TrimSpace(t.Amount)
	if !amountRE.MatchString(amount) {
		return &ImportError{Path: path + "/amount_local", Reason: fmt.Sprintf("%q is not an amount", amount)}
	}
	ref := strings.TrimSpace(t.Number)
	if !refRE.MatchString(ref) || g.txs[ref] {
		ref = fmt.Sprintf("T%d", len(g.d.Transactions)+1)
	}
	g.txs[ref] = true
	from, fp := t.FromMy, path+"/t_from_my_client"
	if from == nil {
		from, fp = t.From, path+"/t_from"
	}
	to, tp := t.ToMy, path+"/t_to_my_client"
	if to == nil {
		to, tp = t.To, path+"/t_to"
	}
	if from == nil {
		return &ImportError{Path: path, Reason: "needs t_from_my_client or t_from"}
	}
	if to == nil {
		return &ImportError{Path: path, Reason: "needs t_to_my_client or t_to"}
	}
	fromRef, err := g.party(fp, "from_", from.Person, from.Account, from.Entity)
	if err != nil {
		return err
	}
	toRef, err := g.party(tp, "to_", to.Person, to.Account, to.Entity)
	if err != nil {
		return err
	}
	if len(g.d.Transactions) >= MaxTransactions {
		return &ImportError{Path: path, Reason: fmt.Sprintf("more than %d transactions", MaxTransactions)}
	}
	g.d.Transactions = append(g.d.Transactions, Transaction{Ref: ref, Date: date, Amount: amount, Currency: g.currency, From: fromRef, To: toRef, Channel: channelOf(t.Mode)})
	return nil
}
