package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/caveats"
	"puente/internal/extradition"
	"puente/internal/finintel"
	"puente/internal/node"
	"puente/internal/testenv"
)

// TestDisclosureScreenedAgainNewTarget: a disclosure from the US reaches
// Mexico and is screened with nothing to flag; then the US nominates its
// subject as a priority target released to Mexico's FIU: Mexico screens
// the disclosure again, and its analysts see the flag.
func TestDisclosureScreenedAgainNewTarget(t *testing.T) {
	// The nodes screen against lists (the test lists of internal/screen),
	// so the disclosure is screened once before the target exists.
	lists, err := filepath.Abs("../internal/screen/testdata/lists")
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.StartPair(t, func(_ string, c *node.Config) { c.ListsDir = lists })
	ctx := context.Background()
	mk := func(party, name string, role auth.Role, agency string) *auth.User {
		u, err := p.Nodes[party].Auth.Create(ctx, auth.NewUser{Username: name, DisplayName: name, Role: role, Agency: agency, Password: "rescreen-password-123"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	analyst, sup := mk("US", "fincen", auth.Analyst, "FinCEN"), mk("US", "fincen-sup", auth.Supervisor, "FinCEN")
	hsi, doj := mk("US", "hsi", auth.Coordinator, "HSI"), mk("US", "doj", auth.Legal, "DOJ-OIA")
	uif := mk("MX", "uif", auth.Analyst, "UIF")
	raw, _ := json.Marshal(map[string]any{
		"title": "Kessler logistics", "narrative": "Synthetic.",
		"subjects":     []map[string]any{{"ref": "S1", "type": "person", "given_names": "Daniel", "first_surname": "Kessler", "second_surname": "Ruiz", "dob": "1984-05-19"}},
		"accounts":     []map[string]any{{"ref": "A1", "bank": "BBVA", "clabe": "002010077777777771", "holder": "S1"}},
		"transactions": []map[string]any{{"ref": "T1", "date": "2025-10-01", "amount": "1000.00", "currency": "USD", "from": "A1", "to": "S1", "channel": "wire"}},
	})
	var dr finintel.Draft
	if err := json.Unmarshal(raw, &dr); err != nil {
		t.Fatal(err)
	}
	dr.Caveats = finintel.Of(p.Nodes["US"]).DefaultCaveats()
	d, err := finintel.Of(p.Nodes["US"]).CreateDraft(ctx, analyst, dr)
	if err != nil {
		t.Fatal(err)
	}
	if err := finintel.Of(p.Nodes["US"]).Submit(ctx, analyst, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := finintel.Of(p.Nodes["US"]).Release(ctx, sup, d.ID); err != nil {
		t.Fatal(err)
	}
	mx := finintel.Of(p.Nodes["MX"])
	screened := func() (*finintel.Disclosure, bool) {
		var at int64
		if err := p.Nodes["MX"].DB.Read().QueryRow(ctx, `SELECT screened_at FROM disclosures WHERE id = ?`, d.ID).Scan(&at); err != nil || at == 0 {
			return nil, false
		}
		got, err := mx.Get(ctx, uif, d.ID)
		return got, err == nil
	}
	testenv.Eventually(t, 20*time.Second, "the disclosure screened on MX", func() bool { _, ok := screened(); return ok })
	if got, _ := screened(); len(got.Screening) != 0 {
		t.Fatalf("flags before any target: %+v", got.Screening)
	}
	us := extradition.Of(p.Nodes["US"])
	tg, err := us.Nominate(ctx, hsi, extradition.Target{Name: "Daniel Kessler Ruiz", DOB: "1984-05-19"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := us.Submit(ctx, hsi, tg.ID); err != nil {
		t.Fatal(err)
	}
	cav := us.DefaultCaveats()
	cav.ReleasableTo = append(cav.ReleasableTo, "UIF")
	if _, err := us.Release(ctx, doj, tg.ID, &caveats.Caveats{Classification: cav.Classification, Purpose: cav.Purpose, RetentionDays: cav.RetentionDays, ThirdPartyRule: true, ReleasableTo: cav.ReleasableTo}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the target flagged on the disclosure", func() bool {
		got, ok := screened()
		if !ok {
			return false
		}
		for _, f := range got.Screening {
			if f.List == "targets" && f.ListID == tg.ID {
				return true
			}
		}
		return false
	})
}
