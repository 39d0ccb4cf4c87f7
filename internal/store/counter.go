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
// table of (name, last value, gen) rows, such as the link's envelope
// numbers per stream. Every number is written to the table in the
// transaction that uses it, so a number is never given twice nor
// skipped, whatever commits or rolls back, and whichever process of the
// node writes.
//
// Reading a row back for its next value would be a round trip on the
// writer's serial path for every number. So a Counter remembers the last
// value of each sequence this process used, numbers from memory, and
// writes the value back in the transaction's pipeline (ExecDeferred). Its
// memory stays true across processes: every write transaction has a
// number (writer_gen), each row the number of the transaction that last
// wrote it (its gen column, indexed), and a transaction begins, under the
// writers' lock and in the same round trip, by reading the rows other
// processes wrote since this process last looked (beginSteps).
//
// The write back checks what it assumed, that the row still holds the
// remembered value (the value column must be NOT NULL: a wrong guess
// writes NULL and fails), so a memory gone wrong, as after a write by a
// process of an earlier release that does not number its writes, costs
// the group a retry without the memory, never a number.
type Counter struct {
	next, guarded, news string

	mu    sync.Mutex
	seen  int64 // the memory holds every write of transactions up to this number
	last  map[string]int64
	reads atomic.Int64
	stale atomic.Int64
}

// maxRemembered bounds a Counter's memory; past it, the memory starts
// again (and fills with the sequences in use).
const maxRemembered = 1 << 16

// Counter returns the store's Counter over table, whose key column names
// a sequence, whose value column holds its last number, and whose gen
// column (BIGINT NOT NULL DEFAULT 0, indexed) the number of the
// transaction that last wrote the row. There is one Counter per table and
// store, however many services of the process number in it.
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
		next: `INSERT INTO ` + table + ` (` + key + `, ` + value + `, gen) VALUES (?, 1, ?)
			ON CONFLICT (` + key + `) DO UPDATE SET ` + value + ` = ` + table + `.` + value + ` + 1, gen = excluded.gen RETURNING ` + value,
		guarded: `UPDATE ` + table + ` SET ` + value + ` = CASE WHEN ` + value + ` = ? THEN CAST(? AS BIGINT) END, gen = ? WHERE ` + key + ` = ?`,
		news:    `SELECT ` + key + `, ` + value + ` FROM ` + table + ` WHERE gen > ?`,
		last:    map[string]int64{},
	}
}

// Next returns the next number of sequence name, written in tx.
func (c *Counter) Next(ctx context.Context, tx *Tx, name string) (int64, error) {
	// Numbers this transaction already gave, by earlier closures of its
	// group. A rolled-back savepoint forgets them (Tx.forgot), and the
	// memory of committed values then no longer describes the
	// transaction either.
	mine, _ := tx.Memo(c).(map[string]int64)
	prev, known := mine[name]
	if !known && !tx.forgot {
		prev, known = c.remembered(name)
	}
	var n int64
	if known {
		n = prev + 1
		if err := tx.ExecDeferred(ctx, c.guarded, prev, n, tx.gen, name); err != nil {
			if notNull(err) {
				c.stale.Add(1)
				c.forget()
				return 0, retryErr{fmt.Errorf("numbering %s: another process numbered it unseen: %w", name, err)}
			}
			return 0, fmt.Errorf("numbering %s: %w", name, err)
		}
	} else {
		c.reads.Add(1)
		var err error
		if n, err = tx.Int64(ctx, c.next, name, tx.gen); err != nil {
			return 0, fmt.Errorf("numbering %s: %w", name, err)
		}
	}
	if mine == nil {
		mine = map[string]int64{}
		tx.SetMemo(c, mine)
	}
	mine[name] = n
	tx.AfterCommit(func() { c.remember(name, n) })
	return n, nil
}

// Reads counts the numbers read from the table rather than from memory.
func (c *Counter) Reads() int64 { return c.reads.Load() }

// Stale counts the numbers this process remembered wrongly (each cost its
// group a retry). Only a write that does not go through a Counter makes
// one.
func (c *Counter) Stale() int64 { return c.stale.Load() }

func (c *Counter) remembered(name string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.last[name]
	return n, ok
}

// remember keeps name's committed value n.
func (c *Counter) remember(name string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.last) >= maxRemembered {
		clear(c.last)
	}
	c.last[name] = n
}

func (c *Counter) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.last)
}

// since returns the transaction number after which other processes'
// writes are news to this Counter; none are when it remembers nothing.
func (c *Counter) since() (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen, len(c.last) > 0
}

// learn takes in one row of news: a sequence's value as committed by a
// transaction since the last look. Only the sequences remembered matter.
func (c *Counter) learn(r rowScanner) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for r.Next() {
		var name string
		var n int64
		if err := r.Scan(&name, &n); err != nil {
			return err
		}
		if _, ok := c.last[name]; ok {
			c.last[name] = n
		}
	}
	return nil
}

// caughtUp records that the memory holds every write of transactions up
// to number gen.
func (c *Counter) caughtUp(gen int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = gen
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
