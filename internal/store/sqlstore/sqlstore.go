// Package sqlstore is the store.Store written once over SQL: the rules of
// the store (only a candidate can be rejected, the rollback walk over the
// promotion log, the idempotency replay, one queued run per pipeline) live
// here, and a backend (store/sqlite, store/postgres) supplies a Dialect:
// its connections and transactions, its error map, and the few things its
// database does differently, each saying why.
//
// Statements are written once, with PostgreSQL's numbered placeholders
// ($1, $2, …); SQLite reads $N as the Nth argument too, so no rewriting is
// needed. They use only what both databases have: ON CONFLICT … DO
// NOTHING, RETURNING, partial unique indexes, CAST(… AS bigint).
package sqlstore

import (
	"context"
	"io/fs"
	"time"

	"github.com/mlserve/mlserve/internal/schema"
)

// Querier runs statements: a connection pool or a transaction. Errors it
// returns are already interpreted by the backend (store.ErrNotFound for no
// row, store.ErrConflict, store.ErrUnavailable), so rules can branch on the
// store's sentinels.
type Querier interface {
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a statement that returns rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a statement that returns at most one row; Scan says
	// store.ErrNotFound when there is none.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is the result of Query. Close may be called more than once.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is the result of QueryRow.
type Row interface {
	Scan(dest ...any) error
}

// Dialect is what a backend supplies: how it reaches its database and what
// its SQL does differently. Every difference is a method here, documented
// at the backend's implementation with the reason it has to differ.
type Dialect interface {
	// Reader runs single read statements outside a transaction.
	Reader() Querier
	// ReadTx runs fn in a read-only transaction in which every statement
	// sees the same committed state, and that blocks no writer.
	ReadTx(ctx context.Context, fn func(tx Querier) error) error
	// WriteTx runs fn in a read-write transaction and commits when fn
	// returns nil; it rolls back and returns fn's error otherwise.
	WriteTx(ctx context.Context, fn func(tx Querier) error) error

	// LockPipeline serialises the registry changes of one pipeline until
	// the end of tx.
	LockPipeline(ctx context.Context, tx Querier, pipeline string) error
	// RowLock is the clause appended to a SELECT in a write transaction
	// that locks the rows it reads until the end of the transaction.
	RowLock() string
	// Notify signals a change of pipeline on channel once tx commits.
	Notify(ctx context.Context, tx Querier, channel, pipeline string) error

	// Time is t as a statement argument for a timestamp column.
	Time(t time.Time) any
	// Text makes free text (reasons, errors, sources) storable in a text
	// column.
	Text(s string) string
	// CheckText refuses data (an Idempotency-Key, a category label) that a
	// text column cannot hold unchanged; what names it in the error.
	CheckText(what, s string) error
	// Raw is a reject's raw row, as received, as the argument for
	// quarantine.raw.
	Raw(s string) any

	// TableName is the quoted name of a pipeline's typed table; pipeline
	// is valid ([a-z][a-z0-9_]{0,62}).
	TableName(pipeline string) string
	// ColumnType is the storage type of a column type.
	ColumnType(t schema.Type) (string, error)
	// CreateTable is the statement that creates a typed table: batch_id and
	// row_no, then the column definitions defs (", c1 TEXT, c2 REAL"),
	// keyed by (batch_id, row_no).
	CreateTable(table, defs string) string
	// InsertRows writes a batch's rows (at least one) into its typed
	// table: the hot path of ingestion.
	InsertRows(ctx context.Context, tx Querier, ins *RowsInsert) error
	// ReadRows reads a typed table for a snapshot: the hot path of
	// training.
	ReadRows(ctx context.Context, tx Querier, rd *RowsRead) error
	// BulkInsert writes rows of values (at least one) into columns of
	// table.
	BulkInsert(ctx context.Context, tx Querier, table string, columns []string, rows [][]any) error

	// MigrateBegin starts Migrate's transaction: it takes the lock that
	// serialises migrating processes.
	MigrateBegin(ctx context.Context, tx Querier) error
}

// Config is what New needs besides the Dialect.
type Config struct {
	// Now is the clock for created_at and lease times, already in UTC and
	// at the precision the database keeps, so that a time returned without
	// a read-back equals the stored one.
	Now func() time.Time
	// Migrations holds the backend's folder "migration":
	// schema_migrations.sql, which creates the table of applied versions
	// if it does not exist, and the NNN_name.up.sql migrations (the same
	// versions and names on every backend).
	Migrations fs.FS
}

// Store implements the methods of store.Store on a Dialect. A backend
// embeds it and adds Close (and any optional abilities).
type Store struct {
	d          Dialect
	now        func() time.Time
	migrations fs.FS
}

// New returns the store over d.
func New(d Dialect, cfg Config) *Store {
	return &Store{d: d, now: cfg.Now, migrations: cfg.Migrations}
}
