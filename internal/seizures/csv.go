package seizures

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/link"
	"puente/internal/sheet"
	"puente/internal/store"
)

// CSVColumns are the columns of the seizure CSV, in the order the
// template and the export use. One row is one item; consecutive rows
// with the same non-empty ref are items of one seizure, whose seizure
// columns are read from its first row.
var CSVColumns = []string{"ref", "at", "lat", "lon", "pair", "crossing", "place", "unit", "operation_id", "conveyance", "concealment",
	"plate", "vin", "route_from", "route_to", "detained", "item", "drug", "name", "quantity", "unit_of_measure", "test",
	"firearm_type", "make", "model", "calibre", "serial", "obliterated", "country", "importer", "count",
	"currency", "amount", "mxn_per_usd", "usd_per_unit", "rate_source", "what", "description"}

// csvRequired must be in the header.
var csvRequired = []string{"at", "lat", "lon", "pair", "place", "conveyance", "concealment", "item"}

// MaxCSVBytes bounds an imported file.
const MaxCSVBytes = 256 << 20

// LineError is a problem in an imported file: its line (1-based, the
// header is line 1), its column, and what is wrong (a code, as in
// fault.FieldError).
type LineError struct {
	Line   int
	Column string
	Code   string
	Detail string // the CSV reader's own words, for broken quoting
}

func (e *LineError) Error() string {
	msg := fmt.Sprintf("line %d", e.Line)
	if e.Column != "" {
		msg += ", column " + e.Column
	}
	msg += ": " + e.Code
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Unwrap makes it an invalid input.
func (e *LineError) Unwrap() error { return fault.ErrInvalid }

// ParseCSV reads seizures of side self from r, each checked as one
// recorded by agency at now, and hands each to each as it is read. The
// first problem stops it with a *LineError.
func ParseCSV(r io.Reader, self, agency string, now time.Time, b Bounds, each func(*Seizure) error) (int, error) {
	cr := csv.NewReader(io.LimitReader(r, MaxCSVBytes))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return 0, &LineError{Line: 1, Code: "empty_file"}
	} else if err != nil {
		return 0, csvErr(err)
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(CSVColumns, h) {
			return 0, &LineError{Line: 1, Column: h, Code: "unknown_column"}
		}
		if _, dup := index[h]; dup {
			return 0, &LineError{Line: 1, Column: h, Code: "duplicate_column"}
		}
		index[h] = i
	}
	for _, c := range csvRequired {
		if _, ok := index[c]; !ok {
			return 0, &LineError{Line: 1, Column: c, Code: "missing_column"}
		}
	}
	n := 0
	var cur *Seizure
	curLine := 0
	flush := func() error {
		if cur == nil {
			return nil
		}
		cur.Agency = agency
		if err := check(cur, self, now, b); err != nil {
			return lineOf(err, curLine)
		}
		n++
		err := each(cur)
		cur = nil
		return err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		get := func(c string) string {
			if i, ok := index[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		ref := get("ref")
		if cur == nil || ref == "" || ref != cur.Ref {
			if err := flush(); err != nil {
				return 0, err
			}
			sz, err := seizureOf(get, line)
			if err != nil {
				return 0, err
			}
			cur, curLine = sz, line
		}
		it, err := itemOf(get, line)
		if err != nil {
			return 0, err
		}
		cur.Items = append(cur.Items, it)
		if len(cur.Items) > MaxItems {
			return 0, &LineError{Line: line, Column: "item", Code: "too_many"}
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, &LineError{Line: 2, Code: "no_rows"}
	}
	return n, nil
}

// lineOf turns a check's field error into the line and column it came
// from: a seizure's items are its rows, in order.
func lineOf(err error, first int) error {
	var fe *fault.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	col, line := fe.Field, first
	if rest, ok := strings.CutPrefix(fe.Field, "items["); ok {
		n, after, _ := strings.Cut(rest, "]")
		i, _ := strconv.Atoi(n)
		line += i
		col = strings.TrimPrefix(after, ".")
		if c, ok := itemColumns[col]; ok {
			col = c
		}
	} else if c, ok := seizureColumns[col]; ok {
		col = c
	}
	return &LineError{Line: line, Column: col, Code: fe.Code}
}

// The columns of fields whose names differ in the CSV.
var (
	seizureColumns = map[string]string{"position": "lat", "items": "item"}
	itemColumns    = map[string]string{"": "item", "kind": "item", "type": "firearm_type", "unit": "unit_of_measure"}
)

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LineError{Line: pe.Line, Code: "broken_csv", Detail: pe.Err.Error()}
	}
	return &LineError{Code: "unreadable", Detail: err.Error()}
}

func num(get func(string) string, line int, col string) (float64, error) {
	v := get(col)
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !finite(f) {
		return 0, &LineError{Line: line, Column: col, Code: "not_a_number"}
	}
	return f, nil
}

func integer(get func(string) string, line int, col string) (int64, error) {
	v := get(col)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, &LineError{Line: line, Column: col, Code: "not_a_number"}
	}
	return n, nil
}

