package finintel

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
)

// The demo's money-laundering ring, "Red Pacífico" (invented): a Sinaloa
// trading company and its front persons move cash through Mexican
// accounts to a freight company in Arizona. Each side knows part of it,
// so disclosures arriving on either side light up "known to us" badges
// (the CURP, phone and CLABE are in the other side's subject index).
var ringSubjects = []Subject{
	{Ref: "S1", Type: "person", GivenNames: "Mónica", FirstSurname: "Ruiz", SecondSurname: "Salgado", Aliases: []string{"La Güera"}, DOB: "1982-11-22",
		Nationality: "MX", CURP: "RUSM821122MSLZLN08", Passport: "G12345678", PassportCtry: "MEX"},
	{Ref: "S2", Type: "person", GivenNames: "Héctor", FirstSurname: "Benítez", SecondSurname: "Olvera", DOB: "1975-03-09", Nationality: "MX", Phone: "+52 667 555 0101"},
	{Ref: "S3", Type: "company", Name: "Comercializadora Pacífico Norte S.A. de C.V.", RFC: "ABC680524P76", Country: "MX"},
	{Ref: "S4", Type: "company", Name: "Desert Freight LLC", EIN: "12-3456789", Country: "US"},
	{Ref: "S5", Type: "person", GivenNames: "Kevin", FirstSurname: "Walsh", DOB: "1984-02-29", Nationality: "US", Phone: "+1 (520) 555-0147"},
}

var ringAccounts = []Account{
	{Ref: "A1", Bank: "BBVA México", CLABE: "002010077777777771", Currency: "MXN", Holder: "S3"},
	{Ref: "A2", Bank: "Banorte", CLABE: "072180000118359711", Currency: "MXN", Holder: "S1"},
	{Ref: "A3", Bank: "Wells Fargo", Number: "4417123456", Currency: "USD", Holder: "S4"},
}

func ringTransactions(n int) []Transaction {
	var out []Transaction
	for i := 0; i < n; i++ {
		t := Transaction{Ref: fmt.Sprintf("T%d", i+1), Date: fmt.Sprintf("2025-%02d-%02d", 6+i%4, 1+(i*3)%28), Currency: "MXN", Channel: "wire"}
		switch i % 3 {
		case 0: // cash in, just under the reporting threshold
			t.Amount, t.From, t.To, t.Channel = fmt.Sprintf("%d.00", 148000+i*137), "S2", "A2", "cash"
		case 1:
			t.Amount, t.From, t.To = fmt.Sprintf("%d.00", 420000+i*911), "A2", "A1"
		default:
			t.Amount, t.Currency, t.From, t.To = fmt.Sprintf("%d.00", 23000+i*53), "USD", "A1", "A3"
		}
		out = append(out, t)
	}
	return out
}

