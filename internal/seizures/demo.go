package seizures

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/border"
	"puente/internal/operations"
)

// SeedDemo records a year of synthetic seizures on both sides across the
// sector pairs, releases most of them through the link (four eyes: a
// coordinator records, a supervisor releases), and links a few to the
// demo's joint operation near Sásabe, with a vehicle both sides stopped,
// so the badges, the charts and the map have something to show.
func (s *Service) SeedDemo(ctx context.Context, seed area.Seed) error {
	mx, us := s, seed.Partner.(*Service)
	get := func(f func(context.Context, string) (*auth.User, error), name string) (*auth.User, error) {
		return f(ctx, name)
	}
	guardia, err := get(seed.User, "guardia")
	if err != nil {
		return err
	}
	mando, err := get(seed.User, "mando")
	if err != nil {
		return err
	}
	coord, err := get(seed.PartnerUser, "coordinator")
	if err != nil {
		return err
	}
	watch, err := get(seed.PartnerUser, "watch")
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Minute)
	r := rand.New(rand.NewPCG(2025, 9))
	var mxIDs, usIDs []string
	for i := range 110 {
		for _, side := range []struct {
			svc *Service
			u   *auth.User
			ids *[]string
		}{{mx, guardia, &mxIDs}, {us, coord, &usIDs}} {
			sz := synthetic(r, side.svc.Self(), now.Add(-time.Duration(i*79+r.IntN(60))*time.Hour))
			got, err := side.svc.Record(ctx, side.u, sz)
			if err != nil {
				return fmt.Errorf("seeding seizure %d of %s: %w", i, side.svc.Self(), err)
			}
			if r.IntN(10) < 8 {
				*side.ids = append(*side.ids, got.ID)
			}
		}
	}
	// The Sásabe corridor: CBP stops a pickup north of the line, the
	// Guardia Nacional finds the same plate south of it the next day;
	// both belong to the joint operation where the demo has one.
	var opID string
	if s.cfg.Operations != nil {
		if ops, err := us.cfg.Operations.List(ctx, coord, operations.ListFilter{}); err == nil {
			for _, op := range ops {
				if op.Kind == operations.Mirror && op.Status == operations.StatusActive {
					opID = op.ID
				}
			}
		}
	}
	pickup := Seizure{At: now.Add(-26 * time.Hour), Lat: 31.5700, Lon: -111.4450, Pair: "tca-son", Place: "Pima County, AZ (Sásabe)", Unit: "BORTAC-1",
		OperationID: opID, Conveyance: "vehicle", Concealment: "hidden_compartment", Plate: "SON-48-213", Detained: 2,
		Items: []Item{{Kind: ItemFirearm, Type: "rifle", Make: "Century Arms", Model: "VSKA", Calibre: "7.62x39", Serial: "SV7-104233", Country: "US"},
			{Kind: ItemAmmunition, Calibre: "7.62x39", Count: 1200},
			{Kind: ItemCash, Currency: USD, Amount: 38_500, MXNPerUSD: 18.31, RateSource: "Banxico FIX"}}}
	p1, err := us.Record(ctx, coord, pickup)
	if err != nil {
		return fmt.Errorf("seeding the Sásabe seizure: %w", err)
	}
	usIDs = append(usIDs, p1.ID)
	if opID != "" {
		if _, err := mx.cfg.Operations.Get(ctx, guardia, opID); err != nil {
			opID = ""
		}
	}
	twin := Seizure{At: now.Add(-3 * time.Hour), Lat: 31.4520, Lon: -111.4650, Pair: "tca-son", Place: "Sáric, Sonora (El Sásabe)", Unit: "GN-SON-7",
		OperationID: opID, Conveyance: "vehicle", Concealment: "fuel_tank", Plate: "SON-48-213", Detained: 1,
		Items: []Item{{Kind: ItemDrug, Drug: FentanylPills, Quantity: 24_000, Unit: UnitUnits, Test: "field"},
			{Kind: ItemDrug, Drug: Meth, Quantity: 85, Unit: UnitLb, Test: "field"}}}
	p2, err := mx.Record(ctx, guardia, twin)
	if err != nil {
		return fmt.Errorf("seeding the El Sásabe seizure: %w", err)
	}
	mxIDs = append(mxIDs, p2.ID)
	if _, err := mx.Release(ctx, mando, mxIDs, nil, nil); err != nil {
		return fmt.Errorf("releasing Mexico's seizures: %w", err)
	}
	if _, err := us.Release(ctx, watch, usIDs, nil, nil); err != nil {
		return fmt.Errorf("releasing the US's seizures: %w", err)
	}
	// One waits for a supervisor, for the home page's work list.
	waiting, err := mx.Record(ctx, guardia, synthetic(r, "MX", now.Add(-2*time.Hour)))
	if err != nil {
		return err
	}
	if _, err := mx.Submit(ctx, guardia, waiting.ID); err != nil {
		return err
	}
	return area.WaitFor("the released seizures to cross", 60*time.Second, func() bool {
		a, _ := us.Figures(ctx)
		b, _ := mx.Figures(ctx)
		return a != nil && b != nil && a.Sides[0].Released == int64(len(mxIDs)) && b.Sides[1].Released == int64(len(usIDs))
	})
}

