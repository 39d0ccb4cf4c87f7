package trustlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"puente/internal/store"
)

// Stored is one of our checkpoints as kept in the store.
type Stored struct {
	Size       int64
	Root       []byte
	Note       []byte
	CreatedAt  time.Time
	Cosigned   []byte // nil until the partner witnessed it
	CosignedAt time.Time
}

// SaveCheckpoint keeps one of our signed checkpoints.
func SaveCheckpoint(ctx context.Context, tx *store.Tx, c *Checkpoint) error {
	_, err := tx.Exec(ctx, `INSERT INTO log_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING`,
		c.Size, c.Root[:], c.Note, store.Now())
	if err != nil {
		return fmt.Errorf("storing checkpoint %d: %w", c.Size, err)
	}
	return nil
}

// SaveCosigned records the partner's cosignature on our checkpoint.
func SaveCosigned(ctx context.Context, tx *store.Tx, size int64, cosigned []byte) error {
	_, err := tx.Exec(ctx, `UPDATE log_checkpoints SET cosigned = ?, cosigned_at = ? WHERE size = ?`, cosigned, store.Now(), size)
	if err != nil {
		return fmt.Errorf("storing the cosignature of checkpoint %d: %w", size, err)
	}
	return nil
}

const storedCols = `size, root, note, created_at, cosigned, cosigned_at`

func scanStored(r store.Scanner) (*Stored, error) {
	var s Stored
	var c, cs int64
	if err := r.Scan(&s.Size, &s.Root, &s.Note, &c, &s.Cosigned, &cs); err != nil {
		return nil, err
	}
	s.CreatedAt = store.Time(c)
	if cs != 0 {
		s.CosignedAt = store.Time(cs)
	}
	return &s, nil
}

// LatestCheckpoint is our newest signed checkpoint, or nil.
func LatestCheckpoint(ctx context.Context, q store.Querier) (*Stored, error) {
	return oneStored(ctx, q, `SELECT `+storedCols+` FROM log_checkpoints ORDER BY size DESC LIMIT 1`)
}

// LatestCosigned is our newest checkpoint the partner has witnessed, or nil.
func LatestCosigned(ctx context.Context, q store.Querier) (*Stored, error) {
	return oneStored(ctx, q, `SELECT `+storedCols+` FROM log_checkpoints WHERE cosigned IS NOT NULL ORDER BY size DESC LIMIT 1`)
}

func oneStored(ctx context.Context, q store.Querier, sql string, args ...any) (*Stored, error) {
	s, err := scanStored(q.QueryRow(ctx, sql, args...))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	return s, nil
}

