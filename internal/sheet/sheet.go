// Package sheet writes CSV files that are safe to open in a spreadsheet:
// a cell that starts like a formula (=, +, -, @, or a tab or carriage
// return before one) is written with a leading apostrophe, so the
// spreadsheet shows it as text instead of running it (OWASP, "CSV
// Injection").
package sheet

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// Writer is a csv.Writer that neutralises formulas.
type Writer struct {
	w   *csv.Writer
	buf []string
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record.
func (w *Writer) Write(rec []string) error {
	w.buf = w.buf[:0]
	for _, c := range rec {
		w.buf = append(w.buf, Cell(c))
	}
	if err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// Flush writes what is buffered and reports a write error.
func (w *Writer) Flush() error {
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// Cell is c as a spreadsheet reads it without running it. A number
// ("-12.5") is left alone: it is a value, not a formula.
func Cell(c string) string {
	if c == "" {
		return c
	}
	switch c[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := strconv.ParseFloat(c, 64); err == nil {
			return c
		}
		return "'" + c
	}
	return c
}
