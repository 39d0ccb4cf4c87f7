package seizures

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"puente/internal/fault"
)

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		drug, unit   string
		q            float64
		kg, doses    float64
		source       string
		doseSource   string
		unconverted  bool
		wantRefusing bool
	}{
		{drug: Cocaine, unit: UnitKg, q: 12.5, kg: 12.5, source: SourceSI},
		{drug: Heroin, unit: UnitG, q: 750, kg: 0.75, source: SourceSI},
		{drug: Meth, unit: UnitLb, q: 100, kg: 45.359237, source: SourceLb},
		{drug: Precursor, unit: UnitL, q: 200, kg: 200, source: SourceL},
		{drug: Meth, unit: UnitUnits, q: 10000, kg: 1, source: SourceTablet},
		// DEA: 2 mg is a potentially lethal dose: 1 kg = 500,000 doses.
		{drug: FentanylPowder, unit: UnitKg, q: 1, kg: 1, doses: 500_000, source: SourceSI, doseSource: SourceDose},
		{drug: FentanylPowder, unit: UnitG, q: 3, kg: 0.003, doses: 1_500, source: SourceSI, doseSource: SourceDose},
		// Pills counted: one dose each, 100 mg each.
		{drug: FentanylPills, unit: UnitUnits, q: 20_000, kg: 2, doses: 20_000, source: SourceTablet, doseSource: SourcePill},
		// Pills weighed: the pills the mass holds.
		{drug: FentanylPills, unit: UnitKg, q: 1.5, kg: 1.5, doses: 15_000, source: SourceSI},
		{drug: OtherDrug, unit: UnitUnits, q: 40, unconverted: true},
		{drug: Cannabis, unit: UnitL, q: 1, wantRefusing: true},
		{drug: Cannabis, unit: UnitUnits, q: 1, wantRefusing: true},
		{drug: Heroin, unit: UnitL, q: 1, wantRefusing: true},
		{drug: FentanylPowder, unit: UnitUnits, q: 1, wantRefusing: true},
	} {
		c, err := Convert(tc.drug, tc.q, tc.unit)
		if tc.wantRefusing {
			if err == nil {
				t.Errorf("%s in %s: converted, want refused", tc.drug, tc.unit)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s in %s: %v", tc.drug, tc.unit, err)
			continue
		}
		if math.Abs(c.Kg-tc.kg) > 1e-9 || c.Doses != tc.doses || c.Unconverted != tc.unconverted {
			t.Errorf("%s %v %s = %+v, want %v kg, %v doses", tc.drug, tc.q, tc.unit, c, tc.kg, tc.doses)
		}
		if tc.source != "" && c.KgSource != tc.source {
			t.Errorf("%s %s: source %q, want %q", tc.drug, tc.unit, c.KgSource, tc.source)
		}
		if tc.doseSource != "" && c.DoseSource != tc.doseSource {
			t.Errorf("%s %s: dose source %q, want %q", tc.drug, tc.unit, c.DoseSource, tc.doseSource)
		}
		if tc.doses > 0 && c.DoseSource == "" {
			t.Errorf("%s %s: doses without a source", tc.drug, tc.unit)
		}
	}
}

func TestCash(t *testing.T) {
	for _, tc := range []struct {
		cur          string
		amount, rate float64
		perUnit      float64
		usd, mxn     int64
		wantRefusing bool
	}{
		{cur: USD, amount: 1000, rate: 18.5, usd: 100_000, mxn: 1_850_000},
		{cur: MXN, amount: 185_000, rate: 18.5, usd: 1_000_000, mxn: 18_500_000},
		{cur: "EUR", amount: 100, rate: 18, perUnit: 1.1, usd: 11_000, mxn: 198_000},
		{cur: "EUR", amount: 100, rate: 18, wantRefusing: true},
		{cur: USD, amount: -5, rate: 18, wantRefusing: true},
		{cur: USD, amount: 5, rate: 0, wantRefusing: true},
	} {
		usd, mxn, err := Cash(tc.cur, tc.amount, tc.rate, tc.perUnit)
		if tc.wantRefusing != (err != nil) {
			t.Errorf("%v %s: err %v", tc.amount, tc.cur, err)
			continue
		}
		if !tc.wantRefusing && (usd != tc.usd || mxn != tc.mxn) {
			t.Errorf("%v %s at %v = %d, %d cents; want %d, %d", tc.amount, tc.cur, tc.rate, usd, mxn, tc.usd, tc.mxn)
		}
	}
}

var testNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func goodSeizure() Seizure {
	return Seizure{At: testNow.Add(-24 * time.Hour), Lat: 31.33, Lon: -110.94, Pair: "tca-son", Crossing: "nogales", Place: "Nogales", Agency: "CBP",
		Conveyance: "vehicle", Concealment: "hidden_compartment", Plate: "abc-1234", VIN: "1hgcm82633a004352", Detained: 1,
		Items: []Item{
			{Kind: ItemDrug, Drug: FentanylPills, Quantity: 40000, Unit: UnitUnits, Test: "field"},
			{Kind: ItemFirearm, Type: "rifle", Make: "Colt", Model: "AR-15", Calibre: ".223", Serial: "lw 123456", Country: "US"},
			{Kind: ItemCash, Currency: "usd", Amount: 25_000, MXNPerUSD: 18.2, RateSource: "Banxico FIX"},
		}}
}

func TestCheck(t *testing.T) {
	b := Bounds{Kg: 50_000, Units: 20_000_000, CashUSD: 500_000_000}
	sz := goodSeizure()
	if err := check(&sz, "US", testNow, b); err != nil {
		t.Fatalf("a good seizure: %v", err)
	}
	if sz.Plate != "ABC1234" || sz.Items[1].Serial != "LW123456" || sz.Items[0].Conv.Doses != 40000 || sz.Items[2].USDCents != 2_500_000 {
		t.Fatalf("not normalised: %+v", sz)
	}
	if got := Keys(&sz); strings.Join(got, " ") != "plate:ABC1234 serial:COLT|LW123456 vin:1HGCM82633A004352" {
		t.Fatalf("keys %v", got)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Seizure)
		field string
		code  string
	}{
		{"negative quantity", func(s *Seizure) { s.Items[0].Quantity = -3 }, "items[0].quantity", "not_positive"},
		{"absurd quantity", func(s *Seizure) {
			s.Items[0] = Item{Kind: ItemDrug, Drug: Cocaine, Quantity: 60, Unit: "kg", Test: "lab"}
			s.Items[0].Quantity = 60_000
		}, "items", "above_sanity_kg"},
		{"absurd cash", func(s *Seizure) { s.Items[2].Amount = 6e8 }, "items", "above_sanity_cash"},
		{"cannabis pills", func(s *Seizure) { s.Items[0].Drug = Cannabis }, "items[0].unit", "unit_does_not_fit"},
		{"liquid heroin", func(s *Seizure) {
			s.Items[0] = Item{Kind: ItemDrug, Drug: Heroin, Quantity: 2, Unit: UnitL, Test: "lab"}
		}, "items[0].unit", "unit_does_not_fit"},
		{"half a pill", func(s *Seizure) { s.Items[0].Quantity = 10.5 }, "items[0].quantity", "whole_units"},
		{"future", func(s *Seizure) { s.At = testNow.Add(time.Hour) }, "at", "in_the_future"},
		{"outside the region", func(s *Seizure) { s.Lat, s.Lon = 19.43, -99.13 }, "position", "outside_region"},
		{"NaN", func(s *Seizure) { s.Lat = math.NaN() }, "position", "outside_region"},
		{"serial with bad characters", func(s *Seizure) { s.Items[1].Serial = "LW#12/34" }, "items[1].serial", "invalid_serial"},
		{"bad VIN", func(s *Seizure) { s.VIN = "1HGCM82633A00435O" }, "vin", "invalid_vin"},
		{"plate on foot", func(s *Seizure) { s.Conveyance = "pedestrian" }, "conveyance", "plate_without_vehicle"},
		{"unknown pair", func(s *Seizure) { s.Pair = "nowhere" }, "pair", "unknown_pair"},
		{"no rate source", func(s *Seizure) { s.Items[2].RateSource = "" }, "items[2].rate_source", "required"},
		{"no items", func(s *Seizure) { s.Items = nil }, "items", "required"},
		{"precursor unnamed", func(s *Seizure) {
			s.Items[0] = Item{Kind: ItemDrug, Drug: Precursor, Quantity: 2, Unit: UnitL, Test: "lab"}
		}, "items[0].name", "required"},
		{"no place", func(s *Seizure) { s.Place = " " }, "place", "required"},
		{"agency of the other side", func(s *Seizure) { s.Agency = "SEMAR" }, "agency", "unknown_agency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sz := goodSeizure()
			tc.edit(&sz)
			err := check(&sz, "US", testNow, b)
			var fe *fault.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || fe.Code != tc.code {
				t.Fatalf("got %v, want %s: %s", err, tc.field, tc.code)
			}
		})
	}
}
