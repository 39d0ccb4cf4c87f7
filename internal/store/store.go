// Package store is puente's one store: SQLite by default, PostgreSQL in
// production. Both speak the same schema, migrated per dialect by embedded
// goose migrations, and domain packages write portable SQL with '?'
// placeholders that the store rewrites for PostgreSQL.
//
// Transactions are closures (see ReadWrite). Every change a domain makes, its
// outbox envelope and its events happen inside one closure, so they commit or
// vanish together.
package store

import (
	"encoding/json"
	"os"
	"puente/internal/fault"

	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// ErrNotFound is returned when a looked-up row does not exist. Callers map
// it to 404 or to a "no such …" message.
var ErrNotFound = fault.ErrNotFound

// ErrRefused is returned when the engine refuses a value it can never
// hold, whatever the load: a constraint other than uniqueness, a value of
// the wrong type or too big, or text it cannot encode (PostgreSQL refuses
// NUL in text). Retrying the same write never succeeds. Uniqueness
// conflicts are ErrConflict, which may be a race worth retrying.
var ErrRefused = errors.New("the store refuses this value")

// ErrConflict is returned when a write breaks a uniqueness rule. Callers map
// it to 409.
var ErrConflict = fmt.Errorf("already exists: %w", fault.ErrConflict)

// DB is an open, migrated store.
type DB struct {
	dialect Dialect
	lock    *os.File // the SQLite file's lock (Options.Exclusive), released by Close
	w       *sql.DB  // the single writer for SQLite; the pool for PostgreSQL
	r       *sql.DB  // readers
	// stmts caches prepared statements per pool and query text: parsing
	// SQL is a large share of the cost of a small transaction.
	stmts sync.Map
	// counters are the store's Counters, by table (see Counter).
	counters sync.Map
	// atBegin are the reads every write transaction begins with
	// (ReadAtBegin), by key.
	atBegin sync.Map
	// writes feeds the group-commit writer (see ReadWrite).
	writes chan *writeReq
	closed chan struct{}
	wg     sync.WaitGroup
	// cmu makes Close wait for sends already under way, and refuse new
	// ones, so no request is left in the queue unanswered.
	cmu      sync.RWMutex
	isClosed bool
}

type stmtKey struct {
	pool *sql.DB
	q    string
}

// prepared returns the cached statement for q on pool, preparing it once.
func (db *DB) prepared(ctx context.Context, pool *sql.DB, q string) (*sql.Stmt, error) {
	k := stmtKey{pool, q}
	if st, ok := db.stmts.Load(k); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := pool.PrepareContext(ctx, rebind(db.dialect, q))
	if err != nil {
		return nil, classify(err)
	}
	if prev, loaded := db.stmts.LoadOrStore(k, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// Options tune how a store is opened.
type Options struct {
	// SQLiteSynchronous is the SQLite "synchronous" pragma: "normal" (the
	// default: a process crash loses nothing, a power cut may lose the last
	// commits) or "full" (every commit is fsynced).
	SQLiteSynchronous string
	// Exclusive, for an SQLite store, holds a lock on the file for as long
	// as the store is open, so a second process serving the same file
	// refuses to start (ErrInUse): SQLite is one process; replicas share
	// PostgreSQL. Administration commands open the store without it.
	Exclusive bool
}

// ErrInUse is an SQLite store another process holds (Options.Exclusive).
var ErrInUse = errors.New("another puente process is serving this SQLite store; SQLite serves one process (replicas share a PostgreSQL database)")

// Open opens the store named by dsn: a postgres:// or postgresql:// URL, or
// a path to an SQLite file. It migrates the schema to the newest version.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	var db *DB
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(ctx, dsn)
	} else {
		var lock *os.File
		if opt.Exclusive {
			if lock, err = lockFile(dsn + ".lock"); err != nil {
				return nil, fmt.Errorf("%s: %w", dsn, err)
			}
		}
		db, err = openSQLite(ctx, dsn, opt)
		if err != nil && lock != nil {
			lock.Close()
		}
		if err == nil {
			db.lock = lock
		}
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ErrExposed is returned for an SQLite file that others than its owner
// may read: it holds session hashes, OPRF keys and all intelligence.
var ErrExposed = errors.New("the store file can be read by others than its owner")

// privateFile creates path with mode 0600 if it does not exist, and
// refuses an existing one that group or others may read or write. SQLite
// gives its -wal and -shm files the database file's mode.
func privateFile(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("creating the store %s: %w", path, err)
		}
		return f.Close()
	}
	if err != nil {
		return fmt.Errorf("reading the store %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; run chmod 600 on it (and on its -wal and -shm files)", ErrExposed, path, st.Mode().Perm())
	}
	return nil
}

func openSQLite(ctx context.Context, path string, opt Options) (*DB, error) {
	if path != ":memory:" && !strings.HasPrefix(path, "file:") {
		if err := privateFile(path); err != nil {
			return nil, err
		}
	}
	sync := "NORMAL"
	if strings.EqualFold(opt.SQLiteSynchronous, "full") {
		sync = "FULL"
	}
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(" + sync + ")"
	// The writer keeps a larger page cache than SQLite's 2 MiB default:
	// appends to the transparency log touch several indexes that outgrow
	// it quickly. Not much larger, though: when a B-tree page split
	// reorders its pages, SQLite parks one under a page number near 1 GiB,
	// and the commit that follows then sweeps the whole page cache
	// (pcache1TruncateUnsafe), so every commit pays for the cache's size.
	// At 64 MiB that sweep was 2.5% of all the link's CPU, on the
	// writer's path (docs/benchmarks.md); 16 MiB appends to a 1M-entry log
	// as fast. Readers get 16 MiB each.
	//
	// The write-ahead log is copied back into the database every 4,000
	// pages (16 MiB) rather than SQLite's 1,000: hot pages (the log's
	// tail, the outbox, stream positions) are rewritten by nearly every
	// commit, and a longer stretch copies each of them once instead of
	// four times. That is 4-5% more link throughput; each copy-back takes
	// longer, which shows in the p99 at 500 envelopes/s (about 10 -> 25 ms).
	w, err := sql.Open("sqlite", base+"&_pragma=cache_size(-16384)&_pragma=wal_autocheckpoint(4000)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	// One writer goroutine (see ReadWrite): SQLite serialises writers
	// anyway, and an in-process queue beats retrying "database is locked".
	// The second connection lets statements be prepared while a
	// transaction runs.
	w.SetMaxOpenConns(2)
	w.SetMaxIdleConns(2)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=cache_size(-16384)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening sqlite store %s for reading: %w", path, err)
	}
	// Keep every reader open: a connection that is closed and reopened
	// costs a schema parse and fresh prepared statements.
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	r.SetConnMaxLifetime(0)
	return startWriter(&DB{dialect: SQLite, w: w, r: r}), nil
}

// startWriter starts db's group-commit writer (see ReadWrite).
func startWriter(db *DB) *DB {
	db.writes, db.closed = make(chan *writeReq, 256), make(chan struct{})
	db.wg.Add(1)
	go db.writer()
	return db
}

// IdleInTransaction is how long PostgreSQL lets one of the store's
// sessions sit inside a transaction without a statement before it ends
// the session. A write transaction holds the writers' lock of every
// process on the store (WriterLock); a process that stops in the middle
// of one (a replica paused, cut off from the network) must not hold every
// other replica's writes for longer than this. The writer's closures
// never wait on anything but the store, so a healthy transaction is never
// idle this long.
const IdleInTransaction = 5 * time.Second

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("opening postgres store: %w", err)
	}
	cfg.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(IdleInTransaction.Milliseconds(), 10)
	p := stdlib.OpenDB(*cfg)
	p.SetMaxOpenConns(16)
	p.SetMaxIdleConns(16)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("opening postgres store: %w", err)
	}
	return startWriter(&DB{dialect: Postgres, w: p, r: p}), nil
}

