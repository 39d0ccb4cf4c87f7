package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Counter hands out the successive numbers of named sequences kept in a
// table of (name, last value) rows, such as the link's envelope numbers
// per stream. Every number is written to the table in the transaction
// that uses it, so a number is never given twice nor skipped, whatever
// commits or rolls back, and whichever process of the node writes.
//
// Reading a row back for its next value is a round trip on the writer's
// serial path for every number. So a Counter remembers the last value of
// each sequence that this process committed and, while no other process
// has written to the store since this process's last commit (see
// Tx.run), numbers from memory and writes the value back in the
// transaction's pipeline (ExecDeferred). The write back checks what it
// assumed, that the row still holds the remembered value (the value
// column must be NOT NULL: a wrong guess writes NULL and fails), so a
// memory gone wrong, such as after a write by a process of an earlier
// release that does not count its transactions, costs the group a retry
// without the memory, never a number.
type Counter struct {
	next, guarded string

	mu    sync.Mutex
	run   int64 // the store's run the remembered values belong to
	last  map[string]int64
	stale atomic.Int64
}

// Counter returns the store's Counter over table, whose key column names
// a sequence and whose value column holds its last number: one per table
// and store, however many services of the process number in it.
func (db *DB) Counter(table, key, value string) *Counter {
	k := [3]string{table, key, value}
	if c, ok := db.counters.Load(k); ok {
		return c.(*Counter)
	}
	c, _ := db.counters.LoadOrStore(k, newCounter(table, key, value))
	return c.(*Counter)
}

func newCounter(table, key, value string) *Counter {
	return &Counter{
		next: `INSERT INTO ` + table + ` (` + key + `, ` + value + `) VALUES (?, 1)
			ON CONFLICT (` + key + `) DO UPDATE SET ` + value + ` = ` + table + `.` + value + ` + 1 RETURNING ` + value,
		guarded: `UPDATE ` + table + ` SET ` + value + ` = CASE WHEN ` + value + ` = ? THEN CAST(? AS BIGINT) END WHERE ` + key + ` = ?`,
		last:    map[string]int64{},
	}
}

// Next returns the next number of sequence name, written in tx.
func (c *Counter) Next(ctx context.Context, tx *Tx, name string) (int64, error) {
	// Numbers this transaction already gave, by earlier closures of its
	// group; a rolled-back savepoint forgets them (Tx.forgot), and the
	// memory of committed values then no longer describes the
	// transaction either.
	mine, _ := tx.Memo(c).(map[string]int64)
	prev, known := mine[name]
	if !known && !tx.forgot {
		prev, known = c.remembered(tx.run, name)
	}
	var n int64
	if known {
		n = prev + 1
		if err := tx.ExecDeferred(ctx, c.guarded, prev, n, name); err != nil {
			if notNull(err) {
				c.stale.Add(1)
				c.forget()
				return 0, retryErr{fmt.Errorf("numbering %s: another process numbered it since this one remembered: %w", name, err)}
			}
			return 0, fmt.Errorf("numbering %s: %w", name, err)
		}
	} else {
		var err error
		if n, err = tx.Int64(ctx, c.next, name); err != nil {
			return 0, fmt.Errorf("numbering %s: %w", name, err)
		}
	}
	if mine == nil {
		mine = map[string]int64{}
		tx.SetMemo(c, mine)
	}
	mine[name] = n
	run := tx.run
	tx.AfterCommit(func() { c.remember(run, name, n) })
	return n, nil
}

// remembered returns the last committed value of name, if this process
// knows it for run.
func (c *Counter) remembered(run int64, name string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run != run {
		return 0, false
	}
	n, ok := c.last[name]
	return n, ok
}

// remember keeps name's committed value n, read or written in run; a
// newer run forgets what older ones knew.
func (c *Counter) remember(run int64, name string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run != run {
		if run < c.run {
			return
		}
		clear(c.last)
		c.run = run
	}
	c.last[name] = n
}

// Stale counts the numbers this process remembered wrongly (each cost its
// group a retry). Only a write outside Counter, or by a process that does
// not count its transactions, makes one.
func (c *Counter) Stale() int64 { return c.stale.Load() }

func (c *Counter) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.last)
}

// notNull says err is a NOT NULL constraint's failure.
func notNull(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_NOTNULL
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23502"
}
