package seizures

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/store"
)

// Metrics of the totals. Values are integers: grams, doses, units, cents.
const (
	MetricSeizures = "seizures"
	MetricDetained = "detained"
	MetricDrugG    = "drug_g"
	MetricDoses    = "doses"
	MetricFirearms = "firearms" // by type
	MetricCalibre  = "calibre"  // firearms by calibre
	MetricRounds   = "rounds"   // by calibre
	MetricMags     = "magazines"
	MetricParts    = "parts"
	MetricCash     = "cash_usd_cents" // by currency seized
	MetricOther    = "other"          // by kind
)

// Scopes of the totals.
const (
	ScopeShared = "shared" // released seizures of both sides: the same on both nodes
	ScopeAll    = "all"    // everything this node holds
)

// contributions are what one seizure adds to the totals.
func contributions(sz *Seizure) map[[2]string]int64 {
	c := map[[2]string]int64{{MetricSeizures, ""}: 1}
	if sz.Detained > 0 {
		c[[2]string{MetricDetained, ""}] += int64(sz.Detained)
	}
	for _, it := range sz.Items {
		switch it.Kind {
		case ItemDrug:
			if it.Conv != nil {
				c[[2]string{MetricDrugG, it.Drug}] += int64(math.Round(it.Conv.Kg * 1000))
				if it.Conv.Doses > 0 {
					c[[2]string{MetricDoses, it.Drug}] += int64(it.Conv.Doses)
				}
			}
		case ItemFirearm:
			c[[2]string{MetricFirearms, it.Type}]++
			cal := NormCalibre(it.Calibre)
			if cal == "" {
				cal = "unknown"
			}
			c[[2]string{MetricCalibre, cal}]++
		case ItemAmmunition:
			c[[2]string{MetricRounds, NormCalibre(it.Calibre)}] += it.Count
		case ItemMagazine:
			c[[2]string{MetricMags, ""}] += it.Count
		case ItemPart:
			c[[2]string{MetricParts, ""}] += it.Count
		case ItemCash:
			c[[2]string{MetricCash, it.Currency}] += it.USDCents
		case ItemOther:
			c[[2]string{MetricOther, it.What}] += it.Count
		}
	}
	return c
}

// tally adds sz to the totals of scope, inside tx.
func tally(ctx context.Context, tx *store.Tx, scope string, sz *Seizure) error {
	t := tallies{}
	t.add(scope, sz)
	return t.flush(ctx, tx)
}

// tallies are contributions to the totals gathered in memory, written
// with one statement per row of the totals: an import of many seizures
// touches each row once.
type tallies map[[6]string]int64

func (t tallies) add(scope string, sz *Seizure) {
	month := sz.At.UTC().Format("2006-01")
	for k, v := range contributions(sz) {
		t[[6]string{scope, sz.Origin, month, sz.Pair, k[0], k[1]}] += v
	}
}

func (t tallies) flush(ctx context.Context, tx *store.Tx) error {
	for k, v := range t {
		if _, err := tx.Exec(ctx, `INSERT INTO seizure_totals (scope, side, month, pair, metric, category, value) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (scope, side, month, pair, metric, category) DO UPDATE SET value = seizure_totals.value + excluded.value`,
			k[0], k[1], k[2], k[3], k[4], k[5], v); err != nil {
			return fmt.Errorf("adding seizures to the figures: %w", err)
		}
	}
	return nil
}

// Total is one row of the totals.
type Total struct {
	Side     string `json:"side"`
	Month    string `json:"month"`
	Pair     string `json:"pair"`
	Metric   string `json:"metric"`
	Category string `json:"category"`
	Value    int64  `json:"value"`
}

// Totals reads the totals of scope for the months from..to (inclusive,
// "2006-01"; empty: all).
func (s *Service) Totals(ctx context.Context, u *auth.User, scope, from, to string) ([]Total, error) {
	if !u.Can(auth.SeizRead) {
		return nil, ErrForbidden
	}
	if scope != ScopeShared && scope != ScopeAll {
		scope = ScopeShared
	}
	if to == "" {
		to = "9999-12"
	}
	rows, err := s.db.Read().Query(ctx, `SELECT side, month, pair, metric, category, value FROM seizure_totals
		WHERE scope = ? AND month >= ? AND month <= ? ORDER BY month, side, pair, metric, category`, scope, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading seizure figures: %w", err)
	}
	return store.Collect(rows, func(sc store.Scanner) (Total, error) {
		var t Total
		return t, sc.Scan(&t.Side, &t.Month, &t.Pair, &t.Metric, &t.Category, &t.Value)
	})
}

// Months are the n months up to and including the month of now.
func Months(now time.Time, n int) []string {
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	out := make([]string, n)
	for i := range n {
		out[i] = first.AddDate(0, i-n+1, 0).Format("2006-01")
	}
	return out
}

// SideFigures are one side's shared figures, for the Reciprocity page:
// the same on both nodes.
type SideFigures struct {
	Party    string  `json:"party"`
	Released int64   `json:"released"` // seizures it released
	Kg       float64 `json:"kg"`       // drugs in them
	Firearms int64   `json:"firearms"` // firearms in them
	CashUSD  float64 `json:"cash_usd"` // cash in them
}