func (db *DB) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return fmt.Errorf("loading migrations: %w", err)
	}
	gd := goose.DialectSQLite3
	if db.dialect == Postgres {
		gd = goose.DialectPostgres
	}
	var opts []goose.ProviderOption
	if db.dialect == Postgres {
		// Replicas starting together migrate once: the first holds a
		// session lock on the schema while it migrates, the others wait for
		// it and then find nothing to do.
		var schema string
		if err := db.w.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return fmt.Errorf("reading the store's schema: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("puente migrations " + schema))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 600))
		if err != nil {
			return fmt.Errorf("preparing the migrations' lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db.w, sub, opts...)
	if err != nil {
		return fmt.Errorf("preparing migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating the %s store: %w", db.dialect, err)
	}
	return nil
}

// Dialect reports which engine this store runs on.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the store.
func (db *DB) Close() error {
	db.cmu.Lock()
	was := db.isClosed
	db.isClosed = true
	db.cmu.Unlock()
	if was {
		return nil
	}
	close(db.closed)
	db.wg.Wait()
	db.stmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	if db.lock != nil {
		err = errors.Join(err, db.lock.Close()) // closing the file releases the lock
	}
	return err
}

// Ping checks that the store answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store does not answer: %w", err)
	}
	return nil
}

// Querier runs portable SQL. Both *Tx and the read view of *DB are Queriers.
type Querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *Row
	Dialect() Dialect
}

// Row is one queried row; Scan reports a missing row as ErrNotFound.
type Row struct {
	r   *sql.Row
	err error
}

// Scan copies the row's columns into dest.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return classify(r.r.Scan(dest...))
}

