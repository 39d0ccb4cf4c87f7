package extradition

import (
	"context"
	"fmt"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
)

// demoTarget is one synthetic nomination of the demo and how far it goes.
type demoTarget struct {
	t      Target
	until  string // StageSubmitted, StageReleased
	status string // the status recorded after the release
	ack    bool   // the partner acknowledges it
	add    string // what the partner adds
}

// demoPlay is one side's demo nominations.
type demoPlay struct {
	side             *Service
	author, reviewer string
	partner          string
	list             []demoTarget
}

// SeedDemo plays synthetic priority targets on both sides through the
// real services and link: Mexico's SSPC nominates and FGR releases,
// HSI nominates on the US side and DOJ releases; some are acknowledged,
// located or detained, one waits for its reviewer, one for the partner's
// acknowledgement. The names are invented.
func (s *Service) SeedDemo(ctx context.Context, seed area.Seed) error {
	mx, us := s, seed.Partner.(*Service)
	users := map[string]*auth.User{}
	for side, names := range map[string][]string{"MX": {"coordinador", "juridico"}, "US": {"hsi", "legal"}} {
		get := seed.User
		if side == "US" {
			get = seed.PartnerUser
		}
		for _, n := range names {
			u, err := get(ctx, n)
			if err != nil {
				return err
			}
			users[n] = u
		}
	}
	charge := func(offence, court, warrant string, daysAgo int) []Charge {
		return []Charge{{Offence: offence, Court: court, Warrant: warrant, Date: time.Now().UTC().AddDate(0, 0, -daysAgo).Format(time.DateOnly)}}
	}
	plays := []demoPlay{
		{mx, "coordinador", "juridico", "legal", []demoTarget{
			{t: Target{Name: "Rigoberto Salcido Ávila", Aliases: []string{"El Ingeniero"}, DOB: "1979-03-14", Nationalities: []string{"MX"}, Passport: "G19384756", PassportCountry: "MEX",
				Organisation: "Cártel del Pacífico (ficticio)", Charges: charge("Delincuencia organizada; tráfico de armas", "Juzgado Segundo de Distrito, Hermosillo", "CP 118/2026", 200),
				Summary: "Coordina el trasiego de armas de Arizona a Sonora por Sásabe y Nogales.",
				Notices: []Notice{{Kind: NoticeRed, Reference: "2026/10482", Forename: "RIGOBERTO", Name: "SALCIDO AVILA", DOB: "1979-03-14", Nationalities: []string{"MX"}, Issuing: "MX",
					Warrants: []NoticeWarrant{{Charge: "Delincuencia organizada; tráfico de armas (ficticio)", Country: "MX"}}}}}, until: StageReleased, status: AtLarge, ack: true,
				add: "HSI Phoenix: seen at a gun show in Tucson on two weekends in October."},
			{t: Target{Name: "Lucero Ibarra Quintero", DOB: "1988-07-02", Nationalities: []string{"MX", "US"}, SSN: "524718390",
				Organisation: "Red Ibarra (ficticia)", Charges: charge("Operaciones con recursos de procedencia ilícita", "Juzgado Quinto de Distrito, Culiacán", "CP 42/2026", 120)},
				until: StageReleased, status: Detained},
			{t: Target{Name: "Ernesto Villalobos Paz", Aliases: []string{"El Contador"}, DOB: "1971-11-30", Nationalities: []string{"MX"},
				Organisation: "Cártel del Golfo (ficticio)", Charges: charge("Delincuencia organizada", "Juzgado Primero de Distrito, Matamoros", "CP 77/2026", 30)},
				until: StageSubmitted},
		}},
		{us, "hsi", "legal", "juridico", []demoTarget{
			{t: Target{Name: "Daniel Kessler Ruiz", Aliases: []string{"Danny K"}, DOB: "1984-05-19", Nationalities: []string{"US", "MX"}, Passport: "A51827364", PassportCountry: "USA",
				Organisation: "Kessler Logistics network (fictitious)", Charges: charge("Conspiracy to distribute fentanyl, 21 U.S.C. 846", "U.S. District Court, S.D. Cal.", "26-CR-0931", 150)},
				until: StageReleased, status: Located, ack: true, add: "FGR Baja California: rents a house in Tijuana, colonia Cacho, since September."},
			{t: Target{Name: "Marisol Ochoa Treviño", DOB: "1990-01-08", Nationalities: []string{"MX"}, Passport: "G50193847", PassportCountry: "MEX",
				Organisation: "Ochoa cell (fictitious)", Charges: charge("Firearms trafficking, 18 U.S.C. 933", "U.S. District Court, D. Ariz.", "26-CR-1207", 60)},
				until: StageReleased, status: AtLarge},
		}},
	}
	if err := seedTargets(ctx, mx, us, users, plays); err != nil {
		return err
	}
	return seedCases(ctx, mx, us, users["juridico"], users["legal"])
}

