package seizures

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"puente/internal/agreement"
	"puente/internal/border"
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/input"
	"puente/internal/match"
)

// Statuses of a seizure.
const (
	StatusRecorded = "recorded" // ours, not shared
	StatusReleased = "released" // ours, released to the partner; or the partner's, received
)

// Kinds of item.
const (
	ItemDrug       = "drug"
	ItemFirearm    = "firearm"
	ItemAmmunition = "ammunition"
	ItemMagazine   = "magazine"
	ItemPart       = "part"
	ItemCash       = "cash"
	ItemOther      = "other"
)

// ItemKinds lists the kinds of item.
var ItemKinds = []string{ItemDrug, ItemFirearm, ItemAmmunition, ItemMagazine, ItemPart, ItemCash, ItemOther}

// Conveyances a seizure was found in or on.
var Conveyances = []string{"vehicle", "vessel", "aircraft", "pedestrian", "mail", "tunnel", "drone", "other"}

// Concealments: how it was hidden.
var Concealments = []string{"none", "hidden_compartment", "fuel_tank", "tires", "commercial_cargo", "body_carry", "luggage", "parcel", "other"}

// FirearmTypes of a seized firearm.
var FirearmTypes = []string{"pistol", "revolver", "rifle", "shotgun", "submachine_gun", "machine_gun", "grenade_launcher", "other"}

// OtherKinds of other seized goods.
var OtherKinds = []string{"vehicle", "pill_press", "laboratory", "other"}

// Tests a drug was identified by.
var Tests = []string{"lab", "field"}

// SeizureAgencies are the agencies that record seizures, per side.
var SeizureAgencies = map[string][]string{
	"MX": {"SEDENA", "SEMAR", "GN", "FGR", "SSPC", "SSP-SON"},
	"US": {"CBP", "HSI", "ATF", "DEA", "FBI"},
}

// Limits of one seizure, besides the agreement's sanity bounds.
const (
	MaxItems    = 200
	MaxSubjects = 50
	MaxShort    = 200
	MaxText     = 10_000
	// MaxFuture tolerates clocks a little ahead.
	MaxFuture = 10 * time.Minute
	// MaxAge: older seizures are history, not this agreement's work.
	MaxAge = 10 * 365 * 24 * time.Hour
)

// Seizure is one seizure, as both nodes keep it.
type Seizure struct {
	ID     string `json:"id"`
	Origin string `json:"origin"`
	Status string `json:"status"`
	// Ref is the seizing agency's own case or report number.
	Ref         string    `json:"ref,omitempty"`
	At          time.Time `json:"at"`
	Lat         float64   `json:"lat"`
	Lon         float64   `json:"lon"`
	Pair        string    `json:"pair"`
	Crossing    string    `json:"crossing,omitempty"` // a port of entry; "" between ports
	Place       string    `json:"place"`              // municipality or county
	Agency      string    `json:"agency"`
	Unit        string    `json:"unit,omitempty"`
	OperationID string    `json:"operation_id,omitempty"`
	Conveyance  string    `json:"conveyance"`
	Concealment string    `json:"concealment"`
	Plate       string    `json:"plate,omitempty"`
	VIN         string    `json:"vin,omitempty"`
	RouteFrom   string    `json:"route_from,omitempty"` // ISO 3166 alpha-2, where known
	RouteTo     string    `json:"route_to,omitempty"`
	Detained    int       `json:"detained"`
	Items       []Item    `json:"items"`
	Notes       string    `json:"notes,omitempty"`
	// To are the partner's agencies it was released to.
	To         []string        `json:"to,omitempty"`
	Caveats    caveats.Caveats `json:"caveats"`
	CreatedBy  string          `json:"created_by"`
	CreatedAt  time.Time       `json:"created_at"`
	ReleasedBy string          `json:"released_by,omitempty"`
	ReleasedAt time.Time       `json:"released_at,omitzero"`
	// Subjects are the persons detained, as this side knows them: they
	// feed this side's blind-matching index and never cross the link.
	Subjects []match.Subject `json:"subjects,omitempty"`
}