// Tx is a read-write transaction handed to a ReadWrite closure.
type Tx struct {
	// On SQLite statements run through tx; on PostgreSQL through conn,
	// the session the transaction runs on, which the store begins and
	// commits itself so that BEGIN and COMMIT ride pipelines too. ex is
	// whichever of the two runs statements.
	tx          *sql.Tx
	conn        *sql.Conn
	ex          execer
	db          *DB
	dialect     Dialect
	afterCommit []func()
	savepoint   int
	memo        map[any]any
	// pending are the statements ExecDeferred queued and not yet sent;
	// isolated says the group runs each closure in a savepoint, where
	// they are sent at once.
	pending  []pendingStmt
	isolated bool
	// forgot says a rolled-back savepoint forgot the memos.
	forgot bool
	// gen is the transaction's number (writer_gen, see beginSteps);
	// atBegin what the reads of ReadAtBegin found.
	gen     int64
	atBegin map[any]int64
}

type pendingStmt struct {
	q    string
	args []any
}

// Memo returns what SetMemo kept under key in this transaction, or nil.
// A memo describes the transaction's own writes (the log's size, say), so
// rolling back a savepoint forgets every memo.
func (t *Tx) Memo(key any) any { return t.memo[key] }

// SetMemo keeps v under key until the transaction ends or a savepoint is
// rolled back.
func (t *Tx) SetMemo(key, v any) {
	if t.memo == nil {
		t.memo = map[any]any{}
	}
	t.memo[key] = v
}

func (t *Tx) Dialect() Dialect { return t.dialect }

// WriterLock is the arguments of the PostgreSQL advisory lock that every
// write transaction takes first (pg_advisory_xact_lock): one write at a
// time on a node's store, across all the processes that share it (the
// replicas of the node, the command-line tools beside it). The lock is
// the schema's own: advisory locks are per database, and nodes that share
// a database in separate schemas must not queue on each other.
//
// Taking it before anything else makes each transaction see everything
// committed before it (PostgreSQL reads at READ COMMITTED take a new
// snapshot per statement), so read-then-write closures behave exactly as
// they do on SQLite, whose writers are serial anyway; and the
// transparency log, whose every append builds on the last, stays one
// line.
const WriterLock = `7340121, hashtext(current_schema())`

// execer is what *sql.Tx and *sql.Conn both are.
type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// stmt binds the cached statement for q to this transaction.
func (t *Tx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	st, err := t.db.prepared(ctx, t.db.w, q)
	if err != nil {
		return nil, err
	}
	return t.tx.StmtContext(ctx, st), nil
}

// PostgreSQL goes straight through: pgx caches prepared statements per
// connection itself, and preparing on the pool could wait for a connection
// that every open transaction holds.

// stmtCtx is the context a statement in a write transaction runs under. A
// statement of a caller whose context has ended fails before it starts,
// but one that has started is not interrupted: the transaction is shared
// by the closures of many callers (see ReadWrite), and cancelling one
// caller's statement would abort it for all of them on PostgreSQL. On
// SQLite a cancellable context also makes the driver start a watcher
// goroutine for every statement, which cost more than many of the
// statements.
func (t *Tx) stmtCtx(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return nil, err
	}
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	if t.dialect == Postgres {
		res, err := t.ex.ExecContext(ctx, rebind(t.dialect, q), args...)
		return res, classify(err)
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	return res, classify(err)
}

func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return nil, err
	}
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	if t.dialect == Postgres {
		rows, err := t.ex.QueryContext(ctx, rebind(t.dialect, q), args...)
		return rows, classify(err)
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, classify(err)
}

func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *Row {
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return &Row{err: err}
	}
	if err := t.flush(ctx); err != nil {
		return &Row{err: err}
	}
	if t.dialect == Postgres {
		return &Row{r: t.ex.QueryRowContext(ctx, rebind(t.dialect, q), args...)}
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return &Row{err: err}
	}
	return &Row{r: st.QueryRowContext(ctx, args...)}
}

// ExecDeferred runs a statement whose result nobody reads (an INSERT of a
// new row, an UPDATE whose count does not matter) later in the
// transaction: on PostgreSQL the statements it queues are sent together,
// as one pipeline (a pgx batch: one round trip), before the
// transaction's next other statement or its commit. On SQLite, and when
// the group runs each closure in a savepoint, it runs at once.
//
// Its error reaches the caller late and plain: a failing deferred
// statement fails the statement that sends it (errDeferredFailed, which
// matches none of ErrConflict, ErrRefused or ErrNotFound), and the group
// then runs again with each closure in a savepoint and every deferred
// statement sent at once, so the closure that owns it gets its own error
// as Exec would have returned it. Use Exec where the caller must react to
// a statement's failure.
func (t *Tx) ExecDeferred(ctx context.Context, q string, args ...any) error {
	if t.dialect != Postgres || t.isolated || t.conn == nil {
		_, err := t.Exec(ctx, q, args...)
		return err
	}
	if _, err := t.stmtCtx(ctx); err != nil {
		return err
	}
	t.pending = append(t.pending, pendingStmt{rebind(t.dialect, q), args})
	if len(t.pending) >= maxPending {
		return t.flush(ctx)
	}
	return nil
}

