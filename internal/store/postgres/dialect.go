package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store/sqlstore"
)

// dialect is PostgreSQL's sqlstore.Dialect.
type dialect struct{ db *DB }

var _ sqlstore.Dialect = dialect{}

// Reader is the pool.
func (d dialect) Reader() sqlstore.Querier { return pgQuerier{d.db.pool} }

// ReadTx is a REPEATABLE READ READ ONLY transaction: one view of the
// database that never blocks writers.
func (d dialect) ReadTx(ctx context.Context, fn func(tx sqlstore.Querier) error) error {
	return d.db.inTx(ctx, snapshot, func(tx pgx.Tx) error { return fn(pgQuerier{tx}) })
}

// WriteTx is a READ COMMITTED transaction; writers that must be ordered
// take LockPipeline or RowLock first.
func (d dialect) WriteTx(ctx context.Context, fn func(tx sqlstore.Querier) error) error {
	return d.db.inTx(ctx, readWrite, func(tx pgx.Tx) error { return fn(pgQuerier{tx}) })
}

// LockPipeline differs by necessity: many writers run at once on
// PostgreSQL, so registry changes of one pipeline take a transaction-scoped
// advisory lock. Pipelines whose names collide in hashtext only wait for
// each other.
func (dialect) LockPipeline(ctx context.Context, tx sqlstore.Querier, pipeline string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(lockRegistry), pipeline)
	return err
}

// RowLock differs by necessity: concurrent writers must lock the rows they
// read before changing them.
func (dialect) RowLock() string { return " FOR UPDATE" }

// Notify sends pg_notify on the channel scoped to Config.Schema; PostgreSQL
// delivers it to listeners of every process once tx commits.
func (d dialect) Notify(ctx context.Context, tx sqlstore.Querier, channel, pipeline string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, channel+d.db.suffix, pipeline); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Time is t itself, for a timestamptz column.
func (dialect) Time(t time.Time) any { return t }

// Text differs by necessity: PostgreSQL's text holds neither NUL bytes nor
// invalid UTF-8, so free text is cleaned (cleanText) rather than refused.
func (dialect) Text(s string) string { return cleanText(s) }

// CheckText refuses text with a NUL byte or invalid UTF-8 (checkText).
func (dialect) CheckText(what, s string) error { return checkText(what, s) }

// Raw differs by necessity: a raw row may hold any bytes, which text
// cannot, so quarantine.raw is bytea.
func (dialect) Raw(s string) any { return []byte(s) }

// TableName is "ds_<pipeline>", quoted. It differs by necessity:
// PostgreSQL truncates identifiers to 63 bytes, so a name that long ends
// in a hash of the whole pipeline name instead.
func (dialect) TableName(pipeline string) string {
	name := "ds_" + pipeline
	if len(name) > 63 {
		h := fnv.New32a()
		h.Write([]byte(pipeline))
		name = fmt.Sprintf("%s_%08x", name[:54], h.Sum32())
	}
	return sqlstore.QuoteIdent(name)
}

// ColumnType differs by necessity (PostgreSQL has typed columns, SQLite
// affinities): the storage type of a column type.
func (dialect) ColumnType(t schema.Type) (string, error) {
	switch t {
	case schema.Number:
		return "double precision", nil
	case schema.Integer:
		return "bigint", nil
	case schema.Boolean:
		return "boolean", nil
	case schema.Category:
		return "text", nil
	case schema.Timestamp:
		return "timestamptz", nil
	}
	return "", fmt.Errorf("column type %q has no storage type", t)
}

// CreateTable keys the rows by (batch_id, row_no): a snapshot is one range
// scan of the primary key, in order. row_no is an integer: COPY writes it
// in 4 bytes.
func (dialect) CreateTable(table, defs string) string {
	return `CREATE TABLE ` + table + ` (batch_id bigint NOT NULL, row_no integer NOT NULL` + defs +
		`, PRIMARY KEY (batch_id, row_no))`
}

// pgQuerier is a sqlstore.Querier on the pool or a transaction; it maps
// every error through interpretError.
type pgQuerier struct{ q querier }

func (p pgQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, query, args...)
	if err != nil {
		return 0, interpretError(err)
	}
	return tag.RowsAffected(), nil
}

func (p pgQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := p.q.Query(ctx, query, args...)
	if err != nil {
		return nil, interpretError(err)
	}
	return sqlstore.InterpretRows(rows, rows.Close, interpretError), nil
}

func (p pgQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return sqlstore.InterpretRow(p.q.QueryRow(ctx, query, args...), interpretError)
}
