package operations

import (
	"context"
	"fmt"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
)

// SeedDemo plays the demo's border through the real services and link:
// a joint operation Sonora–Tucson under way, with a unit of each side
// reporting; a mirror operation El Paso–Ciudad Juárez proposed by Mexico
// and waiting for the US's answer; and a unilateral Guardia Nacional
// operation near Nogales that conflicts blind with a unilateral HSI one,
// so both sides see the conflict and neither sees the other operation.
func (s *Service) SeedDemo(ctx context.Context, seed area.Seed) error {
	mx, us := s, seed.Partner.(*Service)
	users := map[string]*auth.User{}
	for _, n := range []string{"guardia", "mando", "unidad"} {
		u, err := seed.User(ctx, n)
		if err != nil {
			return err
		}
		users[n] = u
	}
	for _, n := range []string{"coordinator", "watch", "unit", "hsi"} {
		u, err := seed.PartnerUser(ctx, n)
		if err != nil {
			return err
		}
		users[n] = u
	}
	now := time.Now().UTC().Truncate(time.Minute)
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }

	// 1. Sonora–Tucson: drafted by CBP, released by a second supervisor,
	// accepted by the Guardia Nacional, under way.
	joint, err := us.Create(ctx, users["coordinator"], Draft{Kind: Mirror, Title: "Sásabe–Altar corridor (demo)", Objective: "arms_trafficking", Pair: "tca-son",
		Start: at(-30 * time.Minute), End: at(6 * time.Hour), Contact: "Tucson Sector command post +1 520 555 0100",
		Units:       []Unit{{Callsign: "BORTAC-1", Agency: "CBP", Shared: true}, {Callsign: "AMO-AIR-2", Agency: "CBP", Shared: false}},
		Areas:       []Area{{Lat: 31.5780, Lon: -111.4400, RadiusM: 4000}},
		Counterpart: []string{"GN"}})
	if err != nil {
		return fmt.Errorf("drafting the joint operation: %w", err)
	}
	if _, err := us.Release(ctx, users["watch"], joint.ID); err != nil {
		return fmt.Errorf("releasing the joint operation: %w", err)
	}
	if err := area.WaitFor("the joint operation to reach Mexico", 15*time.Second, func() bool { _, err := mx.Get(ctx, users["guardia"], joint.ID); return err == nil }); err != nil {
		return err
	}
	if _, err := mx.Take(ctx, users["guardia"], joint.ID, StepAccepted, Answer{Contact: "Guardia Nacional, Sonora C4 +52 662 555 0199",
		Units: []Unit{{Callsign: "GN-SON-7", Agency: "GN", Shared: true}}, Areas: []Area{{Lat: 31.4500, Lon: -111.4600, RadiusM: 3000}}}); err != nil {
		return fmt.Errorf("accepting the joint operation: %w", err)
	}
	if err := area.WaitFor("the acceptance to reach the US", 15*time.Second, func() bool {
		op, err := us.Get(ctx, users["coordinator"], joint.ID)
		return err == nil && op.Status == StatusJoint
	}); err != nil {
		return err
	}
	if _, err := us.Take(ctx, users["coordinator"], joint.ID, StepStarted, Answer{}); err != nil {
		return fmt.Errorf("starting the joint operation: %w", err)
	}
	if err := area.WaitFor("the start to reach Mexico", 15*time.Second, func() bool {
		op, err := mx.Get(ctx, users["guardia"], joint.ID)
		return err == nil && op.Status == StatusActive
	}); err != nil {
		return err
	}
	for _, r := range []struct {
		svc  *Service
		user string
		in   NewReport
	}{
		{us, "unit", NewReport{Unit: "BORTAC-1", Lat: 31.5660, Lon: -111.4510, Status: "in_position", Note: "Holding north of Sásabe port"}},
		{us, "coordinator", NewReport{Unit: "AMO-AIR-2", Lat: 31.6100, Lon: -111.4000, Status: "moving", Note: "Orbiting"}},
		{mx, "unidad", NewReport{Unit: "GN-SON-7", Lat: 31.4480, Lon: -111.4700, Status: "moving", Note: "Rumbo a El Sásabe por la carretera 43"}},
	} {
		if _, err := r.svc.Report(ctx, users[r.user], joint.ID, r.in); err != nil {
			return fmt.Errorf("reporting %s: %w", r.in.Unit, err)
		}
	}

	// 2. El Paso–Ciudad Juárez: proposed by Mexico, waiting for the US.
	ept, err := mx.Create(ctx, users["guardia"], Draft{Kind: Mirror, Title: "Puente Zaragoza–Ysleta (demo)", Objective: "drug_trafficking", Pair: "ept-chih",
		Start: at(26 * time.Hour), End: at(32 * time.Hour), Contact: "GN Chihuahua, C5 Juárez +52 656 555 0123",
		Units:       []Unit{{Callsign: "GN-CHIH-3", Agency: "GN", Shared: true}},
		Areas:       []Area{{Lat: 31.6700, Lon: -106.3400, RadiusM: 2500}},
		Counterpart: []string{"CBP", "HSI"}})
	if err != nil {
		return fmt.Errorf("drafting the El Paso operation: %w", err)
	}
	if _, err := mx.Release(ctx, users["mando"], ept.ID); err != nil {
		return fmt.Errorf("releasing the El Paso operation: %w", err)
	}

	// 3. Nogales: two unilateral operations, one per side, 2 km apart in
	// overlapping windows. Each is checked blind; the later one (or the
	// re-check when the other's filter arrives) finds the conflict.
	if _, err := mx.Create(ctx, users["guardia"], Draft{Kind: Unilateral, Title: "Vigilancia colonia Buenos Aires (demo)", Objective: "drug_trafficking", Pair: "tca-son",
		Start: at(3 * time.Hour), End: at(9 * time.Hour), Contact: "GN Nogales +52 631 555 0142",
		Units: []Unit{{Callsign: "GN-NOG-1", Agency: "GN"}}, Areas: []Area{{Lat: 31.3190, Lon: -110.9480, RadiusM: 600}},
		Targets: []Target{{Kind: "plate", Value: "VYT-4471", Country: "MX"}}}); err != nil {
		return fmt.Errorf("registering the Guardia Nacional operation: %w", err)
	}
	if _, err := us.Create(ctx, users["hsi"], Draft{Kind: Unilateral, Title: "Controlled delivery, Mariposa Road (demo)", Objective: "drug_trafficking", Pair: "tca-son",
		Start: at(5 * time.Hour), End: at(11 * time.Hour), Contact: "HSI Nogales duty agent +1 520 555 0177",
		Units: []Unit{{Callsign: "HSI-NOG-4", Agency: "HSI"}}, Areas: []Area{{Lat: 31.3360, Lon: -110.9590, RadiusM: 800}},
		Targets: []Target{{Kind: "plate", Value: "VYT4471", Country: "MX"}}}); err != nil {
		return fmt.Errorf("registering the HSI operation: %w", err)
	}
	return nil
}
