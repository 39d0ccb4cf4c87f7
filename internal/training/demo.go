package training

import (
	"context"
	"fmt"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
)

// demoPerson is a demo participant: name, rank, unit, agency, passport.
type demoPerson struct{ name, rank, unit, agency, passport string }

var mxPeople = []demoPerson{
	{"Mariana López Ríos", "Agente del Ministerio Público", "AIC Sonora", "FGR", "G31458201"},
	{"Héctor Salazar Mena", "Perito en balística", "Servicios Periciales", "FGR", "G31458202"},
	{"Rosa Elena Quintero", "Policía investigadora", "Unidad de Armas, Hermosillo", "SSP-SON", "G31458203"},
	{"Julio César Barrera", "Policía estatal", "Grupo Nogales", "SSP-SON", "G31458204"},
	{"Fernanda Ibarra Soto", "Agente", "UEIDCS", "FGR", "G31458205"},
	{"Tomás Aguilar Peña", "Subinspector", "Agrupamiento Sonora", "GN", "G31458206"},
	{"Diana Cárdenas Ruiz", "Analista", "Dirección de Análisis", "UIF", "G31458207"},
	{"Óscar Villanueva", "Teniente", "45.º Batallón de Infantería", "SEDENA", "G31458208"},
}

var usPeople = []demoPerson{
	{"Kevin O'Brien", "CBP Officer", "Port of Nogales", "CBP", "A40211501"},
	{"Maria Delgado", "Supervisory CBP Officer", "Port of San Luis", "CBP", "A40211502"},
	{"James Whitfield", "Border Patrol Agent", "Tucson Sector", "CBP", "A40211503"},
	{"Aisha Grant", "Special Agent", "HSI Phoenix", "HSI", "A40211504"},
	{"Luis Ortega", "Special Agent", "ATF Phoenix Field Division", "ATF", "A40211505"},
	{"Emily Carter", "Intelligence Analyst", "DEA El Paso", "DEA", "A40211506"},
}

func (p demoPerson) nomination(dob string) *Nomination {
	return &Nomination{Participant: Participant{Name: p.name, Rank: p.rank, Unit: p.unit, Agency: p.agency, DOB: dob, IDType: "passport", NationalID: p.passport}}
}

// seminarTitles are the monthly seminars' titles, by side, in the order
// of the subjects SeedDemo cycles through.
var seminarTitles = map[string][]string{
	"US": {"Crime scene forensics for firearm cases", "Counter-narcotics intelligence: fentanyl precursors", "Human rights in border enforcement",
		"Tracing illicit proceeds across the border", "Ports of entry: inspection and targeting"},
	"MX": {"Seminario de balística forense", "Seminario sobre precursores químicos", "Seminario de derechos humanos en la función policial",
		"Seminario de investigación patrimonial", "Seminario de operaciones en cruces fronterizos"},
}

// demoSide is one side's two training coordinators and its service.
type demoSide struct {
	svc            *Service
	author, second *auth.User
}

