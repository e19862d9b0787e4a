// Package postgres is the production store backend: PostgreSQL through a
// pgx connection pool. The store's rules live in sqlstore; this package is
// its Dialect (dialect.go), the hot paths (COPY in copy.go, raw snapshot
// reads in snapshot.go), the migrations and the Notifier (listen.go).
//
// Writers that must be ordered per pipeline serialise on a row lock or an
// advisory lock taken first in their transaction: BatchInsert locks the
// pipeline's datasets row before it takes a batch id, so batches of one
// pipeline commit in id order and a snapshot up to watermark W never gains
// rows later; the registry methods take a per-pipeline advisory lock.
// Snapshots read in one REPEATABLE READ READ ONLY transaction and never
// block writers.
//
// The pool is exposed (Pool) so that River's riverpgxv5 driver can share it.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlstore"
)

var (
	_ store.Store    = (*DB)(nil)
	_ store.Notifier = (*DB)(nil)
)

// Config configures Open.
type Config struct {
	// URL is a postgres:// connection string (libpq keywords work too).
	URL string
	// MaxConns is the pool size (0: the URL's pool_max_conns, else 10).
	MaxConns int
	// Now is the clock for created_at and lease times (nil: time.Now).
	Now func() time.Time
	// Schema, when set, is the PostgreSQL schema that holds mlserve's tables
	// (the pool's search_path); Migrate creates it. Notification channels
	// are scoped to it, so stores in different schemas of one database do
	// not hear each other.
	Schema string
}

// DB is a store.Store on a PostgreSQL database. It is safe for concurrent
// use.
type DB struct {
	*sqlstore.Store
	pool *pgxpool.Pool
	now  func() time.Time
	// schema is Config.Schema; suffix scopes notification channels to it.
	schema string
	suffix string

	mu        sync.Mutex
	closed    bool
	listeners sync.WaitGroup
	stops     map[*listener]context.CancelFunc
}

// Open connects a pool to the database and checks that the server answers.
// It does not migrate: call Migrate. An unreachable server is an error that
// wraps store.ErrUnavailable.
func Open(ctx context.Context, cfg *Config) (*DB, error) {
	if cfg == nil || cfg.URL == "" {
		return nil, errors.New("postgres: database URL is empty")
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// The parse error may quote the URL and with it a password.
		return nil, errors.New("postgres: the database URL cannot be parsed: want postgres://user:password@host:port/database?options")
	}
	switch {
	case cfg.MaxConns < 0:
		return nil, fmt.Errorf("postgres: MaxConns %d is negative", cfg.MaxConns)
	case cfg.MaxConns > 0:
		pc.MaxConns = int32(cfg.MaxConns)
	case !strings.Contains(cfg.URL, "pool_max_conns"):
		pc.MaxConns = 10
	}
	db := &DB{now: cfg.Now, schema: cfg.Schema, stops: map[*listener]context.CancelFunc{}}
	if db.now == nil {
		db.now = time.Now
	}
	if cfg.Schema != "" {
		if len(cfg.Schema) > 63 || strings.ContainsRune(cfg.Schema, 0) || !utf8.ValidString(cfg.Schema) {
			return nil, fmt.Errorf("postgres: schema name %q must be 1 to 63 bytes of text", cfg.Schema)
		}
		pc.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{cfg.Schema}.Sanitize()
		h := fnv.New32a()
		h.Write([]byte(cfg.Schema))
		db.suffix = fmt.Sprintf(".%08x", h.Sum32())
	}
	db.Store = sqlstore.New(dialect{db}, sqlstore.Config{
		// timestamptz keeps microseconds: the clock is cut to that.
		Now:        func() time.Time { return db.now().UTC().Truncate(time.Microsecond) },
		Migrations: migrationFS,
	})
	db.pool, err = pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", interpretError(err))
	}
	if err := db.pool.Ping(ctx); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d: %w", pc.ConnConfig.Host, pc.ConnConfig.Port, interpretError(err))
	}
	return db, nil
}

// Pool returns the connection pool, for River's riverpgxv5 driver. It is
// closed by Close.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close stops the listeners and closes the pool.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	for _, stop := range db.stops {
		stop()
	}
	db.mu.Unlock()
	db.listeners.Wait()
	db.pool.Close()
	return nil
}

// interpretError maps driver errors onto the store sentinels, keeping the
// original text: no row is ErrNotFound, a unique violation or a lost
// serialization race ErrConflict, a lost or refused connection
// ErrUnavailable.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && !isConnectError(err) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505", // unique_violation
			pe.Code == "40001", // serialization_failure
			pe.Code == "40P01": // deadlock_detected
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case strings.HasPrefix(pe.Code, "08"), // connection_exception
			pe.Code == "57P01", // admin_shutdown
			pe.Code == "57P02", // crash_shutdown
			pe.Code == "57P03", // cannot_connect_now
			pe.Code == "53300": // too_many_connections
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		case pe.Code == "53100": // disk_full
			return fmt.Errorf("%w: %w", store.ErrDiskFull, err)
		}
		return err
	}
	var ne net.Error
	if isConnectError(err) || errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

func isConnectError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// IsUnavailable reports whether err means the database could not be
// reached: errors.Is(err, store.ErrUnavailable).
func IsUnavailable(err error) bool { return errors.Is(err, store.ErrUnavailable) }

var (
	readWrite = pgx.TxOptions{}
	snapshot  = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
)

// inTx runs fn in a transaction and commits when fn returns nil. Errors of
// BEGIN and COMMIT are interpreted; fn interprets its own.
func (db *DB) inTx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return interpretError(err)
	}
	if err := fn(tx); err != nil {
		// A rollback on a broken connection fails too; the error of fn says
		// what went wrong, and the pool discards the connection.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		tx.Rollback(rctx)
		cancel()
		return err
	}
	return interpretError(tx.Commit(ctx))
}

// querier is what the pool and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Advisory lock classes (the first key of the two-key form): registry
// changes of one pipeline, and Migrate.
const (
	lockRegistry = 0x6d6c0001
	lockMigrate  = 0x6d6c0002
)

// cleanText makes free text (reasons, errors, sources) storable: text
// columns hold neither NUL bytes nor invalid UTF-8.
func cleanText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

// checkText refuses data (labels, keys) that a text column cannot hold
// unchanged.
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s contains a NUL byte", what)
	}
	return nil
}