// Item is one thing seized.
type Item struct {
	Kind string `json:"kind"`
	// Drugs.
	Drug     string      `json:"drug,omitempty"`
	Name     string      `json:"name,omitempty"` // a precursor's or other drug's name
	Quantity float64     `json:"quantity,omitempty"`
	Unit     string      `json:"unit,omitempty"`
	Test     string      `json:"test,omitempty"`
	Conv     *Conversion `json:"conversion,omitempty"`
	// Firearms.
	Type        string `json:"type,omitempty"`
	Make        string `json:"make,omitempty"`
	Model       string `json:"model,omitempty"`
	Calibre     string `json:"calibre,omitempty"`
	Serial      string `json:"serial,omitempty"`
	Obliterated bool   `json:"obliterated,omitempty"`
	Country     string `json:"country,omitempty"` // of manufacture
	Importer    string `json:"importer,omitempty"`
	// Ammunition, magazines, parts, other: how many.
	Count int64 `json:"count,omitempty"`
	// Cash.
	Currency   string  `json:"currency,omitempty"`
	Amount     float64 `json:"amount,omitempty"`
	MXNPerUSD  float64 `json:"mxn_per_usd,omitempty"`
	USDPerUnit float64 `json:"usd_per_unit,omitempty"`
	RateSource string  `json:"rate_source,omitempty"`
	USDCents   int64   `json:"usd_cents,omitempty"`
	MXNCents   int64   `json:"mxn_cents,omitempty"`
	// Other.
	What        string `json:"what,omitempty"`
	Description string `json:"description,omitempty"`
}

// Shared is what crosses the link: the seizure without its subjects.
func (s *Seizure) Shared() *Seizure {
	c := *s
	c.Subjects = nil
	c.Items = slices.Clone(s.Items)
	return &c
}

// Kg is the seizure's drugs in kilograms, by drug.
func (s *Seizure) Kg() map[string]float64 {
	out := map[string]float64{}
	for _, it := range s.Items {
		if it.Kind == ItemDrug && it.Conv != nil {
			out[it.Drug] += it.Conv.Kg
		}
	}
	return out
}

// Bounds are the agreement's sanity bounds on one seizure.
type Bounds struct {
	Kg      float64
	Units   int64
	CashUSD float64
}

// BoundsOf reads the bounds of an agreement, with defaults.
func BoundsOf(ag *agreement.Agreement) Bounds {
	l := ag.Limits.WithDefaults()
	return Bounds{Kg: float64(l.SeizureMaxKg), Units: l.SeizureMaxUnits, CashUSD: float64(l.SeizureMaxCashUSD)}
}

var (
	serialRE  = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{0,29}$`)
	vinRE     = regexp.MustCompile(`^[A-HJ-NPR-Z0-9]{17}$`)
	plateRE   = regexp.MustCompile(`^[A-Z0-9][A-Z0-9 -]{1,11}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	currRE    = regexp.MustCompile(`^[A-Z]{3}$`)
	calibreRE = regexp.MustCompile(`^[A-Za-z0-9 .×x/-]{1,30}$`)
)

