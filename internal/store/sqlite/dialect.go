package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store/sqlstore"
)

// dialect is SQLite's sqlstore.Dialect.
type dialect struct{ db *DB }

var _ sqlstore.Dialect = dialect{}

// Reader is the read pool.
func (d dialect) Reader() sqlstore.Querier { return sqlQuerier{d.db.r} }

// ReadTx is a read transaction on the read pool; in WAL mode it sees one
// committed state and does not block the writer.
func (d dialect) ReadTx(ctx context.Context, fn func(tx sqlstore.Querier) error) error {
	return d.db.readTx(ctx, func(tx *sql.Tx) error { return fn(sqlQuerier{tx}) })
}

// WriteTx is a BEGIN IMMEDIATE transaction on the one writer connection.
func (d dialect) WriteTx(ctx context.Context, fn func(tx sqlstore.Querier) error) error {
	return d.db.writeTx(ctx, func(tx *sql.Tx) error { return fn(sqlQuerier{tx}) })
}

// LockPipeline differs by necessity: SQLite has no finer lock than the
// database, and a write transaction already holds that one (BEGIN
// IMMEDIATE), so no other writer of any process runs until it ends.
func (dialect) LockPipeline(context.Context, sqlstore.Querier, string) error { return nil }

// MigrateBegin differs by necessity, as LockPipeline: the write
// transaction's BEGIN IMMEDIATE already serialises processes migrating at
// once, so it takes no lock of its own.
func (dialect) MigrateBegin(context.Context, sqlstore.Querier) error { return nil }

// RowLock differs by necessity: SQLite has no SELECT … FOR UPDATE; the
// write transaction's database lock covers every row it reads.
func (dialect) RowLock() string { return "" }

// Notify differs by necessity: SQLite has no channel between processes
// that share the file, so this backend is not a store.Notifier and
// waiters poll.
func (dialect) Notify(context.Context, sqlstore.Querier, string, string) error { return nil }

// Time differs by necessity: SQLite has no timestamp type. Times are UTC
// text of a fixed width (tsLayout), so they sort and compare as text, as
// the lease expiry check does in SQL.
func (dialect) Time(t time.Time) any { return formatTime(t) }

// Text differs by necessity: SQLite's TEXT keeps any bytes, NUL and
// invalid UTF-8 included, so free text is stored as given.
func (dialect) Text(s string) string { return s }

// CheckText accepts any text: SQLite's TEXT keeps it unchanged.
func (dialect) CheckText(string, string) error { return nil }

// Raw is the raw row as text (TEXT keeps any bytes).
func (dialect) Raw(s string) any { return s }

// TableName is "ds_<pipeline>"; SQLite takes identifiers of any length.
func (dialect) TableName(pipeline string) string { return sqlstore.QuoteIdent("ds_" + pipeline) }

// ColumnType is the storage type of a column type; SQLite keeps a boolean
// as an INTEGER 0 or 1 and a timestamp as REAL Unix seconds (SQLite has no
// date type; its date functions read them with 'unixepoch').
func (dialect) ColumnType(t schema.Type) (string, error) {
	switch t {
	case schema.Number, schema.Timestamp:
		return "REAL", nil
	case schema.Integer, schema.Boolean:
		return "INTEGER", nil
	case schema.Category:
		return "TEXT", nil
	}
	return "", fmt.Errorf("column type %q has no storage type", t)
}

// CreateTable clusters the rows by (batch_id, row_no) (WITHOUT ROWID):
// appends go to the end and a snapshot is one range scan in order.
func (dialect) CreateTable(table, defs string) string {
	return `CREATE TABLE ` + table + ` (batch_id INTEGER NOT NULL, row_no INTEGER NOT NULL` + defs +
		`, PRIMARY KEY (batch_id, row_no)) WITHOUT ROWID`
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sqlQuerier is a sqlstore.Querier on a pool or a transaction; it maps
// every error through interpretError.
type sqlQuerier struct{ q querier }

func (s sqlQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, interpretError(err)
	}
	n, err := res.RowsAffected()
	return n, interpretError(err)
}

func (s sqlQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := s.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, interpretError(err)
	}
	return sqlstore.InterpretRows(rows, func() { rows.Close() }, interpretError), nil
}

func (s sqlQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return sqlstore.InterpretRow(s.q.QueryRowContext(ctx, query, args...), interpretError)
}