// OwnFigures are what only this node knows: how many of its own
// seizures it recorded, and the share it released.
type OwnFigures struct {
	Party     string  `json:"party"`
	Recorded  int64   `json:"recorded"`
	Released  int64   `json:"released"`
	ShareRate float64 `json:"share_rate"`
}

// Figures are the shared figures per side, and this node's own.
type Figures struct {
	Sides []SideFigures `json:"sides"`
	Own   OwnFigures    `json:"own"`
}

// Figures computes the figures from the totals.
func (s *Service) Figures(ctx context.Context) (*Figures, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT scope, side, metric, SUM(value) FROM seizure_totals
		WHERE metric IN (?, ?, ?, ?) GROUP BY scope, side, metric`, MetricSeizures, MetricDrugG, MetricFirearms, MetricCash)
	if err != nil {
		return nil, fmt.Errorf("reading seizure figures: %w", err)
	}
	type agg struct {
		scope, side, metric string
		v                   int64
	}
	aggs, err := store.Collect(rows, func(sc store.Scanner) (agg, error) {
		var a agg
		return a, sc.Scan(&a.scope, &a.side, &a.metric, &a.v)
	})
	if err != nil {
		return nil, err
	}
	parties := []string{s.self, s.partner}
	slices.Sort(parties)
	f := &Figures{Own: OwnFigures{Party: s.self}}
	for _, p := range parties {
		sf := SideFigures{Party: p}
		for _, a := range aggs {
			if a.side != p {
				continue
			}
			if a.scope == ScopeAll && a.metric == MetricSeizures && p == s.self {
				f.Own.Recorded = a.v
			}
			if a.scope != ScopeShared {
				continue
			}
			switch a.metric {
			case MetricSeizures:
				sf.Released = a.v
			case MetricDrugG:
				sf.Kg = float64(a.v) / 1000
			case MetricFirearms:
				sf.Firearms = a.v
			case MetricCash:
				sf.CashUSD = float64(a.v) / 100
			}
		}
		if p == s.self {
			f.Own.Released = sf.Released
			if f.Own.Recorded > 0 {
				f.Own.ShareRate = float64(sf.Released) / float64(f.Own.Recorded)
			}
		}
		f.Sides = append(f.Sides, sf)
	}
	return f, nil
}

// Reciprocity is the area's table on the Reciprocity page: what each side
// shared. The share of its own seizures a side released is known only to
// that side, so it shows on its own node only.
func (s *Service) Reciprocity(ctx context.Context, u *auth.User) (*area.Table, error) {
	if !u.Can(auth.SeizRead) {
		return nil, ErrForbidden
	}
	f, err := s.Figures(ctx)
	if err != nil {
		return nil, err
	}
	t := &area.Table{Area: Name, Title: "area.seizures", Live: Name}
	for _, sd := range f.Sides {
		t.Sides = append(t.Sides, sd.Party)
	}
	row := func(label string, cell func(SideFigures) area.Cell) {
		r := area.Row{Label: label}
		for _, sd := range f.Sides {
			r.Cells = append(r.Cells, cell(sd))
		}
		t.Rows = append(t.Rows, r)
	}
	// The released seizures per month, by the month of the seizure.
	months := area.Months(time.Now().UTC(), area.TrendMonths)
	rows, err := s.db.Read().Query(ctx, `SELECT side, month, SUM(value) FROM seizure_totals WHERE scope = ? AND metric = ? AND month >= ? GROUP BY side, month`,
		ScopeShared, MetricSeizures, months[0])
	if err != nil {
		return nil, fmt.Errorf("reading seizures by month: %w", err)
	}
	byMonth := map[string]map[string]int{}
	if _, err := store.Collect(rows, func(sc store.Scanner) (int, error) {
		var side, month string
		var n int
		err := sc.Scan(&side, &month, &n)
		if byMonth[side] == nil {
			byMonth[side] = map[string]int{}
		}
		byMonth[side][month] = n
		return n, err
	}); err != nil {
		return nil, err
	}
	row("sz.recip.released", func(sd SideFigures) area.Cell {
		return area.Cell{Value: strconv.FormatInt(sd.Released, 10), Trend: area.Trend(months, byMonth[sd.Party])}
	})
	row("sz.recip.kg", func(sd SideFigures) area.Cell {
		return area.Cell{Value: strconv.FormatFloat(sd.Kg, 'f', 1, 64), Key: "sz.recip.kg_unit"}
	})
	row("sz.recip.firearms", func(sd SideFigures) area.Cell { return area.Cell{Value: strconv.FormatInt(sd.Firearms, 10)} })
	row("sz.recip.cash", func(sd SideFigures) area.Cell {
		return area.Cell{Value: strconv.FormatFloat(sd.CashUSD, 'f', 0, 64), Key: "sz.recip.usd_unit"}
	})
	// The share of our own seizures we released is ours alone to know (the
	// partner never sees what we keep): it is on the dashboard, not here,
	// so both nodes show the same table.
	return t, nil
}