// Checkpoints lists our checkpoints of at least size from, oldest first.
func Checkpoints(ctx context.Context, q store.Querier, from int64) ([]*Stored, error) {
	rows, err := q.Query(ctx, `SELECT `+storedCols+` FROM log_checkpoints WHERE size >= ? ORDER BY size`, from)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	defer rows.Close()
	var out []*Stored
	for rows.Next() {
		s, err := scanStored(rows)
		if err != nil {
			return nil, fmt.Errorf("reading checkpoints: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Witnessed is a partner checkpoint we verified and cosigned.
type Witnessed struct {
	Size        int64
	Root        []byte
	Note        []byte
	WitnessedAt time.Time
}

// LatestWitnessed is the newest partner checkpoint we cosigned, or nil.
func LatestWitnessed(ctx context.Context, q store.Querier) (*Witnessed, error) {
	var w Witnessed
	var at int64
	err := q.QueryRow(ctx, `SELECT size, root, note, witnessed_at FROM log_witnessed ORDER BY size DESC LIMIT 1`).Scan(&w.Size, &w.Root, &w.Note, &at)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading witnessed checkpoints: %w", err)
	}
	w.WitnessedAt = store.Time(at)
	return &w, nil
}

// SaveWitnessed keeps a partner checkpoint we verified.
func SaveWitnessed(ctx context.Context, tx *store.Tx, c *Checkpoint) error {
	_, err := tx.Exec(ctx, `INSERT INTO log_witnessed (size, root, note, witnessed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (size) DO UPDATE SET witnessed_at = excluded.witnessed_at`, c.Size, c.Root[:], c.Note, store.Now())
	if err != nil {
		return fmt.Errorf("storing the partner's checkpoint %d: %w", c.Size, err)
	}
	return nil
}

// Alarm kinds.
const (
	AlarmFork         = "fork"          // two checkpoints that do not agree
	AlarmRollback     = "rollback"      // a smaller tree than one already seen
	AlarmBadSignature = "bad_signature" // a checkpoint or cosignature that does not verify
	AlarmStalled      = "stalled"       // the partner's log stopped while messages flow
	AlarmBulkShare    = "bulk_share"    // the partner used a large share of the bulk matching quota in an hour
	AlarmReported     = "reported"      // the partner raised an alarm about our log
)

// Alarm is one raised alarm.
type Alarm struct {
	ID       int64     `json:"id"`
	RaisedAt time.Time `json:"raised_at"`
	Kind     string    `json:"kind"`
	Origin   string    `json:"origin"` // "self" (raised here) or the partner's code
	Detail   string    `json:"detail"`
	Evidence []byte    `json:"evidence,omitempty"`
	AckedAt  time.Time `json:"acked_at,omitzero"`
	AckedBy  string    `json:"acked_by,omitempty"`
}

// SaveAlarm stores an alarm with its evidence.
func SaveAlarm(ctx context.Context, tx *store.Tx, a *Alarm) error {
	if a.Evidence == nil {
		a.Evidence = []byte{} // the column holds bytes, never NULL
	}
	id, err := tx.InsertID(ctx, `INSERT INTO log_alarms (raised_at, kind, origin, detail, evidence) VALUES (?, ?, ?, ?, ?)`,
		store.Now(), a.Kind, a.Origin, a.Detail, a.Evidence)
	if err != nil {
		return fmt.Errorf("storing an alarm: %w", err)
	}
	a.ID = id
	return nil
}

// Alarms lists alarms, newest first; open only leaves out acknowledged ones.
func Alarms(ctx context.Context, q store.Querier, open bool, limit int) ([]Alarm, error) {
	cond := ""
	if open {
		cond = "WHERE acked_at = 0"
	}
	rows, err := q.Query(ctx, `SELECT id, raised_at, kind, origin, detail, evidence, acked_at, acked_by FROM log_alarms `+cond+` ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("reading alarms: %w", err)
	}
	defer rows.Close()
	var out []Alarm
	for rows.Next() {
		var a Alarm
		var r, ack int64
		if err := rows.Scan(&a.ID, &r, &a.Kind, &a.Origin, &a.Detail, &a.Evidence, &ack, &a.AckedBy); err != nil {
			return nil, fmt.Errorf("reading alarms: %w", err)
		}
		a.RaisedAt = store.Time(r)
		if ack != 0 {
			a.AckedAt = store.Time(ack)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AckAlarm marks an alarm acknowledged by who; the evidence stays.
func AckAlarm(ctx context.Context, tx *store.Tx, id int64, who string) error {
	res, err := tx.Exec(ctx, `UPDATE log_alarms SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at = 0`, store.Now(), who, id)
	if err != nil {
		return fmt.Errorf("acknowledging alarm %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("alarm %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// Row is one log entry as stored, for browsing and export.
type Row struct {
	Index  int64     `json:"index"`
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Actor  string    `json:"actor"`
	Object string    `json:"object"`
	Data   []byte    `json:"data"`
	Hashes []byte    `json:"hashes"`
}

// Filter selects log rows.
type Filter struct {
	Kind   string // exact kind, or a prefix ending in "."
	Actor  string // substring
	Object string // substring
	Since  time.Time
	From   int64 // first index
	Before int64 // indexes below this; 0 means no bound
	Limit  int
	Desc   bool
}

// Rows reads log rows matching f.
func Rows(ctx context.Context, q store.Querier, f Filter) ([]Row, error) {
	where, args := "idx >= ?", []any{f.From}
	if f.Before > 0 {
		where += " AND idx < ?"
		args = append(args, f.Before)
	}
	if f.Kind != "" {
		if f.Kind[len(f.Kind)-1] == '.' {
			where += " AND kind LIKE ?"
			args = append(args, f.Kind+"%")
		} else {
			where += " AND kind = ?"
			args = append(args, f.Kind)
		}
	}
	if f.Actor != "" {
		where += " AND actor LIKE ?"
		args = append(args, "%"+f.Actor+"%")
	}
	if f.Object != "" {
		where += " AND object LIKE ?"
		args = append(args, "%"+f.Object+"%")
	}
	if !f.Since.IsZero() {
		where += " AND at >= ?"
		args = append(args, f.Since.UnixMilli())
	}
	order := "ASC"
	if f.Desc {
		order = "DESC"
	}
	lim := ""
	if f.Limit > 0 {
		lim = " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := q.Query(ctx, `SELECT idx, at, kind, actor, object, data, hashes FROM log_entries WHERE `+where+` ORDER BY idx `+order+lim, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the log: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var at int64
		if err := rows.Scan(&r.Index, &at, &r.Kind, &r.Actor, &r.Object, &r.Data, &r.Hashes); err != nil {
			return nil, fmt.Errorf("reading the log: %w", err)
		}
		r.At = store.Time(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
