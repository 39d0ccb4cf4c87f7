package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Memo keeps, for the rows of one table, what a computation needs of
// each row's JSON document, decoded once per version of the row: a
// figure over a year of records reads the rows' ids and versions, and
// decodes only the documents that changed since it last ran. The
// version is a column that every write of the row strictly increases
// (NextVersion), so a changed row is never taken for the one decoded.
type Memo[T any] struct {
	// Table is the table; its id, its version column and its doc.
	Table, Version string
	// Decode turns a row's document into what the computation keeps.
	Decode func(doc string) (T, error)

	mu   sync.Mutex
	rows map[string]memoRow[T]
}

type memoRow[T any] struct {
	version int64
	v       T
}

// DocMemo is a Memo of a table whose doc column is the JSON of a T, kept
// decoded as a *T (the figures only read it).
func DocMemo[T any](table string) *Memo[*T] {
	return &Memo[*T]{Table: table, Version: "updated_at", Decode: func(doc string) (*T, error) {
		var v T
		return &v, json.Unmarshal([]byte(doc), &v)
	}}
}

// NextVersion is the SQL for a version column's new value: the time
// given as the first and second argument (milliseconds), or one more
// than the row's version when that is not later, so that two writes in
// one millisecond still differ.
func NextVersion(column string) string {
	return "CASE WHEN ? > " + column + " THEN ? ELSE " + column + " + 1 END"
}

// Load returns the decoded rows that where (a condition on the table,
// with args) selects, in id order, decoding only the documents whose
// version changed since the last Load.
func (m *Memo[T]) Load(ctx context.Context, q Querier, where string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, `SELECT id, `+m.Version+` FROM `+m.Table+` WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", m.Table, err)
	}
	type idv struct {
		id string
		v  int64
	}
	list, err := Collect(rows, func(sc Scanner) (idv, error) {
		var r idv
		return r, sc.Scan(&r.id, &r.v)
	})
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.rows == nil {
		m.rows = map[string]memoRow[T]{}
	}
	var stale []string
	kept := make(map[string]memoRow[T], len(list))
	for _, r := range list {
		if have, ok := m.rows[r.id]; ok && have.version == r.v {
			kept[r.id] = have
		} else {
			stale = append(stale, r.id)
		}
	}
	m.mu.Unlock()
	fresh := map[string]memoRow[T]{}
	const batch = 500
	for i := 0; i < len(stale); i += batch {
		ids := stale[i:min(len(stale), i+batch)]
		args := make([]any, len(ids))
		for j, id := range ids {
			args[j] = id
		}
		rows, err := q.Query(ctx, `SELECT id, `+m.Version+`, doc FROM `+m.Table+` WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", m.Table, err)
		}
		if _, err := Collect(rows, func(sc Scanner) (struct{}, error) {
			var id, doc string
			var v int64
			if err := sc.Scan(&id, &v, &doc); err != nil {
				return struct{}{}, err
			}
			t, err := m.Decode(doc)
			if err != nil {
				return struct{}{}, fmt.Errorf("decoding %s %s: %w", m.Table, id, err)
			}
			fresh[id] = memoRow[T]{version: v, v: t}
			return struct{}{}, nil
		}); err != nil {
			return nil, err
		}
	}
	out := make([]T, 0, len(list))
	for _, r := range list {
		row, ok := fresh[r.id]
		if !ok {
			if row, ok = kept[r.id]; !ok {
				continue // deleted after the list was read
			}
		}
		kept[r.id] = row
		out = append(out, row.v)
	}
	m.mu.Lock()
	m.rows = kept // rows no longer listed are dropped
	m.mu.Unlock()
	return out, nil
}