func seedTargets(ctx context.Context, mx, us *Service, users map[string]*auth.User, plays []demoPlay) error {
	for _, p := range plays {
		for i, d := range p.list {
			t, err := p.side.Nominate(ctx, users[p.author], d.t)
			if err != nil {
				return fmt.Errorf("nominating demo target %s %d: %w", p.side.Self(), i, err)
			}
			if _, err := p.side.Submit(ctx, users[p.author], t.ID); err != nil {
				return fmt.Errorf("submitting demo target: %w", err)
			}
			if d.until == StageSubmitted {
				continue
			}
			if _, err := p.side.Release(ctx, users[p.reviewer], t.ID, nil); err != nil {
				return fmt.Errorf("releasing demo target: %w", err)
			}
			if d.status != AtLarge {
				if _, err := p.side.SetStatus(ctx, users[p.author], t.ID, d.status); err != nil {
					return fmt.Errorf("demo target status: %w", err)
				}
			}
			other := mx
			if p.side == mx {
				other = us
			}
			id, want := t.ID, d.status
			if err := area.WaitFor("a target to reach the partner", 30*time.Second, func() bool {
				got, err := other.Get(ctx, users[p.partner], id)
				return err == nil && got.Status == want
			}); err != nil {
				return err
			}
			if d.ack {
				if _, err := other.Acknowledge(ctx, users[p.partner], id); err != nil {
					return fmt.Errorf("acknowledging demo target: %w", err)
				}
			}
			if d.add != "" {
				if _, err := other.Add(ctx, users[p.partner], id, d.add); err != nil {
					return fmt.Errorf("adding to demo target: %w", err)
				}
			}
		}
	}
	return nil
}

