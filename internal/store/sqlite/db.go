// Package sqlite is the embedded store backend: one SQLite file through
// modernc.org/sqlite (pure Go). The store's rules live in sqlstore; this
// package is its Dialect (dialect.go), the hot paths (rows.go) and the
// migrations.
//
// A DB holds two connection pools on the file. The writer pool has a single
// connection and begins every transaction with BEGIN IMMEDIATE, so a write
// takes the database lock up front and waits (busy_timeout) for another
// process's writer instead of failing half way. The read pool has a few
// query_only connections for snapshots, gets and lists; in WAL mode a read
// transaction sees one consistent state and never blocks the writer, so a
// long training snapshot does not stall ingestion. Other pools on the same
// file (River's) coexist through WAL and busy_timeout.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlstore"
)

var _ store.Store = (*DB)(nil)

// Config configures Open.
type Config struct {
	// Path is the database file. It and its folder are created if absent.
	Path string
	// ReadConns is the size of the read pool (0: 4).
	ReadConns int
	// BusyTimeout is how long a statement waits for a lock another
	// connection holds (0: 5s).
	BusyTimeout time.Duration
	// Now is the clock for created_at and lease times (nil: time.Now).
	Now func() time.Time
}

// DB is a store.Store on one SQLite file. It is safe for concurrent use.
type DB struct {
	*sqlstore.Store
	w   *sql.DB // one connection, BEGIN IMMEDIATE
	r   *sql.DB // query_only connections
	now func() time.Time
}

// Open opens (creating if needed) the database file and checks that it can
// be written. It does not migrate: call Migrate.
func Open(ctx context.Context, cfg *Config) (*DB, error) {
	if cfg == nil || cfg.Path == "" {
		return nil, errors.New("sqlite: database path is empty")
	}
	if strings.ContainsRune(cfg.Path, '?') || strings.HasPrefix(cfg.Path, "file:") || strings.Contains(cfg.Path, ":memory:") {
		return nil, fmt.Errorf("sqlite: database path %q must be a plain file path (no '?', file: URI or :memory:)", cfg.Path)
	}
	if dir := filepath.Dir(cfg.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create folder of %s: %w", cfg.Path, err)
		}
	}
	busy := cmp.Or(cfg.BusyTimeout, 5*time.Second).Milliseconds()
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy))
	common.Add("_pragma", "foreign_keys(1)")
	common.Add("_pragma", "synchronous(NORMAL)")

	wq := cloneValues(common)
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", cfg.Path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer connection is opened first: it creates the file and
	// switches it to WAL (persistent) before any reader connects.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}

	rq := cloneValues(common)
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", cfg.Path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", cfg.Path, err)
	}
	n := cmp.Or(cfg.ReadConns, 4)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", cfg.Path, err)
	}
	db := &DB{w: w, r: r, now: cfg.Now}
	if db.now == nil {
		db.now = time.Now
	}
	db.Store = sqlstore.New(dialect{db}, sqlstore.Config{
		Now:        func() time.Time { return db.now().UTC() },
		Migrations: migrationFS,
	})
	return db, nil
}

// migrationFS holds schema_migrations.sql and the NNN_name.up.sql files.
//
//go:embed migration/*.sql
var migrationFS embed.FS

// Migrations returns the embedded migrations in version order. The
// PostgreSQL backend has the same version numbers.
func Migrations() ([]store.Migration, error) { return store.ReadMigrations(migrationFS, "migration") }

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Close releases both pools.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// interpretError maps driver errors onto the store sentinels, keeping the
// original text.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
		if se.Code()&0xff == sqlite3.SQLITE_FULL {
			return fmt.Errorf("%w: %w", store.ErrDiskFull, err)
		}
	}
	return err
}

// writeTx runs fn in a write transaction (BEGIN IMMEDIATE on the writer
// connection) and commits when fn returns nil.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return interpretError(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return interpretError(tx.Commit())
}

// readTx runs fn in one read transaction on the read pool: every query in
// it sees the same committed state.
func (db *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return interpretError(err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// tsLayout is fixed width, so stored timestamps sort and compare as text.
const tsLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(tsLayout) }