func seizureOf(get func(string) string, line int) (*Seizure, error) {
	at, err := time.Parse(time.RFC3339, get("at"))
	if err != nil {
		return nil, &LineError{Line: line, Column: "at", Code: "invalid_time"}
	}
	sz := &Seizure{Ref: get("ref"), At: at.UTC().Truncate(time.Second), Pair: get("pair"), Crossing: get("crossing"), Place: get("place"),
		Unit: get("unit"), OperationID: get("operation_id"), Conveyance: get("conveyance"), Concealment: get("concealment"),
		Plate: get("plate"), VIN: get("vin"), RouteFrom: strings.ToUpper(get("route_from")), RouteTo: strings.ToUpper(get("route_to"))}
	if sz.Lat, err = num(get, line, "lat"); err != nil {
		return nil, err
	}
	if sz.Lon, err = num(get, line, "lon"); err != nil {
		return nil, err
	}
	d, err := integer(get, line, "detained")
	if err != nil {
		return nil, err
	}
	if d < 0 || d > 10_000 {
		return nil, &LineError{Line: line, Column: "detained", Code: "out_of_range"}
	}
	sz.Detained = int(d)
	return sz, nil
}

func itemOf(get func(string) string, line int) (Item, error) {
	it := Item{Kind: get("item"), Drug: get("drug"), Name: get("name"), Unit: get("unit_of_measure"), Test: get("test"),
		Type: get("firearm_type"), Make: get("make"), Model: get("model"), Calibre: get("calibre"), Serial: get("serial"),
		Country: get("country"), Importer: get("importer"), Currency: get("currency"), RateSource: get("rate_source"),
		What: get("what"), Description: get("description")}
	switch strings.ToLower(get("obliterated")) {
	case "", "no", "false", "0":
	case "yes", "true", "1":
		it.Obliterated = true
	default:
		return it, &LineError{Line: line, Column: "obliterated", Code: "not_yes_no"}
	}
	var err error
	for _, f := range []struct {
		col string
		v   *float64
	}{{"quantity", &it.Quantity}, {"amount", &it.Amount}, {"mxn_per_usd", &it.MXNPerUSD}, {"usd_per_unit", &it.USDPerUnit}} {
		if *f.v, err = num(get, line, f.col); err != nil {
			return it, err
		}
	}
	if it.Count, err = integer(get, line, "count"); err != nil {
		return it, err
	}
	return it, nil
}

