package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store/sqlstore"
)

// nativeTx is the pgx.Tx under a transaction's Querier.
func nativeTx(tx sqlstore.Querier) (pgx.Tx, error) {
	if q, ok := tx.(pgQuerier); ok {
		if t, ok := q.q.(pgx.Tx); ok {
			return t, nil
		}
	}
	return nil, fmt.Errorf("postgres: %T is not a transaction of this store", tx)
}

// InsertRows differs by necessity (the fast path each database has):
// rows go to the typed table with COPY in the binary format. The column types are the ones DatasetEnsure created, so the rows
// are encoded here directly, as pgx's CopyFrom would but without its
// per-value interface boxing and reflection: no allocation per row.
func (dialect) InsertRows(ctx context.Context, q sqlstore.Querier, ins *sqlstore.RowsInsert) error {
	tx, err := nativeTx(q)
	if err != nil {
		return err
	}
	enc := &copyEncoder{rows: ins.Rows, cols: ins.Columns, batchID: ins.BatchID}
	names := []string{"batch_id", "row_no"}
	for _, col := range ins.Columns {
		names = append(names, col.Ident)
	}
	sql := `COPY ` + ins.Table + ` (` + strings.Join(names, ", ") + `) FROM STDIN (FORMAT binary)`
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, enc, sql)
	if enc.err != nil {
		return enc.err
	}
	if err != nil {
		return fmt.Errorf("copy rows: %w", interpretError(err))
	}
	if n := tag.RowsAffected(); n != int64(len(ins.Rows)) {
		return fmt.Errorf("copy rows: wrote %d of %d", n, len(ins.Rows))
	}
	return nil
}

// BulkInsert writes rows with COPY (pgx's CopyFrom).
func (dialect) BulkInsert(ctx context.Context, q sqlstore.Querier, table string, columns []string, rows [][]any) error {
	tx, err := nativeTx(q)
	if err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy into %s: %w", table, interpretError(err))
	}
	return nil
}

// copyEncoder is an io.Reader of COPY's binary format: a header, a tuple
// per row (batch_id bigint, row_no integer, then the stored columns) and a
// trailer.
type copyEncoder struct {
	rows    []schema.Row
	cols    []*sqlstore.Column
	batchID int64

	next    int // the next row to encode
	started bool
	done    bool
	buf     []byte
	off     int
	err     error // a value COPY cannot take; reported instead of COPY's error
}

// copyChunk is about how many bytes are encoded at a time.
const copyChunk = 64 << 10

var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func (e *copyEncoder) Read(p []byte) (int, error) {
	for e.off == len(e.buf) {
		if e.done || e.err != nil {
			if e.err != nil {
				return 0, e.err
			}
			return 0, io.EOF
		}
		e.fill()
	}
	n := copy(p, e.buf[e.off:])
	e.off += n
	return n, nil
}

// fill encodes the next rows into buf.
func (e *copyEncoder) fill() {
	b := e.buf[:0]
	e.off = 0
	if !e.started {
		b = append(b, copyHeader...)
		e.started = true
	}
	fields := uint16(2 + len(e.cols))
	for ; e.next < len(e.rows) && len(b) < copyChunk; e.next++ {
		row := e.rows[e.next]
		b = binary.BigEndian.AppendUint16(b, fields)
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, uint64(e.batchID))
		b = binary.BigEndian.AppendUint32(b, 4)
		b = binary.BigEndian.AppendUint32(b, uint32(e.next))
		for _, col := range e.cols {
			v := &row[col.Pos]
			if v.Missing {
				b = binary.BigEndian.AppendUint32(b, math.MaxUint32) // -1: NULL
				continue
			}
			switch col.Type {
			case schema.Number:
				f := v.Num
				if f == 0 {
					f = 0 // SQLite stores -0 as 0; so does this backend, for the same snapshot hash
				}
				b = binary.BigEndian.AppendUint32(b, 8)
				b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
			case schema.Integer:
				b = binary.BigEndian.AppendUint32(b, 8)
				b = binary.BigEndian.AppendUint64(b, uint64(int64(v.Num)))
			case schema.Timestamp:
				// timestamptz: microseconds since 2000-01-01 UTC.
				us := (schema.TimestampMillis(v.Num) - pgEpochMillis) * 1000
				b = binary.BigEndian.AppendUint32(b, 8)
				b = binary.BigEndian.AppendUint64(b, uint64(us))
			case schema.Boolean:
				var t byte
				if v.Num != 0 {
					t = 1
				}
				b = binary.BigEndian.AppendUint32(b, 1)
				b = append(b, t)
			default:
				// A declared label came from the schema; any other is checked.
				if !col.Declared(v) {
					if err := checkText(fmt.Sprintf("row %d, column %q: label", e.next, col.Name), v.Str); err != nil {
						e.err = err
						e.buf = b
						return
					}
				}
				b = binary.BigEndian.AppendUint32(b, uint32(len(v.Str)))
				b = append(b, v.Str...)
			}
		}
	}
	if e.next == len(e.rows) {
		b = binary.BigEndian.AppendUint16(b, math.MaxUint16) // -1: end of data
		e.done = true
	}
	e.buf = b
}