// SeedDemo plays a year of training through the real services and link,
// each step at its date (the services' clocks set, then put back): a US
// course on firearm tracing for FGR and Sonora's state police with
// vetting (one nominee denied, the rest certified); a Mexican course on
// border operations for CBP officers, open, with the US's nominations to
// answer; a DN-III-E exercise with US units, resources from both sides
// and after-action reports; an open US course on financial
// investigations; and a course a month, alternating sides, so the
// scorecard has trends.
func (s *Service) SeedDemo(ctx context.Context, seed area.Seed) error {
	us := seed.Partner.(*Service)
	defer s.SetClock(nil)
	defer us.SetClock(nil)
	get := func(f func(context.Context, string) (*auth.User, error), name string) *auth.User {
		u, err := f(ctx, name)
		if err != nil {
			panic(fmt.Sprintf("demo user %s: %v", name, err))
		}
		return u
	}
	mx := demoSide{svc: s, author: get(seed.User, "capacitacion"), second: get(seed.User, "academia")}
	usd := demoSide{svc: us, author: get(seed.PartnerUser, "training"), second: get(seed.PartnerUser, "inl")}
	now := time.Now().UTC().Truncate(time.Second)
	at := func(days int) time.Time { return now.AddDate(0, 0, days) }
	ymd := func(days int) string { return at(days).Format(time.DateOnly) }

	type plan struct {
		by, to  demoSide
		offer   Offer
		publish int // days from now
		people  []demoPerson
		deny    int // index denied at vetting (-1: none)
		held    bool
	}
	instructors := map[string][]Instructor{
		"US": {{Name: "Jordan Lee", Agency: "ATF"}, {Name: "Sandra Ruiz", Agency: "ATF"}},
		"MX": {{Name: "Cmte. Alberto Fuentes", Agency: "GN"}, {Name: "Lic. Carmen Soto", Agency: "SSPC"}},
	}
	var plans []plan
	// A course a month over the year, alternating sides.
	subjects := []string{"forensics", "counter_narcotics", "human_rights", "financial_investigations", "border_operations"}
	for m := 11; m >= 2; m-- {
		by, to, people, side := usd, mx, mxPeople, "US"
		if m%2 == 0 {
			by, to, people, side = mx, usd, usPeople, "MX"
		}
		start := -30*m - 3
		plans = append(plans, plan{by: by, to: to, publish: start - 40, people: people[m%3 : m%3+3], deny: -1, held: true,
			offer: Offer{Title: seminarTitles[side][m%len(subjects)] + fmt.Sprintf(" (%s)", at(start).Format("01/2006")), Type: TypeSeminar,
				Subject: subjects[m%len(subjects)], Language: "es_en", Place: map[string]string{"US": "El Paso, TX", "MX": "Hermosillo, Son."}[side],
				Start: ymd(start), End: ymd(start + 2), Seats: 10, Hours: 16, Instructors: instructors[side], Cost: Cost{Amount: 12000, Currency: "USD", PaidBy: side}}})
	}
	plans = append(plans,
		plan{by: usd, to: mx, publish: -120, people: mxPeople[:4], deny: 3, held: true,
			offer: Offer{Title: "Firearm tracing and eTrace for Mexican investigators", Type: TypeCourse, Subject: SubjectTracing, Language: "es_en",
				Place: "ATF National Tracing Center, Martinsburg, WV", Start: ymd(-60), End: ymd(-56), Seats: 20, Hours: 40, Instructors: instructors["US"],
				Prerequisites: "Investigators assigned to firearm cases", Cost: Cost{Amount: 85000, Currency: "USD", PaidBy: "US"}, Vetting: true,
				Audience: []string{"FGR", "SSP-SON"}}},
		plan{by: mx, to: usd, publish: -45, people: nil, deny: -1, held: true,
			offer: Offer{Title: "Ejercicio DN-III-E «Huracán en el Golfo de California»", Type: TypeExercise, Subject: "disaster_dn3e", Language: "es_en",
				Place: "Guaymas, Sonora", Start: ymd(-30), End: ymd(-28), Seats: 2, Hours: 48,
				Scenario: "A category 4 hurricane makes landfall near Guaymas; SEDENA activates Plan DN-III-E with US support from Arizona.",
				Cost:     Cost{Amount: 0, Currency: "MXN", PaidBy: "shared"}}},
		plan{by: mx, to: usd, publish: -10, people: usPeople[:3], deny: -1,
			offer: Offer{Title: "Operaciones fronterizas: cruces y puntos de revisión", Type: TypeCourse, Subject: "border_operations", Language: "es_en",
				Place: "Nogales, Sonora", Start: ymd(20), End: ymd(24), NominateBy: ymd(12), Seats: 2, Hours: 32, Instructors: instructors["MX"], Waitlist: true,
				Cost: Cost{Amount: 150000, Currency: "MXN", PaidBy: "MX"}, Audience: []string{"CBP"}}},
		plan{by: usd, to: mx, publish: -2, people: nil, deny: -1,
			offer: Offer{Title: "Financial investigations of arms trafficking networks", Type: TypeCourse, Subject: "financial_investigations", Language: "en",
				Place: "FinCEN, Vienna, VA", Start: ymd(75), End: ymd(79), Seats: 12, Hours: 36, Instructors: []Instructor{{Name: "Alex Morgan", Agency: "FinCEN"}},
				Cost: Cost{Amount: 60000, Currency: "USD", PaidBy: "US"}, Vetting: true, Audience: []string{"UIF", "FGR"}}},
	)
	// Draft and publish, each at its date.
	offers := make([]*Offer, len(plans))
	for i, p := range plans {
		p.by.svc.SetClock(func() time.Time { return at(p.publish) })
		o, err := p.by.svc.Draft(ctx, p.by.author, p.offer)
		if err != nil {
			return fmt.Errorf("drafting demo offer %q: %w", p.offer.Title, err)
		}
		if offers[i], err = p.by.svc.Publish(ctx, p.by.second, o.ID); err != nil {
			return fmt.Errorf("publishing demo offer %q: %w", p.offer.Title, err)
		}
	}
	arrived := func(what string, svc *Service, id string, cond func(*Offer) bool) error {
		return area.WaitFor(what, 30*time.Second, func() bool {
			o, err := load(ctx, svc.db.Read(), id)
			return err == nil && cond(o)
		})
	}
	for i, p := range plans {
		if err := arrived("the demo offer", p.to.svc, offers[i].ID, func(*Offer) bool { return true }); err != nil {
			return err
		}
	}
	// The partner nominates, a few days after publication.
	for i, p := range plans {
		p.to.svc.SetClock(func() time.Time { return at(p.publish + 3) })
		for j, person := range p.people {
			dob := fmt.Sprintf("19%d-0%d-1%d", 80+j*3, 1+j%9, j%10)
			if _, err := p.to.svc.Act(ctx, p.to.author, offers[i].ID, Step{Step: StepNominate, Nomination: person.nomination(dob)}); err != nil {
				return fmt.Errorf("nominating %s to %q: %w", person.name, p.offer.Title, err)
			}
		}
		if p.offer.Type == TypeExercise {
			p.to.svc.SetClock(func() time.Time { return at(p.publish + 5) })
			if _, err := p.to.svc.Act(ctx, p.to.author, offers[i].ID, Step{Step: StepCommit, Commitment: &Commitment{
				Units:     []Unit{{Name: "Arizona National Guard, 1-285th Aviation", Agency: "STATE", Personnel: 60}, {Name: "CBP Air and Marine Operations, Tucson", Agency: "CBP", Personnel: 18}},
				Resources: map[string]int{"personnel": 78, "aircraft": 4, "vehicles": 12, "water_plants": 2}}}); err != nil {
				return fmt.Errorf("committing to the demo exercise: %w", err)
			}
		}
	}
	for i, p := range plans {
		n := len(p.people)
		if err := arrived("the demo nominations", p.by.svc, offers[i].ID, func(o *Offer) bool {
			return len(o.Nominations) == n && (p.offer.Type != TypeExercise || o.Commitments[p.to.svc.self] != nil)
		}); err != nil {
			return err
		}
	}
	// The offering side vets, confirms and, for courses held, records
	// attendance and results.
	for i, p := range plans {
		o, err := load(ctx, p.by.svc.db.Read(), offers[i].ID)
		if err != nil {
			return err
		}
		act := func(days int, st Step) error {
			p.by.svc.SetClock(func() time.Time { return at(days) })
			_, err := p.by.svc.Act(ctx, p.by.author, o.ID, st)
			if err != nil {
				return fmt.Errorf("demo %s on %q: %w", st.Step, p.offer.Title, err)
			}
			return nil
		}
		if p.offer.Type == TypeExercise {
			if err := act(p.publish+6, Step{Step: StepCommit, Commitment: &Commitment{
				Units:     []Unit{{Name: "4.ª Zona Militar, Hermosillo", Agency: "SEDENA", Personnel: 450}, {Name: "Cuarta Región Naval, Guaymas", Agency: "SEMAR", Personnel: 220}, {Name: "GN Sonora", Agency: "GN", Personnel: 300}},
				Resources: map[string]int{"personnel": 970, "vehicles": 85, "aircraft": 6, "vessels": 4, "field_kitchens": 8, "water_plants": 3}}}); err != nil {
				return err
			}
			if err := act(-27, Step{Step: StepReport, Report: &Report{Summary: "Shelters for 4,000 people opened within 18 hours; US rotary-wing support cleared airspace through the joint coordination cell.",
				Lessons: []string{"Agree radio frequencies and call signs before the exercise, not on day one.", "Pre-clear the US aircraft's overflight permits for the whole exercise window.", "Water plants should be staged in Guaymas, not Hermosillo."}}}); err != nil {
				return err
			}
			if err := act(-26, Step{Step: StepComplete}); err != nil {
				return err
			}
			continue
		}
		answer := p.publish + 15
		if !p.held {
			answer = p.publish + 5
		}
		for j, n := range o.Nominations {
			if o.Vetting {
				v := &Vetting{Status: VetApproved, Date: ymd(answer), Unit: n.Participant.Unit}
				if j == p.deny {
					v.Status = VetDenied
				}
				if err := act(answer, Step{Step: StepVet, NominationID: n.ID, Vetting: v}); err != nil {
					return err
				}
			}
			if j == p.deny || (!p.held && j > 0) {
				continue // denied, or still to answer
			}
			if err := act(answer, Step{Step: StepConfirm, NominationID: n.ID}); err != nil {
				return err
			}
		}
		if !p.held {
			continue
		}
		o, err = load(ctx, p.by.svc.db.Read(), o.ID)
		if err != nil {
			return err
		}
		start, _ := time.Parse(time.DateOnly, o.Start)
		days := int(start.Sub(now.Truncate(24*time.Hour)).Hours() / 24)
		for _, n := range o.Nominations {
			if n.Status != NomConfirmed {
				continue
			}
			for d, day := range o.Days() {
				if err := act(days+d, Step{Step: StepAttend, NominationID: n.ID, Day: &Day{Date: day, Hours: o.Hours / len(o.Days())}}); err != nil {
					return err
				}
			}
			if err := act(days+len(o.Days())-1, Step{Step: StepResult, NominationID: n.ID, Result: ResultPassed}); err != nil {
				return err
			}
		}
		if err := act(days+len(o.Days()), Step{Step: StepComplete}); err != nil {
			return err
		}
	}
	// The partner's exercise report, after the offering side's.
	for i, p := range plans {
		if p.offer.Type != TypeExercise {
			continue
		}
		if err := arrived("the exercise report", p.to.svc, offers[i].ID, func(o *Offer) bool { return o.Status == StatusCompleted }); err != nil {
			return err
		}
		p.to.svc.SetClock(func() time.Time { return at(-25) })
		if _, err := p.to.svc.Act(ctx, p.to.author, offers[i].ID, Step{Step: StepReport, Report: &Report{Summary: "US aviation flew 22 sorties; medical evacuation handoffs at the border took 40 minutes on average.",
			Lessons: []string{"Share the evacuation hospitals' capacity feed with the US cell.", "Bilingual liaison officers at each shelter."}}}); err != nil {
			return fmt.Errorf("the US exercise report: %w", err)
		}
	}
	return nil
}
