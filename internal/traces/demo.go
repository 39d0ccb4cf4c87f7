package traces

import (
	"context"
	"fmt"
	"time"

	"puente/internal/area"
)

// SeedDemo plays traces in every status through the real services and
// link: Sonora's state police prepare traces of recovered guns, FGR
// sponsors them, and ATF works them on the US node: one completed with a
// short time-to-crime, one completed, one in progress at the dealer, one
// accepted, one returned for a missing importer, one not completed, one
// submitted and one still waiting for FGR.
func (s *Service) SeedDemo(ctx context.Context, seed area.Seed) error {
	mx, us := s, seed.Partner.(*Service)
	if !us.Traces(us.Self()) {
		return nil
	}
	policia, err := seed.User(ctx, "policia")
	if err != nil {
		return err
	}
	fgr, err := seed.User(ctx, "juridico")
	if err != nil {
		return err
	}
	atf, err := seed.PartnerUser(ctx, "atf")
	if err != nil {
		return err
	}
	day := func(d int) string { return time.Now().UTC().AddDate(0, 0, -d).Format("2006-01-02") }
	guns := []struct {
		serial, make, model, cal, typ, country, importer string
		end                                              string // the step the US takes it to
	}{
		{"LW318842", "Colt", "M4 Carbine", "5.56x45", "rifle", "US", "", StepComplete},
		{"BBL0927", "Barrett", "M82A1", ".50 BMG", "rifle", "US", "", StepComplete},
		{"SRJ55012", "Ruger", "SR9", "9mm", "pistol", "US", "", "dealer"},
		{"DPM44120", "Smith & Wesson", "M&P15", ".223", "rifle", "US", "", StepAccept},
		{"BHJ802", "Glock", "19", "9mm", "pistol", "AT", "", StepReturn},
		{"RB771201", "Romarm", "WASR-10", "7.62x39", "rifle", "RO", "Century Arms", StepNotComplete},
		{"FN00A9912", "FN Herstal", "Five-seveN", "5.7x28", "pistol", "BE", "FNH USA", ""},
		{"TZ39018", "Taurus", "PT92", "9mm", "pistol", "BR", "Taurus USA", "draft"},
	}
	var sent []*Trace
	for i, g := range guns {
		t, _, err := mx.Prepare(ctx, policia, Trace{Priority: Routine, CrimeCode: "firearms_trafficking", Officer: "Agente M. Villa", Case: fmt.Sprintf("SSP-SON/2026/%03d", 40+i),
			Firearm:   Firearm{Serial: g.serial, Manufacturer: g.make, Model: g.model, Calibre: g.cal, Type: g.typ, Country: g.country, Importer: g.importer},
			Possessor: Possessor{Name: "Detenido " + fmt.Sprint(i+1)}, Recovery: Recovery{Date: day(20 + i), Place: "Caborca, Sonora"}})
		if err != nil {
			return fmt.Errorf("preparing demo trace %d: %w", i, err)
		}
		if g.end == "draft" {
			continue
		}
		if t, err = mx.Submit(ctx, fgr, t.ID); err != nil {
			return fmt.Errorf("sponsoring demo trace %d: %w", i, err)
		}
		sent = append(sent, t)
	}
	for i, t := range sent {
		id := t.ID
		if err := area.WaitFor("a trace to reach the US", 30*time.Second, func() bool { _, err := us.Get(ctx, atf, id); return err == nil }); err != nil {
			return err
		}
		steps := map[string][]Update{
			StepComplete: {{Step: StepAccept}, {Step: StepProgress, Stage: "manufacturer"}, {Step: StepProgress, Stage: "dealer"}, {Step: StepComplete}},
			"dealer":     {{Step: StepAccept}, {Step: StepProgress, Stage: "dealer"}},
			StepAccept:   {{Step: StepAccept}},
			StepReturn:   {{Step: StepReturn, Reason: "Foreign-made pistol: the importer's marking is needed to trace it."}},
			StepNotComplete: {{Step: StepAccept}, {Step: StepProgress, Stage: "importer"},
				{Step: StepNotComplete, Reason: "foreign_no_import_record"}},
		}[guns[i].end]
		for _, up := range steps {
			if up.Step == StepComplete {
				purchase := day(400)
				if i == 1 {
					purchase = day(2400)
				}
				up.Result = &Result{Source: guns[i].make, Dealer: &Dealer{Licence: "9-86-019-01-7K-0" + fmt.Sprint(4410+i), Name: []string{"Desert Sportsman", "Border Arms & Ammo"}[i%2],
					City: []string{"Tucson", "Phoenix"}[i%2], State: "AZ"}, Purchaser: Possessor{Name: "Straw Purchaser " + fmt.Sprint(i+1), Address: "Tucson, AZ"}, Purchase: purchase}
			}
			if _, err := us.Step(ctx, atf, id, up); err != nil {
				return fmt.Errorf("working demo trace %d (%s): %w", i, up.Step, err)
			}
		}
	}
	last := sent[len(sent)-1].ID
	return area.WaitFor("the trace results to reach Mexico", 30*time.Second, func() bool {
		t, err := mx.Get(ctx, fgr, sent[0].ID)
		l, err2 := mx.Get(ctx, fgr, last)
		return err == nil && err2 == nil && t.Status == StatusCompleted && l.Status == StatusSubmitted
	})
}
