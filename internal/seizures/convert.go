package seizures

import (
	"fmt"
	"math"
)

// Drugs of the fixed taxonomy.
const (
	FentanylPowder = "fentanyl_powder"
	FentanylPills  = "fentanyl_pills"
	Meth           = "methamphetamine"
	Cocaine        = "cocaine"
	Heroin         = "heroin"
	Cannabis       = "cannabis"
	Precursor      = "precursor" // a precursor chemical, named
	OtherDrug      = "other"     // another drug, named
)

// Drugs lists the taxonomy in display order.
var Drugs = []string{FentanylPowder, FentanylPills, Meth, Cocaine, Heroin, Cannabis, Precursor, OtherDrug}

// Units a drug quantity may be reported in.
const (
	UnitKg    = "kg"
	UnitG     = "g"
	UnitLb    = "lb"
	UnitL     = "L"
	UnitUnits = "units" // pills, tablets or other counted units
)

// Units lists every unit.
var Units = []string{UnitKg, UnitG, UnitLb, UnitL, UnitUnits}

// drugUnits says which units fit which drug: a drug that is never liquid
// is not reported in litres, and only tablets are counted.
var drugUnits = map[string][]string{
	FentanylPowder: {UnitKg, UnitG, UnitLb},
	FentanylPills:  {UnitUnits, UnitKg, UnitG, UnitLb},
	Meth:           {UnitKg, UnitG, UnitLb, UnitL, UnitUnits},
	Cocaine:        {UnitKg, UnitG, UnitLb, UnitL},
	Heroin:         {UnitKg, UnitG, UnitLb},
	Cannabis:       {UnitKg, UnitG, UnitLb},
	Precursor:      {UnitKg, UnitG, UnitLb, UnitL},
	OtherDrug:      {UnitKg, UnitG, UnitLb, UnitL, UnitUnits},
}

// UnitFits reports whether unit fits drug.
func UnitFits(drug, unit string) bool {
	for _, u := range drugUnits[drug] {
		if u == unit {
			return true
		}
	}
	return false
}

// The conversion factors and where they come from.
const (
	// KgPerLb is the international avoirdupois pound (exact since 1959).
	KgPerLb = 0.45359237
	// KgPerL: UNODC's Annual Report Questionnaire counts one litre of a
	// liquid drug or precursor as one kilogram.
	KgPerL = 1.0
	// KgPerTablet is the mass assumed for one pill or tablet when only
	// the count is reported: 100 mg, the mass DEA's laboratory reports for
	// counterfeit "M30" fentanyl tablets and UNODC's conversion for
	// tablets of amphetamine-type stimulants.
	KgPerTablet = 0.0001
	// LethalDoseMg is DEA's potentially lethal dose of fentanyl: 2 mg.
	LethalDoseMg = 2.0
)

// Sources of the factors, as shown beside each converted figure.
const (
	SourceSI     = "SI"
	SourceLb     = "international avoirdupois pound, 1 lb = 0.45359237 kg"
	SourceL      = "UNODC Annual Report Questionnaire: 1 L = 1 kg for liquids"
	SourceTablet = "assumed 100 mg per tablet (DEA laboratory, counterfeit M30 tablets; UNODC, ATS tablets)"
	SourceDose   = "DEA: 2 mg of fentanyl is a potentially lethal dose"
	SourcePill   = "one pill counted as one potential dose (DEA 2023: 7 of 10 pills tested held at least 2 mg)"
)

// Conversion is a quantity as reported turned into kilograms and, for
// fentanyl, into potentially lethal doses, with the factors used.
type Conversion struct {
	Kg          float64 `json:"kg"`
	KgFactor    float64 `json:"kg_factor"`
	KgSource    string  `json:"kg_source"`
	Doses       float64 `json:"doses,omitempty"`
	DoseFactor  float64 `json:"dose_factor,omitempty"`
	DoseSource  string  `json:"dose_source,omitempty"`
	Unconverted bool    `json:"unconverted,omitempty"` // counted units of an unnamed mass
}

// Convert converts quantity of drug in unit. The unit must fit the drug
// (UnitFits).
func Convert(drug string, quantity float64, unit string) (Conversion, error) {
	if !UnitFits(drug, unit) {
		return Conversion{}, fmt.Errorf("%s is not reported in %s", drug, unit)
	}
	var c Conversion
	switch unit {
	case UnitKg:
		c.KgFactor, c.KgSource = 1, SourceSI
	case UnitG:
		c.KgFactor, c.KgSource = 0.001, SourceSI
	case UnitLb:
		c.KgFactor, c.KgSource = KgPerLb, SourceLb
	case UnitL:
		c.KgFactor, c.KgSource = KgPerL, SourceL
	case UnitUnits:
		if drug == OtherDrug {
			c.Unconverted = true
		} else {
			c.KgFactor, c.KgSource = KgPerTablet, SourceTablet
		}
	}
	c.Kg = round(quantity*c.KgFactor, 6)
	switch {
	case drug == FentanylPills && unit == UnitUnits:
		c.DoseFactor, c.DoseSource = 1, SourcePill
		c.Doses = quantity
	case drug == FentanylPills:
		// A mass of pills: the pills it holds, one dose each.
		c.DoseFactor, c.DoseSource = 1/KgPerTablet, SourceTablet+"; "+SourcePill
		c.Doses = math.Round(c.Kg / KgPerTablet)
	case drug == FentanylPowder:
		c.DoseFactor, c.DoseSource = 1e6/LethalDoseMg, SourceDose
		c.Doses = math.Round(c.Kg * c.DoseFactor)
	}
	return c, nil
}

// Currencies a cash seizure is entered in; any other is entered with its
// own rate to the US dollar.
const (
	USD = "USD"
	MXN = "MXN"
)

// Cash converts amount of currency to US dollars and Mexican pesos, in
// cents: mxnPerUSD is the day's rate the user entered or imported, and
// usdPerUnit the rate of a third currency (ignored for USD and MXN).
func Cash(currency string, amount, mxnPerUSD, usdPerUnit float64) (usdCents, mxnCents int64, err error) {
	if amount <= 0 || mxnPerUSD <= 0 || math.IsInf(amount, 0) || math.IsNaN(amount) || math.IsNaN(mxnPerUSD) {
		return 0, 0, fmt.Errorf("amount and rate must be positive")
	}
	var usd float64
	switch currency {
	case USD:
		usd = amount
	case MXN:
		usd = amount / mxnPerUSD
	default:
		if usdPerUnit <= 0 || math.IsNaN(usdPerUnit) {
			return 0, 0, fmt.Errorf("a currency other than USD or MXN needs its rate to the dollar")
		}
		usd = amount * usdPerUnit
	}
	mxn := usd * mxnPerUSD
	if currency == MXN {
		mxn = amount
	}
	return int64(math.Round(usd * 100)), int64(math.Round(mxn * 100)), nil
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