var demoMakes = []struct{ make, model, calibre, typ, country string }{
	{"Colt", "M4 Carbine", "5.56x45", "rifle", "US"},
	{"Smith & Wesson", "M&P15", ".223", "rifle", "US"},
	{"Glock", "19", "9mm", "pistol", "AT"},
	{"Century Arms", "WASR-10", "7.62x39", "rifle", "RO"},
	{"Barrett", "M82A1", ".50 BMG", "rifle", "US"},
	{"Ruger", "SR9", "9mm", "pistol", "US"},
	{"Taurus", "PT92", "9mm", "pistol", "BR"},
	{"FN Herstal", "Five-seveN", "5.7x28", "pistol", "BE"},
}

// synthetic is a plausible seizure of side at at, from r.
func synthetic(r *rand.Rand, side string, at time.Time) Seizure {
	p := border.Pairs[r.IntN(len(border.Pairs))]
	sec, _ := border.SectorByCode(p.Sector)
	lat := sec.Lat - 0.05 + r.Float64()*0.1
	if side == "MX" {
		lat -= 0.25
	} else {
		lat += 0.1
	}
	sz := Seizure{At: at, Lat: lat, Lon: sec.Lon - 0.2 + r.Float64()*0.4, Pair: p.ID, Place: sec.Name, Conveyance: Conveyances[r.IntN(4)],
		Concealment: Concealments[1+r.IntN(6)], Detained: r.IntN(4)}
	if side == "MX" {
		sz.Unit = "GN-" + p.State + "-" + fmt.Sprint(1+r.IntN(9))
	} else {
		sz.Unit = "USBP " + sec.Name
	}
	switch r.IntN(3) {
	case 0: // southbound: guns and cash
		for range 1 + r.IntN(5) {
			m := demoMakes[r.IntN(len(demoMakes))]
			sz.Items = append(sz.Items, Item{Kind: ItemFirearm, Type: m.typ, Make: m.make, Model: m.model, Calibre: m.calibre,
				Serial: fmt.Sprintf("%c%c%06d", 'A'+r.IntN(26), 'A'+r.IntN(26), r.IntN(1_000_000)), Obliterated: r.IntN(8) == 0, Country: m.country})
		}
		sz.Items = append(sz.Items, Item{Kind: ItemAmmunition, Calibre: sz.Items[0].Calibre, Count: int64(100 * (1 + r.IntN(30)))})
		if r.IntN(2) == 0 {
			sz.Items = append(sz.Items, Item{Kind: ItemCash, Currency: USD, Amount: float64(1000 * (5 + r.IntN(200))), MXNPerUSD: 18 + r.Float64(), RateSource: "Banxico FIX"})
		}
	default: // northbound: drugs
		switch r.IntN(5) {
		case 0:
			sz.Items = append(sz.Items, Item{Kind: ItemDrug, Drug: FentanylPills, Quantity: float64(1000 * (1 + r.IntN(60))), Unit: UnitUnits, Test: "field"})
		case 1:
			sz.Items = append(sz.Items, Item{Kind: ItemDrug, Drug: FentanylPowder, Quantity: float64(1+r.IntN(40)) / 2, Unit: UnitKg, Test: "lab"})
		case 2:
			sz.Items = append(sz.Items, Item{Kind: ItemDrug, Drug: Meth, Quantity: float64(10 + r.IntN(400)), Unit: UnitLb, Test: "field"})
		case 3:
			sz.Items = append(sz.Items, Item{Kind: ItemDrug, Drug: Cocaine, Quantity: float64(5 + r.IntN(300)), Unit: UnitKg, Test: "lab"})
		default:
			sz.Items = append(sz.Items, Item{Kind: ItemDrug, Drug: Cannabis, Quantity: float64(50 + r.IntN(900)), Unit: UnitKg, Test: "field"})
		}
		if r.IntN(4) == 0 {
			sz.Items = append(sz.Items, Item{Kind: ItemDrug, Drug: Heroin, Quantity: float64(100 + r.IntN(5000)), Unit: UnitG, Test: "field"})
		}
	}
	if sz.Conveyance != "vehicle" {
		sz.Concealment = "other"
	}
	return sz
}