// maxPending bounds the statements one pipeline carries.
const maxPending = 256

// errDeferredFailed marks the failure of a statement queued by
// ExecDeferred.
var errDeferredFailed = errors.New("a deferred statement of this transaction failed")

// deferredErr is a deferred statement's failure as the statement that
// sent it reports it: errDeferredFailed, and none of the sentinels its
// cause would be (it may not be that statement's closure's).
type deferredErr struct{ cause error }

func (e deferredErr) Error() string        { return errDeferredFailed.Error() + ": " + e.cause.Error() }
func (e deferredErr) Is(target error) bool { return target == errDeferredFailed }

// flush sends the deferred statements as one pipeline. Like every
// statement of a write transaction, it is not interrupted once started
// (stmtCtx).
func (t *Tx) flush(ctx context.Context) error {
	if len(t.pending) == 0 {
		return nil
	}
	_, err := t.pipeline(ctx, "", nil, nil)
	return err
}

// pipeline sends the deferred statements, and then q unless it is empty,
// as one pgx batch on the transaction's session, and reads q's row with
// scan. err is a deferred statement's failure (deferredErr) or the
// session's; own is q's.
func (t *Tx) pipeline(ctx context.Context, q string, args []any, scan func(pgx.Row) error) (own, err error) {
	b := &pgx.Batch{}
	for _, p := range t.pending {
		b.Queue(p.q, p.args...)
	}
	deferred := len(t.pending)
	t.pending = t.pending[:0]
	if q != "" {
		b.Queue(rebind(t.dialect, q), args...)
	}
	err = t.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the PostgreSQL driver connection is a %T", dc)
		}
		br := c.Conn().SendBatch(context.WithoutCancel(ctx), b)
		for range deferred {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return deferredErr{err}
			}
		}
		if q != "" {
			own = scan(br.QueryRow())
		}
		return br.Close()
	})
	if err != nil && !errors.Is(err, errDeferredFailed) && own == nil {
		err = deferredErr{err}
	}
	return own, err
}