// Import records the seizures of a CSV file for u, all or none: the file
// is spooled to a temporary file, then each seizure is stored as it is
// read, inside one transaction that a problem rolls back, so memory stays
// bounded whatever the file's length (and a transaction the store runs
// again reads the file again); the totals are gathered and written once,
// with one log entry.
func (s *Service) Import(ctx context.Context, u *auth.User, r io.Reader) (int, error) {
	if !u.Can(auth.SeizWrite) {
		return 0, ErrForbidden
	}
	if !slices.Contains(SeizureAgencies[s.self], u.Agency) {
		return 0, ErrForbidden
	}
	spool, err := os.CreateTemp("", "puente-seizures-*.csv")
	if err != nil {
		return 0, fmt.Errorf("spooling the import: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	size, err := io.Copy(spool, io.LimitReader(r, MaxCSVBytes+1))
	if err != nil {
		return 0, fmt.Errorf("spooling the import: %w", err)
	}
	if size > MaxCSVBytes {
		return 0, &LineError{Code: "too_large"}
	}
	now := s.Now()
	var n int
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("reading the spooled import: %w", err)
		}
		t := tallies{}
		var err error
		n, err = ParseCSV(bufio.NewReaderSize(spool, 1<<16), s.self, u.Agency, now, s.bounds, func(sz *Seizure) error {
			sz.ID, sz.Origin, sz.Status, sz.CreatedBy, sz.CreatedAt = link.NewID(), s.self, StatusRecorded, u.Username, now
			t.add(ScopeAll, sz)
			return s.insertRow(ctx, tx, sz)
		})
		if err != nil {
			return err
		}
		if err := t.flush(ctx, tx); err != nil {
			return err
		}
		s.changed(tx, "figures")
		return s.log.Record(ctx, tx, KindLogImported, "seizures", fmt.Sprintf("count=%d agency=%s", n, u.Agency))
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// UNODCColumns are the export's columns: those of UNODC's Individual
// Drug Seizures reporting, plus the conversion used.
var UNODCColumns = []string{"date", "country", "place", "latitude", "longitude", "drug", "drug_name", "quantity", "unit", "kg_equivalent",
	"kg_factor_source", "lab_confirmed", "conveyance", "concealment", "route_from", "route_to", "seizing_agency", "reference"}

// ExportUNODC writes the shared seizures of both sides (released ones)
// that u may see, between from and to, one row per drug item, in the
// UNODC columns. Cells a spreadsheet would run as formulas are
// neutralised.
func (s *Service) ExportUNODC(ctx context.Context, u *auth.User, w io.Writer, from, to time.Time) error {
	if !u.Can(auth.SeizRead) {
		return ErrForbidden
	}
	sw := sheet.NewWriter(w)
	if err := sw.Write(UNODCColumns); err != nil {
		return err
	}
	q := `SELECT doc FROM seizures WHERE status = ? AND at >= ? AND at < ? ORDER BY at, id`
	rows, err := s.db.Read().Query(ctx, q, StatusReleased, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return fmt.Errorf("exporting seizures: %w", err)
	}
	list, err := store.Collect(rows, scan)
	if err != nil {
		return err
	}
	for _, sz := range list {
		if !sz.Visible(u, s.self) {
			continue
		}
		for _, it := range sz.Items {
			if it.Kind != ItemDrug || it.Conv == nil {
				continue
			}
			rec := []string{sz.At.UTC().Format("2006-01-02"), sz.Origin, sz.Place, strconv.FormatFloat(sz.Lat, 'f', 5, 64), strconv.FormatFloat(sz.Lon, 'f', 5, 64),
				it.Drug, it.Name, strconv.FormatFloat(it.Quantity, 'f', -1, 64), it.Unit, strconv.FormatFloat(it.Conv.Kg, 'f', -1, 64), it.Conv.KgSource,
				strconv.FormatBool(it.Test == "lab"), sz.Conveyance, sz.Concealment, sz.RouteFrom, sz.RouteTo, sz.Agency, sz.Ref}
			if err := sw.Write(rec); err != nil {
				return err
			}
		}
	}
	return sw.Flush()
}

// Where is the line and column, for fault.Describe.
func (e *LineError) Where() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Column)
	}
	return fmt.Sprintf("line %d", e.Line)
}