// NormSerial is a serial as compared: upper case, without spaces.
func NormSerial(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

// NormPlate is a plate as compared: upper case, without spaces or dashes.
func NormPlate(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
}

// NormCalibre is a calibre as totalled: ".223" and "223", "9mm" and
// "9 mm" are one.
func NormCalibre(s string) string {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	return strings.TrimPrefix(s, ".")
}

// ValidSerial reports whether s can be a firearm serial number: letters,
// digits and dashes, up to 30.
func ValidSerial(s string) bool { return serialRE.MatchString(NormSerial(s)) }

func text(field, v string, max int, required bool) error {
	r := input.Rule(0)
	if required {
		r = input.Required
	}
	return input.Text(field, v, max, r)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// check checks and completes a seizure entered on side self at now: it
// fills conversions and normalises identifiers. Each refusal names the
// field.
func check(s *Seizure, self string, now time.Time, b Bounds) error {
	if s.At.IsZero() {
		return fault.Field("at", "required")
	}
	if s.At.After(now.Add(MaxFuture)) {
		return fault.Field("at", "in_the_future")
	}
	if s.At.Before(now.Add(-MaxAge)) {
		return fault.Field("at", "too_old")
	}
	if !finite(s.Lat) || !finite(s.Lon) || !border.InRegion(s.Lat, s.Lon) {
		return fault.Field("position", "outside_region")
	}
	if _, ok := border.PairByID(s.Pair); !ok {
		return fault.Field("pair", "unknown_pair")
	}
	if s.Crossing != "" && !slices.ContainsFunc(border.Crossings, func(c border.Crossing) bool { return c.ID == s.Crossing }) {
		return fault.Field("crossing", "unknown_crossing")
	}
	if !slices.Contains(SeizureAgencies[self], s.Agency) {
		return fault.Field("agency", "unknown_agency")
	}
	for _, f := range []struct {
		name, v  string
		max      int
		required bool
	}{{"ref", s.Ref, 60, false}, {"place", s.Place, MaxShort, true}, {"unit", s.Unit, MaxShort, false}, {"notes", s.Notes, MaxText, false}} {
		if err := text(f.name, f.v, f.max, f.required); err != nil {
			return err
		}
	}
	s.Ref, s.Place, s.Unit, s.Notes = strings.TrimSpace(s.Ref), strings.TrimSpace(s.Place), strings.TrimSpace(s.Unit), strings.TrimSpace(s.Notes)
	if s.OperationID != "" && (len(s.OperationID) > 64 || strings.ContainsAny(s.OperationID, " \t\r\n")) {
		return fault.Field("operation_id", "invalid")
	}
	if !slices.Contains(Conveyances, s.Conveyance) {
		return fault.Field("conveyance", "unknown_value")
	}
	if !slices.Contains(Concealments, s.Concealment) {
		return fault.Field("concealment", "unknown_value")
	}
	s.Plate, s.VIN = NormPlate(s.Plate), strings.ToUpper(strings.TrimSpace(s.VIN))
	if s.Plate != "" && !plateRE.MatchString(s.Plate) {
		return fault.Field("plate", "invalid_plate")
	}
	if s.VIN != "" && !vinRE.MatchString(s.VIN) {
		return fault.Field("vin", "invalid_vin")
	}
	if (s.Plate != "" || s.VIN != "") && s.Conveyance != "vehicle" {
		return fault.Field("conveyance", "plate_without_vehicle")
	}
	for _, c := range []struct{ name, v string }{{"route_from", s.RouteFrom}, {"route_to", s.RouteTo}} {
		if c.v != "" && !countryRE.MatchString(c.v) {
			return fault.Field(c.name, "invalid_country")
		}
	}
	if s.Detained < 0 || s.Detained > 10_000 {
		return fault.Field("detained", "out_of_range")
	}
	if len(s.Subjects) > MaxSubjects {
		return fault.Field("subjects", "too_many")
	}
	if len(s.Subjects) > s.Detained && s.Detained >= 0 {
		return fault.Field("detained", "fewer_than_subjects")
	}
	if len(s.Items) == 0 {
		return fault.Field("items", "required")
	}
	if len(s.Items) > MaxItems {
		return fault.Field("items", "too_many")
	}
	var kg, cash float64
	var units int64
	for i := range s.Items {
		if err := checkItem(&s.Items[i], fmt.Sprintf("items[%d]", i)); err != nil {
			return err
		}
		it := &s.Items[i]
		if it.Conv != nil {
			kg += it.Conv.Kg
		}
		if it.Kind == ItemDrug && it.Unit == UnitUnits {
			units += int64(it.Quantity)
		}
		if it.Kind != ItemDrug && it.Kind != ItemCash {
			units += it.Count
		}
		cash += float64(it.USDCents) / 100
	}
	switch {
	case kg > b.Kg:
		return fault.Field("items", "above_sanity_kg")
	case units > b.Units:
		return fault.Field("items", "above_sanity_units")
	case cash > b.CashUSD:
		return fault.Field("items", "above_sanity_cash")
	}
	return nil
}

func checkItem(it *Item, f string) error {
	field := func(name string) string { return f + "." + name }
	if !slices.Contains(ItemKinds, it.Kind) {
		return fault.Field(field("kind"), "unknown_value")
	}
	for _, t := range []struct{ name, v string }{{"name", it.Name}, {"make", it.Make}, {"model", it.Model}, {"importer", it.Importer},
		{"rate_source", it.RateSource}, {"description", it.Description}} {
		if err := text(field(t.name), t.v, MaxShort, false); err != nil {
			return err
		}
	}
	switch it.Kind {
	case ItemDrug:
		if !slices.Contains(Drugs, it.Drug) {
			return fault.Field(field("drug"), "unknown_value")
		}
		if (it.Drug == Precursor || it.Drug == OtherDrug) && strings.TrimSpace(it.Name) == "" {
			return fault.Field(field("name"), "required")
		}
		if !finite(it.Quantity) || it.Quantity <= 0 {
			return fault.Field(field("quantity"), "not_positive")
		}
		if !slices.Contains(Units, it.Unit) {
			return fault.Field(field("unit"), "unknown_value")
		}
		if !UnitFits(it.Drug, it.Unit) {
			return fault.Field(field("unit"), "unit_does_not_fit")
		}
		if it.Unit == UnitUnits && it.Quantity != math.Trunc(it.Quantity) {
			return fault.Field(field("quantity"), "whole_units")
		}
		if !slices.Contains(Tests, it.Test) {
			return fault.Field(field("test"), "unknown_value")
		}
		c, err := Convert(it.Drug, it.Quantity, it.Unit)
		if err != nil {
			return fault.Field(field("unit"), "unit_does_not_fit")
		}
		it.Conv = &c
	case ItemFirearm:
		if !slices.Contains(FirearmTypes, it.Type) {
			return fault.Field(field("type"), "unknown_value")
		}
		if it.Calibre != "" && !calibreRE.MatchString(it.Calibre) {
			return fault.Field(field("calibre"), "invalid_calibre")
		}
		it.Serial = NormSerial(it.Serial)
		if it.Serial != "" && !serialRE.MatchString(it.Serial) {
			return fault.Field(field("serial"), "invalid_serial")
		}
		if it.Country = strings.ToUpper(strings.TrimSpace(it.Country)); it.Country != "" && !countryRE.MatchString(it.Country) {
			return fault.Field(field("country"), "invalid_country")
		}
		it.Count = 1
	case ItemAmmunition, ItemMagazine, ItemPart:
		if it.Count <= 0 {
			return fault.Field(field("count"), "not_positive")
		}
		if it.Calibre != "" && !calibreRE.MatchString(it.Calibre) {
			return fault.Field(field("calibre"), "invalid_calibre")
		}
	case ItemCash:
		it.Currency = strings.ToUpper(strings.TrimSpace(it.Currency))
		if !currRE.MatchString(it.Currency) {
			return fault.Field(field("currency"), "invalid_currency")
		}
		if !finite(it.Amount) || it.Amount <= 0 {
			return fault.Field(field("amount"), "not_positive")
		}
		if !finite(it.MXNPerUSD) || it.MXNPerUSD <= 0 || it.MXNPerUSD > 1000 {
			return fault.Field(field("mxn_per_usd"), "not_positive")
		}
		if strings.TrimSpace(it.RateSource) == "" {
			return fault.Field(field("rate_source"), "required")
		}
		usd, mxn, err := Cash(it.Currency, it.Amount, it.MXNPerUSD, it.USDPerUnit)
		if err != nil {
			return fault.Field(field("usd_per_unit"), "not_positive")
		}
		it.USDCents, it.MXNCents = usd, mxn
	case ItemOther:
		if !slices.Contains(OtherKinds, it.What) {
			return fault.Field(field("what"), "unknown_value")
		}
		if it.Count <= 0 {
			it.Count = 1
		}
	}
	return nil
}

// Title names a seizure in lists and work items: its reference or place,
// and its day.
func (s *Seizure) Title() string {
	name := s.Place
	if s.Ref != "" {
		name = s.Ref + " · " + s.Place
	}
	return name + " · " + s.At.UTC().Format("2006-01-02")
}