// seedFinIntel runs the financial-intelligence work area through the real
// services and link: a released disclosure each way, one with a pending
// consent request and feedback, an answered and an open request.
// SeedDemo releases a disclosure each way, asks a request each way and
// answers one, asks consent and sends feedback: the Red Pacífico story,
// on the Mexican node (s) and the partner's.
func (s *Service) SeedDemo(ctx context.Context, seed area.Seed) error {
	mx, us := s, seed.Partner.(*Service)
	var err error
	var usA, usS, mxA, mxS *auth.User
	for _, x := range []struct {
		dst  **auth.User
		user func(context.Context, string) (*auth.User, error)
		name string
	}{{&usA, seed.PartnerUser, "analyst"}, {&usS, seed.PartnerUser, "supervisor"}, {&mxA, seed.User, "analista"}, {&mxS, seed.User, "supervisora"}} {
		if *x.dst, err = x.user(ctx, x.name); err != nil {
			return err
		}
	}

	// US → MX: FinCEN's disclosure on the ring's US end.
	cav := us.DefaultCaveats()
	d1, err := us.CreateDraft(ctx, usA, Draft{
		Title: "Red Pacífico: structured deposits and wires to Arizona", CriminalGroup: "Red Pacífico (synthetic)", Caveats: cav,
		Narrative: "FinCEN SAR filings show Desert Freight LLC receiving repeated wires from Comercializadora Pacífico Norte, funded by cash deposited just under the Mexican reporting threshold. The freight company's manager, Kevin Walsh, also wires funds on to Sonora. (Synthetic demo data.)",
		Content:   Content{Subjects: ringSubjects, Accounts: ringAccounts, Transactions: ringTransactions(30)},
	})
	if err != nil {
		return fmt.Errorf("seeding a disclosure: %w", err)
	}
	if err := us.Submit(ctx, usA, d1.ID); err != nil {
		return err
	}
	if err := us.Release(ctx, usS, d1.ID); err != nil {
		return fmt.Errorf("seeding a release: %w", err)
	}

	// MX → US: the UIF's disclosure, from a goAML report of a Mexican bank.
	var g bytes.Buffer
	if err := WriteSampleGoAML(&g, 40, 2025); err != nil {
		return err
	}
	dr, err := ImportGoAML(&g, mx.DefaultCaveats())
	if err != nil {
		return fmt.Errorf("seeding from goAML: %w", err)
	}
	dr.Title, dr.CriminalGroup = "Comercializadora Pacífico Norte: depósitos estructurados", "Red Pacífico (sintética)"
	dr.Caveats.ReleasableTo = []string{"DEA"}
	d2, err := mx.CreateDraft(ctx, mxA, *dr)
	if err != nil {
		return fmt.Errorf("seeding a disclosure: %w", err)
	}
	if err := mx.Submit(ctx, mxA, d2.ID); err != nil {
		return err
	}
	if err := mx.Release(ctx, mxS, d2.ID); err != nil {
		return fmt.Errorf("seeding a release: %w", err)
	}

	// Requests: one from each side; MX answers the US one.
	_, err = mx.CreateRFI(ctx, mxA, NewRFI{Title: "Beneficiarios finales de Desert Freight LLC", Urgency: "urgent",
		Questions: "¿Quiénes son los beneficiarios finales y firmantes de las cuentas de Desert Freight LLC? (Datos sintéticos.)",
		Subjects:  []Subject{ringSubjects[3]}})
	if err != nil {
		return fmt.Errorf("seeding a request: %w", err)
	}
	r2, err := us.CreateRFI(ctx, usA, NewRFI{Title: "Account holders at Banorte", Urgency: "routine",
		Questions: "Who holds the Banorte account that receives the cash deposits? (Synthetic demo data.)", Subjects: []Subject{ringSubjects[0]}})
	if err != nil {
		return fmt.Errorf("seeding a request: %w", err)
	}

	// Wait for everything to cross, then act on the other side.
	if err := area.WaitFor("the demo disclosures and requests to cross", 10*time.Second, func() bool {
		_, e1 := mx.Get(ctx, mxA, d1.ID)
		_, e2 := us.Get(ctx, usA, d2.ID)
		_, e3 := mx.GetRFI(ctx, mxA, r2.ID)
		return e1 == nil && e2 == nil && e3 == nil
	}); err != nil {
		return err
	}
	if _, err := mx.Respond(ctx, mxA, r2.ID, RespondFull, "La cuenta de Banorte está a nombre de Mónica Ruiz Salgado (S1 de su comunicación). Adjuntamos nuestra comunicación sobre la red. (Datos sintéticos.)", d2.ID); err != nil {
		return fmt.Errorf("seeding an answer: %w", err)
	}
	if _, err := mx.RequestConsent(ctx, mxA, d1.ID, UseDisseminate, "FGR", "La FGR abrió una carpeta de investigación sobre la red. (Datos sintéticos.)"); err != nil {
		return fmt.Errorf("seeding a consent request: %w", err)
	}
	if _, err := us.SendFeedback(ctx, usA, d2.ID, Feedback{Kind: "investigation_opened", Note: "Opened a case on Desert Freight LLC. (Synthetic demo data.)"}); err != nil {
		return fmt.Errorf("seeding feedback: %w", err)
	}
	return nil
}