// seedCases plays cases in every stage in both directions: a provisional
// arrest requested, one whose formal request is due in five days, one
// whose formal request is overdue, cases at the judge, after the decision
// with an amparo, surrendered, refused, temporarily surrendered, released
// after the term lapsed, at the US hearing and certification, and one
// grouped transfer of three people.
func seedCases(ctx context.Context, mx, us *Service, juridico, legal *auth.User) error {
	today := mx.Now()
	ago := func(d int) string { return today.AddDate(0, 0, -d).Format(time.DateOnly) }
	side := map[string]*Service{"MX": mx, "US": us}
	who := map[string]*auth.User{"MX": juridico, "US": legal}
	type step struct {
		stage   string
		daysAgo int
		outcome string
		place   string
	}
	ids := map[string]string{}
	play := func(opener string, c Case, steps []step) error {
		open, err := side[opener].OpenCase(ctx, who[opener], c)
		if err != nil {
			return fmt.Errorf("opening demo case %s: %w", c.Person.Name, err)
		}
		ids[c.Person.Name] = open.ID
		for i, st := range steps {
			owner := open.Owner(st.stage)
			id, n := open.ID, i
			if err := area.WaitFor("a demo case to reach the partner", 30*time.Second, func() bool {
				got, err := loadCase(ctx, side[owner].db.Read(), id)
				return err == nil && len(got.Stages) == n
			}); err != nil {
				return err
			}
			if _, err := side[owner].Record(ctx, who[owner], id, Stage{Stage: st.stage, Date: ago(st.daysAgo), Outcome: st.outcome, Place: st.place}); err != nil {
				return fmt.Errorf("demo case %s, %s: %w", c.Person.Name, st.stage, err)
			}
		}
		return nil
	}
	person := func(name, dob string) Person { return Person{Name: name, DOB: dob, Nationality: "MX"} }
	cases := []struct {
		opener string
		c      Case
		steps  []step
	}{
		{"US", Case{Kind: KindExtradition, Requested: "MX", Person: person("Aurelio Bastidas Reyes", "1975-02-11"), Charges: "Conspiracy to import methamphetamine (D. Ariz.)"},
			[]step{{ProvisionalRequest, 57, "", ""}, {Arrested, 55, "", "Hermosillo, Sonora"}}},
		{"MX", Case{Kind: KindExtradition, Requested: "US", Person: person("Jacinto Morales Vega", "1982-09-30"), Charges: "Delincuencia organizada; tráfico de armas"},
			[]step{{ProvisionalRequest, 72, "", ""}, {Arrested, 70, "", "Laredo, Texas"}}},
		{"US", Case{Kind: KindExtradition, Requested: "MX", Person: person("Nicolás Urquidi Peña", "1969-06-21"), Charges: "Continuing criminal enterprise, 21 U.S.C. 848"},
			[]step{{ProvisionalRequest, 90, "", ""}, {Arrested, 88, "", "Culiacán, Sinaloa"}, {FormalRequest, 40, "", ""}, {ProceedingsOpened, 30, "", ""}}},
		{"US", Case{Kind: KindExtradition, Requested: "MX", Person: person("Samuel Quiroz Lira", "1980-12-02"), Charges: "Money laundering conspiracy, 18 U.S.C. 1956(h)"},
			[]step{{Arrested, 200, "", "Tijuana, Baja California"}, {FormalRequest, 160, "", ""}, {ProceedingsOpened, 150, "", ""}, {JudgeOpinion, 110, "", ""},
				{MinistryDecision, 80, Granted, ""}, {AmparoFiled, 70, "", ""}}},
		{"US", Case{Kind: KindExtradition, Requested: "MX", Person: person("Ramiro Elenes Cota", "1977-04-17"), Charges: "Fentanyl distribution conspiracy (S.D.N.Y.)"},
			[]step{{Arrested, 300, "", "Mazatlán, Sinaloa"}, {FormalRequest, 250, "", ""}, {ProceedingsOpened, 240, "", ""}, {JudgeOpinion, 200, "", ""},
				{MinistryDecision, 180, Granted, ""}, {SurrenderOrdered, 150, "", ""}, {Surrendered, 140, "", "AICM, Ciudad de México"}}},
		{"MX", Case{Kind: KindExtradition, Requested: "US", Person: person("Héctor Anaya Solís", "1986-08-08"), Charges: "Homicidio; delincuencia organizada"},
			[]step{{Arrested, 120, "", "El Paso, Texas"}, {FormalRequest, 80, "", ""}, {ProceedingsOpened, 70, "", ""}, {Hearing, 40, "", ""}, {Certification, 20, Granted, ""}}},
		{"MX", Case{Kind: KindExtradition, Requested: "US", Person: person("Ismael Robles Gaxiola", "1979-12-01"), Charges: "Secuestro"},
			[]step{{ProvisionalRequest, 3, "", ""}}},
		{"US", Case{Kind: KindExtradition, Requested: "MX", Person: person("Fausto Lugo Medina", "1965-03-30"), Charges: "Money laundering (S.D. Tex.)"},
			[]step{{Arrested, 260, "", "Monterrey, Nuevo León"}, {FormalRequest, 220, "", ""}, {ProceedingsOpened, 210, "", ""}, {JudgeOpinion, 170, "", ""},
				{MinistryDecision, 150, Denied, ""}, {Refused, 149, "", ""}}},
		{"US", Case{Kind: KindExtradition, Requested: "MX", Person: person("Teodoro Vega Ruelas", "1971-10-10"), Charges: "Conspiracy to import cocaine (S.D. Fla.)"},
			[]step{{Arrested, 400, "", "Altiplano, Estado de México"}, {FormalRequest, 350, "", ""}, {ProceedingsOpened, 340, "", ""}, {JudgeOpinion, 300, "", ""},
				{MinistryDecision, 280, Granted, ""}, {TemporarySurrender, 40, "", "AICM, Ciudad de México"}}},
		{"MX", Case{Kind: KindExtradition, Requested: "US", Person: person("Abel Castañeda Ruiz", "1990-04-04"), Charges: "Delincuencia organizada"},
			[]step{{ProvisionalRequest, 140, "", ""}, {Arrested, 135, "", "Nogales, Arizona"}, {Released, 70, "", ""}}},
		{"MX", Case{Kind: KindExtradition, Requested: "US", Person: person("Leonel Paredes Ochoa", "1983-07-15"), Charges: "Tráfico de armas"},
			[]step{{Arrested, 90, "", "Tucson, Arizona"}, {FormalRequest, 60, "", ""}, {ProceedingsOpened, 55, "", ""}, {Hearing, 30, "", ""}}},
	}
	for _, c := range cases {
		if err := play(c.opener, c.c, c.steps); err != nil {
			return err
		}
	}
	for i, name := range []string{"Gilberto Ayala Torres", "Feliciano Rocha Beltrán", "Octavio Luna Salazar"} {
		c := Case{Kind: KindTransfer, Requested: "MX", Person: person(name, ""), Group: "Traslado de noviembre de 2026 (demo)", Charges: "Transfer under the National Security Law (demo)",
			Destination: []string{"U.S. District Court, S.D.N.Y.", "U.S. District Court, W.D. Tex.", "U.S. District Court, D.D.C."}[i]}
		if err := play("MX", c, []step{{TransferAgreed, 12, "", ""}, {Transferred, 10, "", "Base Aérea Militar No. 1, Santa Lucía"}}); err != nil {
			return err
		}
	}
	// The US's assurances in its requests: open in the case under amparo,
	// honoured in the one surrendered.
	for name, honoured := range map[string]string{"Samuel Quiroz Lira": "", "Ramiro Elenes Cota": "Sentenced to 25 years; the death penalty was never sought."} {
		a, err := us.GiveAssurance(ctx, legal, ids[name], Assurance{Kind: "no_death_penalty", Text: "The United States will not seek or impose the death penalty.", Date: ago(160)})
		if err != nil {
			return fmt.Errorf("demo assurance: %w", err)
		}
		if honoured != "" {
			if _, err := us.GiveAssurance(ctx, legal, ids[name], Assurance{ID: a.ID, Status: AssuranceHonoured, Outcome: honoured}); err != nil {
				return fmt.Errorf("demo assurance: %w", err)
			}
		}
	}
	_, err := mx.Sweep(ctx)
	if err == nil {
		_, err = us.Sweep(ctx)
	}
	return err
}