// commitPipeline sends the deferred statements and COMMIT as one pgx
// batch. A deferred statement's failure is a deferredErr (the group then
// runs again, with savepoints); any failure from the COMMIT on is not,
// unlike pipeline's: the transaction may have committed, and running
// its group again would write it twice.
func (t *Tx) commitPipeline() error {
	b := &pgx.Batch{}
	for _, p := range t.pending {
		b.Queue(p.q, p.args...)
	}
	deferred := len(t.pending)
	t.pending = t.pending[:0]
	b.Queue("COMMIT")
	return t.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the PostgreSQL driver connection is a %T", dc)
		}
		br := c.Conn().SendBatch(context.Background(), b)
		for range deferred {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				var pe *pgconn.PgError
				if !errors.As(err, &pe) {
					// Not the statement's own failure (which stops the
					// batch before its COMMIT) but the session's: the
					// COMMIT may have run.
					return err
				}
				return deferredErr{err}
			}
		}
		tag, err := br.Exec()
		if err == nil && tag.String() != "COMMIT" {
			// PostgreSQL answers COMMIT in a failed transaction with
			// ROLLBACK, not with an error.
			err = fmt.Errorf("the transaction was rolled back (%s)", tag)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// InsertID runs an INSERT into a table whose key column is "id" and returns
// the new id, portably (RETURNING works on both engines).
func (t *Tx) InsertID(ctx context.Context, q string, args ...any) (int64, error) {
	return t.Int64(ctx, q+" RETURNING id", args...)
}

// NextIDs reserves n ids of table's "id" key, in increasing order, for rows
// the transaction will insert with them (so that an id can be written
// into something signed before its row is written). On PostgreSQL they
// come from the column's sequence (one statement for all; an id reserved
// by a transaction that rolls back is never used); on SQLite, whose writes
// are serial, they follow the table's AUTOINCREMENT counter, and the
// rows must be inserted before the next NextIDs of the same table.
func (t *Tx) NextIDs(ctx context.Context, table string, n int) ([]int64, error) {
	if n <= 0 {
		return nil, nil
	}
	if t.dialect != Postgres {
		base, err := t.Int64(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)`, table)
		if err != nil {
			return nil, fmt.Errorf("reserving ids of %s: %w", table, err)
		}
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = base + 1 + int64(i)
		}
		return ids, nil
	}
	rows, err := t.Query(ctx, `SELECT nextval(pg_get_serial_sequence(?, 'id')) FROM generate_series(1, ?) ORDER BY 1`, table, n)
	if err != nil {
		return nil, fmt.Errorf("reserving ids of %s: %w", table, err)
	}
	ids, err := Collect(rows, func(sc Scanner) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	})
	if err != nil {
		return nil, fmt.Errorf("reserving ids of %s: %w", table, err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("reserving ids of %s: got %d of %d", table, len(ids), n)
	}
	return ids, nil
}

// Int64 runs a statement that returns one row of one integer (an INSERT
// … RETURNING, a counter's next value) and returns it. On PostgreSQL it
// travels in one pipeline with the statements ExecDeferred queued before
// it: one round trip for all of them.
func (t *Tx) Int64(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	if len(t.pending) == 0 {
		err := t.QueryRow(ctx, q, args...).Scan(&n)
		return n, err
	}
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return 0, err
	}
	own, err := t.pipeline(ctx, q, args, func(r pgx.Row) error { return r.Scan(&n) })
	switch {
	case own != nil:
		return 0, classify(own)
	case err != nil:
		return 0, err
	}
	return n, nil
}

// AfterCommit queues f to run once the transaction has committed. Live
// events use it so that nobody is told about a change that was rolled back.
func (t *Tx) AfterCommit(f func()) { t.afterCommit = append(t.afterCommit, f) }

// errSavepoint marks a failure to open, undo or release a savepoint: the
// transaction's state is then unknown and it must not commit.
var errSavepoint = errors.New("savepoint failed")

// Savepoint runs f inside a savepoint: if f fails, only its own writes are
// undone and the transaction goes on.
func (t *Tx) Savepoint(ctx context.Context, f func() error) error {
	t.savepoint++
	name := fmt.Sprintf("sp%d", t.savepoint)
	// The savepoint statements must run even when the caller's context has
	// ended: an undo that does not happen would let partial writes commit.
	sctx := context.WithoutCancel(ctx)
	if err := t.flush(sctx); err != nil {
		return err
	}
	if _, err := t.ex.ExecContext(sctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("%w: opening: %w", errSavepoint, err)
	}
	n := len(t.afterCommit)
	err := f()
	if err == nil {
		// What f deferred is f's: sent before the savepoint ends, and
		// its failure f's own.
		var de deferredErr
		if err = t.flush(sctx); errors.As(err, &de) {
			err = classify(de.cause)
		}
	}
	t.pending = t.pending[:0]
	if err != nil {
		t.afterCommit = t.afterCommit[:n]
		t.memo, t.forgot = nil, true
		if _, rerr := t.ex.ExecContext(sctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, fmt.Errorf("%w: rolling back: %w", errSavepoint, rerr))
		}
		if _, rerr := t.ex.ExecContext(sctx, "RELEASE SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, fmt.Errorf("%w: releasing: %w", errSavepoint, rerr))
		}
		return err
	}
	if _, err := t.ex.ExecContext(sctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("%w: releasing: %w", errSavepoint, err)
	}
	return nil
}

// ReadWrite runs f in a transaction and commits it if f returns nil.
//
// Concurrent calls are committed as a group, on both engines: one writer
// goroutine runs the waiting closures one after another in one shared
// transaction and commits once, so a burst of small writes costs one
// commit (on PostgreSQL one round of WAL flush and one hold of the
// transparency log's lock) instead of one each. A closure that fails
// changes nothing: the group is run again with a savepoint around each
// closure, and the failing one is rolled back to its savepoint alone.
//
// f may run more than once: when the engine reports a serialisation failure
// or a busy database, or another closure of its group fails, the closure is
// run again in a fresh transaction, so f must not have effects outside tx
// other than through AfterCommit. f must not block on anything but the
// store, and must not call ReadWrite itself.
func (db *DB) ReadWrite(ctx context.Context, f func(ctx context.Context, tx *Tx) error) error {
	return db.groupWrite(ctx, f)
}

// ErrClosed is returned for writes to a closed store.
var ErrClosed = errors.New("store is closed")

type writeReq struct {
	ctx  context.Context
	f    func(ctx context.Context, tx *Tx) error
	done chan error
}

// maxGroup bounds how many closures share one transaction.
const maxGroup = 128

func (db *DB) groupWrite(ctx context.Context, f func(ctx context.Context, tx *Tx) error) error {
	req := &writeReq{ctx: ctx, f: fenced(ctx, f), done: make(chan error, 1)}
	db.cmu.RLock()
	if db.isClosed {
		db.cmu.RUnlock()
		return ErrClosed
	}
	select {
	case db.writes <- req:
		db.cmu.RUnlock()
	case <-ctx.Done():
		db.cmu.RUnlock()
		return ctx.Err()
	}
	// Once queued, the request runs; wait for its outcome even if ctx ends,
	// so the caller never mistakes a committed write for a failed one.
	return <-req.done
}

// writer is the group-commit loop.
func (db *DB) writer() {
	defer db.wg.Done()
	for {
		var batch []*writeReq
		select {
		case <-db.closed:
			for {
				select {
				case r := <-db.writes:
					r.done <- ErrClosed
				default:
					return
				}
			}
		case r := <-db.writes:
			batch = append(batch, r)
		}
		// On PostgreSQL the transaction and the writers' lock are taken
		// before the group is closed: while this process waits for
		// another's write to end, the requests that arrive join the group,
		// so replicas that write at once still commit in large groups.
		var pre *Tx
		if db.dialect == Postgres {
			pre, _ = db.beginLocked() // on failure the group begins again by itself
		}
	drain:
		for len(batch) < maxGroup {
			select {
			case r := <-db.writes:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		db.commitGroup(batch, pre)
	}
}

func (db *DB) commitGroup(batch []*writeReq, pre *Tx) {
	errs := make([]error, len(batch))
	var hooks [][]func()
	var err error
	// First optimistically, without savepoints: closures rarely fail, and
	// savepoints are a third of a small closure's statements. If one does
	// fail, the group is run again with a savepoint around each closure.
	// A closure alone in its group never needs one.
	isolate := false
	for attempt := 0; attempt < 8; attempt++ {
		if attempt > 0 && !errors.Is(err, errIsolate) {
			time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
		}
		hooks, err = db.runGroup(batch, errs, isolate, pre)
		pre = nil
		if errors.Is(err, errIsolate) {
			isolate = true
			continue
		}
		if err == nil || !retryable(err) {
			break
		}
	}
	for i, r := range batch {
		switch {
		case err != nil:
			r.done <- err
		case errs[i] != nil:
			r.done <- errs[i]
		default:
			for _, h := range hooks[i] {
				h()
			}
			r.done <- nil
		}
	}
}

// runGroup runs every closure of batch in its own savepoint of one
// transaction. errs receives each closure's own failure; the returned
// error is the transaction's.
// errIsolate asks for a group to be run again with savepoints.
var errIsolate = errors.New("a closure failed; run the group with savepoints")

// beginLocked begins a write transaction; on PostgreSQL it first takes
// the writers' lock (WriterLock), where writers of every process on this
// store queue, and keeps the session the transaction runs on for the
// pipelines of ExecDeferred.
func (db *DB) beginLocked() (*Tx, error) {
	ctx := context.Background()
	tx := &Tx{db: db, dialect: db.dialect}
	if db.dialect != Postgres {
		stx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("beginning transaction: %w", classify(err))
		}
		tx.tx, tx.ex = stx, stx
		if err := runSteps(ctx, db.beginSteps(tx), sqliteSteps(stx)); err != nil {
			tx.rollback()
			return nil, err
		}
		db.caughtUp(tx.gen - 1)
		return tx, nil
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("beginning transaction: %w", classify(err))
	}
	tx.conn, tx.ex = conn, conn
	// BEGIN, the lock, the transaction's number and the counters' news,
	// in one round trip. (A BEGIN in a pipeline opens a transaction that
	// outlasts the pipeline.)
	steps := append([]step{{q: `BEGIN`}, {q: `SELECT pg_advisory_xact_lock(` + WriterLock + `)`}}, db.beginSteps(tx)...)
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the PostgreSQL driver connection is a %T", dc)
		}
		return runSteps(ctx, steps, pgxSteps(c.Conn()))
	})
	if err != nil {
		tx.rollback()
		return nil, err
	}
	db.caughtUp(tx.gen - 1)
	return tx, nil
}

// step is one statement a write transaction begins with; rows, if set,
// reads what it returns.
type step struct {
	q    string
	args []any
	rows func(rowScanner) error
}

// rowScanner is what *sql.Rows and pgx.Rows both are.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// beginSteps are the statements every write transaction begins with,
// under the writers' lock: the transaction's number (writer_gen: one more
// than the last committed write's, whichever process made it), and for
// each of the store's Counters what other processes' transactions wrote in
// it since this process last looked.
func (db *DB) beginSteps(tx *Tx) []step {
	steps := []step{{q: `UPDATE writer_gen SET gen = gen + 1 RETURNING gen`, rows: func(r rowScanner) error {
		if !r.Next() {
			return errors.New("writer_gen has no row")
		}
		return r.Scan(&tx.gen)
	}}}
	db.counters.Range(func(_, v any) bool {
		c := v.(*Counter)
		if since, ok := c.since(); ok {
			steps = append(steps, step{q: c.news, args: []any{since}, rows: c.learn})
		}
		return true
	})
	db.atBegin.Range(func(k, v any) bool {
		steps = append(steps, step{q: v.(string), rows: func(r rowScanner) error {
			var n int64
			if !r.Next() {
				return fmt.Errorf("%s returned no row", v)
			}
			if err := r.Scan(&n); err != nil {
				return err
			}
			if tx.atBegin == nil {
				tx.atBegin = map[any]int64{}
			}
			tx.atBegin[k] = n
			return nil
		}})
		return true
	})
	return steps
}

// ReadAtBegin has every write transaction run q, a query of one integer
// (the log's size, say), in its first round trip, under the writers'
// lock; Tx.AtBegin returns what it found. Registering a key again keeps
// the first query.
func (db *DB) ReadAtBegin(key any, q string) { db.atBegin.LoadOrStore(key, q) }

// AtBegin returns what the query registered under key with ReadAtBegin
// found when the transaction began: the store as this transaction's own
// writes do not yet change it. It reports false when no such query ran,
// or when a rolled-back savepoint has made the caller's own memo of what
// came after unknown (see SetMemo).
func (t *Tx) AtBegin(key any) (int64, bool) {
	if t.forgot {
		return 0, false
	}
	n, ok := t.atBegin[key]
	return n, ok
}

// caughtUp tells the counters that they know every write committed up
// to transaction number gen.
func (db *DB) caughtUp(gen int64) {
	db.counters.Range(func(_, v any) bool {
		v.(*Counter).caughtUp(gen)
		return true
	})
}

// runSteps runs steps in order through run, which sends them one by one
// (SQLite) or as one pipeline (PostgreSQL).
func runSteps(ctx context.Context, steps []step, run func(context.Context, []step) error) error {
	if err := run(ctx, steps); err != nil {
		return fmt.Errorf("beginning a write transaction (the writers' lock, its number, the counters' news): %w", classify(err))
	}
	return nil
}

func sqliteSteps(tx *sql.Tx) func(context.Context, []step) error {
	return func(ctx context.Context, steps []step) error {
		for _, s := range steps {
			rows, err := tx.QueryContext(ctx, s.q, s.args...)
			if err != nil {
				return err
			}
			if s.rows != nil {
				err = s.rows(rows)
			}
			if cerr := rows.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = rows.Err()
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}

func pgxSteps(conn *pgx.Conn) func(context.Context, []step) error {
	return func(ctx context.Context, steps []step) error {
		b := &pgx.Batch{}
		for _, s := range steps {
			b.Queue(rebind(Postgres, s.q), s.args...)
		}
		br := conn.SendBatch(ctx, b)
		for _, s := range steps {
			rows, err := br.Query()
			if err != nil {
				_ = br.Close()
				return err
			}
			if s.rows != nil {
				err = s.rows(rows)
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
			if err != nil {
				_ = br.Close()
				return err
			}
		}
		return br.Close()
	}
}

// rollback ends the transaction without its writes and hands its session
// back to the pool; a PostgreSQL session that cannot roll back is closed
// rather than handed back.
func (t *Tx) rollback() {
	t.pending = nil
	if t.conn == nil {
		_ = t.tx.Rollback()
		return
	}
	if _, err := t.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		_ = t.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	t.conn.Close()
}

// commit sends what is deferred and commits; either way the session goes
// back to the pool. On PostgreSQL the COMMIT rides the pipeline of what
// is deferred.
func (t *Tx) commit() error {
	var err error
	if t.conn == nil {
		if err = t.flush(context.Background()); err != nil {
			t.rollback()
			return err
		}
		err = t.tx.Commit()
	} else {
		if err = t.commitPipeline(); err != nil {
			t.rollback()
			if errors.Is(err, errDeferredFailed) {
				return err
			}
		} else {
			t.conn.Close()
		}
	}
	if err != nil {
		// Committed or not, nobody knows; if it did, the next
		// transaction's catching up reads its writes.
		return fmt.Errorf("committing transaction: %w", classify(err))
	}
	t.db.caughtUp(t.gen)
	return nil
}

func (db *DB) runGroup(batch []*writeReq, errs []error, isolate bool, pre *Tx) ([][]func(), error) {
	tx := pre
	if tx == nil {
		var err error
		if tx, err = db.beginLocked(); err != nil {
			return nil, err
		}
	}
	tx.isolated = isolate
	hooks := make([][]func(), len(batch))
	for i, r := range batch {
		errs[i] = nil
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		tx.afterCommit = nil
		if !isolate {
			if err := r.f(r.ctx, tx); err != nil {
				tx.rollback()
				if errors.Is(err, errDeferredFailed) {
					// Whose statement failed is known only with each
					// closure in its savepoint and nothing deferred.
					return nil, errIsolate
				}
				if len(batch) == 1 {
					// Alone in its transaction: rolling it back undoes
					// exactly this closure, no savepoint needed.
					if retryable(err) {
						return nil, err
					}
					errs[i] = err
					return make([][]func(), 1), nil
				}
				return nil, errIsolate
			}
			hooks[i] = tx.afterCommit
			continue
		}
		err := tx.Savepoint(r.ctx, func() error { return r.f(r.ctx, tx) })
		if errors.Is(err, errSavepoint) {
			// The closure's writes may not have been undone: commit nothing.
			tx.rollback()
			return nil, retryErr{err}
		}
		if retryable(err) {
			tx.rollback()
			return nil, err
		}
		errs[i], hooks[i] = err, tx.afterCommit
	}
	if err := tx.commit(); err != nil {
		if errors.Is(err, errDeferredFailed) {
			return nil, errIsolate
		}
		return nil, err
	}
	return hooks, nil
}

// Read returns a Querier for reads outside a transaction.
func (db *DB) Read() Querier { return reader{db} }

type reader struct{ db *DB }

func (r reader) Dialect() Dialect { return r.db.dialect }
func (r reader) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return nil, errors.New("store: Exec on the read view; use ReadWrite")
}
func (r reader) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if r.db.dialect == Postgres {
		rows, err := r.db.r.QueryContext(ctx, rebind(r.db.dialect, q), args...)
		return rows, classify(err)
	}
	st, err := r.db.prepared(ctx, r.db.r, q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, classify(err)
}
func (r reader) QueryRow(ctx context.Context, q string, args ...any) *Row {
	if r.db.dialect == Postgres {
		return &Row{r: r.db.r.QueryRowContext(ctx, rebind(r.db.dialect, q), args...)}
	}
	st, err := r.db.prepared(ctx, r.db.r, q)
	if err != nil {
		return &Row{err: err}
	}
	return &Row{r: st.QueryRowContext(ctx, args...)}
}

var errRetry = errors.New("transaction must be retried")

type retryErr struct{ err error }

func (e retryErr) Error() string        { return e.err.Error() }
func (e retryErr) Unwrap() []error      { return []error{errRetry, e.err} }
func retryable(err error) bool          { return errors.Is(err, errRetry) }
func (e retryErr) Is(target error) bool { return target == errRetry }

// classify turns engine errors into the store's sentinels.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return retryErr{err}
		case sqlite3.SQLITE_CONSTRAINT:
			if se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
				return fmt.Errorf("%w: %w", ErrConflict, err)
			}
			return fmt.Errorf("%w: %w", ErrRefused, err)
		case sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG:
			return fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return retryErr{err}
		case "23505": // unique_violation
			return fmt.Errorf("%w: %w", ErrConflict, err)
		}
		// Class 22 (data exception: NUL in text, bad encoding, out of
		// range) and the other integrity constraints of class 23.
		if strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23") {
			return fmt.Errorf("%w: %w", ErrRefused, err)
		}
	}
	return err
}

// rebind rewrites '?' placeholders as $1, $2 … for PostgreSQL. It leaves
// question marks inside quoted strings alone.
func rebind(d Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	if v, ok := rebound.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n, quoted := 0, false
	for _, c := range q {
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	rebound.Store(q, b.String())
	return b.String()
}

var rebound sync.Map

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Contains is the pattern that finds text anywhere in a lower-cased
// column, for "LOWER(col) LIKE ? ESCAPE '\'" in either dialect: wildcards
// in the text are matched literally.
func Contains(text string) string {
	return "%" + likeEscaper.Replace(strings.ToLower(text)) + "%"
}

// Params is n placeholders for an IN list: "?, ?, ?".
func Params(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// Tuples is n rows of width placeholders for a multi-row VALUES list:
// "(?, ?), (?, ?)".
func Tuples(n, width int) string {
	return strings.TrimSuffix(strings.Repeat("("+Params(width)+"), ", n), ", ")
}

// HasWord is the condition that the space-separated list in col (stored
// as " A B C ") holds the word bound to its one parameter. The pattern is
// built in SQL rather than bound whole: SQLite re-prepares a statement on
// every run when the right side of LIKE is a bare parameter, since its
// value might allow an index, and that parse costs more than the lookup.
func HasWord(col string) string {
	return col + " LIKE ('% ' || ? || ' %')"
}

// Now is the store's clock in Unix milliseconds, the unit of every time
// column.
func Now() int64 { return time.Now().UnixMilli() }

// Time turns a stored Unix-millisecond value into a time; zero stays zero.
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// Scanner is one row to scan: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Prefixed is sc with its leading columns scanned into pre, and the rest
// into what the caller scans: for a scan function of a type's own columns
// over a query that selects a few more first.
func Prefixed(sc Scanner, pre ...any) Scanner { return prefixed{sc, pre} }

type prefixed struct {
	r   Scanner
	pre []any
}

func (p prefixed) Scan(dest ...any) error { return p.r.Scan(append(p.pre, dest...)...) }

// Collect scans every row of rows with scan and closes rows: the loop of
// every list query.
func Collect[T any](rows *sql.Rows, scan func(Scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ScanJSON scans one text column holding a JSON document into a new T:
// the areas that keep each record as a document with the columns it is
// listed by.
func ScanJSON[T any](sc Scanner) (*T, error) {
	var doc string
	if err := sc.Scan(&doc); err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return nil, fmt.Errorf("decoding a stored document: %w", err)
	}
	return &v, nil
}
