package match

import (
	"context"
	"fmt"

	"puente/internal/area"
	"puente/internal/trustlog"
)

// DemoSubjects are the demo's synthetic records for blind matching. Some
// overlap across the border, so that lookups hit: MX-1 and US-1 share a
// passport and a CURP, MX-2 and US-2 a phone, MX-3 and US-3 only a name
// and birth year (a possible hit); the rest are one side's alone. The
// identifiers are invented but valid (check digits included).
var DemoSubjects = map[string][]Subject{
	"MX": {
		{Ref: "MX-UIF-0001", Source: "demo", Name: "RUIZ SALGADO, Mónica", DOB: "1982-11-22", CURP: "RUSM821122MSLZLN08", Passport: "G12345678", PassportCountry: "MEX"},
		{Ref: "MX-UIF-0002", Source: "demo", Name: "Héctor Benítez Olvera", DOB: "1975-03-09", Phone: "+52 667 555 0101"},
		{Ref: "MX-UIF-0003", Source: "demo", Name: "Julián Quintana Rivas", DOB: "1969"},
		{Ref: "MX-UIF-0004", Source: "demo", Name: "Comercializadora Pacífico Norte", CLABE: "002010077777777771"},
		{Ref: "MX-UIF-0005", Source: "demo", Name: "Raquel Ibarra Soto", DOB: "1990-07-14", Phone: "+52 55 5555 0199"},
	},
	"US": {
		{Ref: "US-FIN-0001", Source: "demo", Name: "Monica Ruiz", DOB: "1982-11-22", CURP: "RUSM821122MSLZLN08", Passport: "G12345678", PassportCountry: "MEX"},
		{Ref: "US-FIN-0002", Source: "demo", Name: "Hector Benitez", Phone: "+52 667 555 0101", SSN: "123-45-6789"},
		{Ref: "US-FIN-0003", Source: "demo", Name: "QUINTANA, Julian", DOB: "1969-05-02"},
		{Ref: "US-FIN-0004", Source: "demo", Name: "Desert Freight LLC", EIN: "12-3456789"},
		{Ref: "US-FIN-0005", Source: "demo", Name: "Kevin Walsh", DOB: "1984-02-29", Phone: "+1 (520) 555-0147"},
	},
}

// SeedDemo fills both nodes' subject indexes with the demo's subjects.
func (s *Service) SeedDemo(ctx context.Context, seed area.Seed) error {
	ctx = trustlog.WithActor(ctx, "system:demo")
	for _, svc := range []*Service{s, seed.Partner.(*Service)} {
		party := svc.link.Self()
		if _, err := svc.Import(ctx, DemoSubjects[party]); err != nil {
			return fmt.Errorf("seeding %s subjects: %w", party, err)
		}
	}
	return nil
}
