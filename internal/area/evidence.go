package area

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// MaxEvidence caps the entries exported for one kind; Truncated says
// when a kind had more.
const MaxEvidence = 50_000

// Evidence is the scorecard as an auditor exports it: every area's
// table, and for each figure the kinds of log entries behind it, with
// those entries as the node's transparency log holds them (index, time,
// canonical text) under a checkpoint the node signed at the export, so
// each entry can be proved against the log (puente audit export, puente
// verify).
type Evidence struct {
	Node       string                     `json:"node"`
	ExportedAt time.Time                  `json:"exported_at"`
	Checkpoint string                     `json:"checkpoint"` // the signed note
	Tables     []*Table                   `json:"tables"`
	Figures    []EvidenceFigure           `json:"figures"`
	Entries    map[string][]EvidenceEntry `json:"entries"` // by kind
	Truncated  map[string]bool            `json:"truncated,omitempty"`
	kinds      map[string]bool
}

// EvidenceFigure names a figure and the kinds of entries behind it.
type EvidenceFigure struct {
	Area  string   `json:"area"`
	Label string   `json:"label"`
	Kinds []string `json:"kinds"`
}

// EvidenceEntry is one log entry.
type EvidenceEntry struct {
	Index  int64     `json:"index"`
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Actor  string    `json:"actor"`
	Object string    `json:"object"`
	Text   string    `json:"text"` // the canonical entry, as hashed into the log
}

// ExportEvidence is the scorecard of every area h holds that u may see,
// with the log entries behind each figure. Only auditors export it.
func ExportEvidence(ctx context.Context, h Holder, u *auth.User, node string, db *store.DB, log *trustlog.Log) (*Evidence, error) {
	if !u.Can(auth.AuditLog) {
		return nil, fmt.Errorf("the scorecard's evidence: %w", fault.ErrForbidden)
	}
	tables, err := Reciprocity(ctx, h, u)
	if err != nil {
		return nil, err
	}
	ev := &Evidence{Node: node, ExportedAt: time.Now().UTC().Truncate(time.Second), Tables: tables, Entries: map[string][]EvidenceEntry{},
		Truncated: map[string]bool{}, kinds: map[string]bool{}}
	for _, t := range tables {
		for _, r := range t.Rows {
			kinds := r.Evidence
			if len(kinds) == 0 {
				kinds = []string{t.Area + "."} // every entry of the area
			}
			ev.Figures = append(ev.Figures, EvidenceFigure{Area: t.Area, Label: r.Label, Kinds: kinds})
			for _, k := range kinds {
				ev.kinds[k] = true
			}
		}
	}
	// The checkpoint first: the log only grows, so the entries below its
	// size are the ones it covers, read after it or not.
	q := db.Read()
	cp, err := log.SignAt(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("signing the export's checkpoint: %w", err)
	}
	ev.Checkpoint = string(cp.Note)
	for _, k := range slices.Sorted(maps.Keys(ev.kinds)) {
		rows, err := trustlog.Rows(ctx, q, trustlog.Filter{Kind: k, Before: cp.Size, Limit: MaxEvidence + 1})
		if err != nil {
			return nil, fmt.Errorf("exporting the scorecard's evidence: %w", err)
		}
		if len(rows) > MaxEvidence {
			rows, ev.Truncated[k] = rows[:MaxEvidence], true
		}
		list := make([]EvidenceEntry, 0, len(rows))
		for _, r := range rows {
			list = append(list, EvidenceEntry{Index: r.Index, At: r.At, Kind: r.Kind, Actor: r.Actor, Object: r.Object, Text: string(r.Data)})
		}
		ev.Entries[k] = list
	}
	return ev, nil
}
