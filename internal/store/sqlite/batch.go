package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// BatchInsert stores a batch in one write transaction: the batch record,
// its rows through one prepared statement, and its rejects.
func (db *DB) BatchInsert(ctx context.Context, params *store.BatchInsertParams) (*store.BatchResult, error) {
	table, err := tableName(params.Pipeline)
	if err != nil {
		return nil, err
	}
	if params.Schema == nil {
		return nil, fmt.Errorf("batch for %s: schema is nil", params.Pipeline)
	}
	var res *store.BatchResult
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		if params.IdempotencyKey != "" {
			var id int64
			var hash string
			err := tx.QueryRowContext(ctx, `SELECT id, request_sha256 FROM batches WHERE pipeline = ? AND idempotency_key = ?`,
				params.Pipeline, params.IdempotencyKey).Scan(&id, &hash)
			switch {
			case err == nil:
				if hash != params.RequestSHA256 {
					return fmt.Errorf("batch for %s: %w (batch %d)", params.Pipeline, store.ErrIdempotencyMismatch, id)
				}
				r, err := batchGet(ctx, tx, params.Pipeline, id, -1)
				if err != nil {
					return err
				}
				r.Replayed = true
				res = r
				return nil
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("batch for %s: look up idempotency key: %w", params.Pipeline, interpretError(err))
			}
		}
		m, err := loadMapping(ctx, tx, params.Pipeline)
		if err != nil {
			return err
		}
		idx, cols, ok, err := storageColumns(params.Pipeline, params.Schema, m)
		if err != nil {
			return err
		}
		for k, found := range ok {
			if !found {
				return fmt.Errorf("batch for %s: %w: column %q is not in the stored dataset; call DatasetEnsure with this schema first",
					params.Pipeline, store.ErrSchemaChanged, params.Schema.Column(idx[k]).Name)
			}
		}

		now := db.nowText()
		var key any
		if params.IdempotencyKey != "" {
			key = params.IdempotencyKey
		}
		var batchID int64
		err = tx.QueryRowContext(ctx, `INSERT INTO batches (pipeline, source, accepted, rejected, idempotency_key, request_sha256, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			params.Pipeline, params.Source, len(params.Rows), len(params.Rejects), key, params.RequestSHA256, now).Scan(&batchID)
		if err != nil {
			return fmt.Errorf("batch for %s: %w", params.Pipeline, interpretError(err))
		}
		if err := insertRows(ctx, tx, table, batchID, params.Schema, idx, cols, params.Rows); err != nil {
			return fmt.Errorf("batch for %s: %w", params.Pipeline, err)
		}
		errs, err := insertRejects(ctx, tx, params.Pipeline, batchID, now, params.Rejects)
		if err != nil {
			return fmt.Errorf("batch for %s: %w", params.Pipeline, err)
		}
		res = &store.BatchResult{
			BatchID:  batchID,
			Accepted: int64(len(params.Rows)),
			Rejected: int64(len(params.Rejects)),
			Errors:   errs,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// rowsPerInsert is how many rows one INSERT statement carries: binding a
// chunk per step halves the per-row cost of the driver round trip.
const rowsPerInsert = 64

// insertRows inserts rows with one prepared multi-row statement, reused for
// every full chunk, and one more for the tail.
func insertRows(ctx context.Context, tx *sql.Tx, table string, batchID int64, c *schema.Compiled, idx []int, cols []storedColumn, rows []schema.Row) error {
	if len(rows) == 0 {
		return nil
	}
	width := c.Len()
	for j, row := range rows {
		if len(row) != width {
			return fmt.Errorf("row %d has %d values, the schema has %d columns", j, len(row), width)
		}
	}
	per := 2 + len(cols)
	prepare := func(n int) (*sql.Stmt, error) {
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + table + ` (batch_id, row_no`)
		for _, sc := range cols {
			b.WriteString(`, ` + sc.ident())
		}
		b.WriteString(`) VALUES `)
		tuple := `(?` + strings.Repeat(`, ?`, per-1) + `)`
		for i := range n {
			if i > 0 {
				b.WriteString(`, `)
			}
			b.WriteString(tuple)
		}
		stmt, err := tx.PrepareContext(ctx, b.String())
		if err != nil {
			return nil, fmt.Errorf("prepare row insert: %w", interpretError(err))
		}
		return stmt, nil
	}
	types := make([]schema.Type, len(idx))
	// Declared category labels boxed once: no allocation per value.
	labels := make([][]any, len(idx))
	for k, i := range idx {
		col := c.Column(i)
		types[k] = col.Type
		for _, v := range col.Values {
			labels[k] = append(labels[k], v)
		}
	}
	args := make([]any, per*min(rowsPerInsert, len(rows)))
	var stmt *sql.Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	for start := 0; start < len(rows); start += rowsPerInsert {
		chunk := rows[start:min(start+rowsPerInsert, len(rows))]
		if stmt == nil || len(chunk) != rowsPerInsert {
			if stmt != nil {
				stmt.Close()
			}
			var err error
			if stmt, err = prepare(len(chunk)); err != nil {
				return err
			}
		}
		a := args[:per*len(chunk)]
		for r, row := range chunk {
			o := a[r*per : (r+1)*per]
			o[0] = batchID
			o[1] = int64(start + r)
			for k, i := range idx {
				v := row[i]
				switch {
				case v.Missing:
					o[2+k] = nil
				case types[k] == schema.Number:
					o[2+k] = v.Num
				case types[k] == schema.Integer:
					o[2+k] = int64(v.Num)
				case types[k] == schema.Boolean:
					o[2+k] = boolInt(v.Num != 0)
				default:
					if j := int(v.Num); j >= 0 && j < len(labels[k]) && float64(j) == v.Num && labels[k][j] == any(v.Str) {
						o[2+k] = labels[k][j]
					} else {
						o[2+k] = v.Str
					}
				}
			}
		}
		if _, err := stmt.ExecContext(ctx, a...); err != nil {
			return fmt.Errorf("insert rows %d..%d: %w", start, start+len(chunk)-1, interpretError(err))
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// insertRejects quarantines rejects and returns them as read back: with
// batch id and time, in row order.
func insertRejects(ctx context.Context, tx *sql.Tx, pipeline string, batchID int64, now string, rejects []*store.Reject) ([]*store.Reject, error) {
	out := make([]*store.Reject, 0, len(rejects))
	if len(rejects) == 0 {
		return out, nil
	}
	created, err := parseTime(now)
	if err != nil {
		return nil, err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO quarantine (pipeline, batch_id, row_index, raw, reasons, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("prepare quarantine insert: %w", interpretError(err))
	}
	defer stmt.Close()
	for _, r := range rejects {
		if r == nil {
			return nil, errors.New("nil reject")
		}
		reasons, err := encodeReasons(r.Fields)
		if err != nil {
			return nil, fmt.Errorf("reject of row %d: %w", r.Row, err)
		}
		if _, err := stmt.ExecContext(ctx, pipeline, batchID, r.Row, r.Raw, reasons, now); err != nil {
			return nil, fmt.Errorf("quarantine row %d: %w", r.Row, interpretError(err))
		}
		out = append(out, &store.Reject{Row: r.Row, Raw: r.Raw, Fields: r.Fields, BatchID: batchID, CreatedAt: created})
	}
	slices.SortStableFunc(out, func(a, b *store.Reject) int { return a.Row - b.Row })
	return out, nil
}

func encodeReasons(fe schema.FieldErrors) (string, error) {
	if fe == nil {
		return "{}", nil
	}
	b, err := json.Marshal(fe)
	return string(b), err
}

// BatchGet returns a stored batch with up to maxErrors of its rejects.
func (db *DB) BatchGet(ctx context.Context, pipeline string, batchID int64, maxErrors int) (*store.BatchResult, error) {
	var res *store.BatchResult
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = batchGet(ctx, tx, pipeline, batchID, maxErrors)
		return err
	})
	return res, err
}

func batchGet(ctx context.Context, q querier, pipeline string, batchID int64, maxErrors int) (*store.BatchResult, error) {
	res := &store.BatchResult{BatchID: batchID, Errors: []*store.Reject{}}
	err := q.QueryRowContext(ctx, `SELECT accepted, rejected FROM batches WHERE id = ? AND pipeline = ?`, batchID, pipeline).
		Scan(&res.Accepted, &res.Rejected)
	if err != nil {
		return nil, fmt.Errorf("batch %d of %s: %w", batchID, pipeline, interpretError(err))
	}
	if maxErrors == 0 || res.Rejected == 0 {
		return res, nil
	}
	limit := int64(maxErrors)
	if maxErrors < 0 {
		limit = res.Rejected
	}
	res.Errors, err = queryRejects(ctx, q, `SELECT batch_id, row_index, raw, reasons, created_at FROM quarantine
		WHERE batch_id = ? ORDER BY row_index, id LIMIT ?`, batchID, limit)
	if err != nil {
		return nil, fmt.Errorf("batch %d of %s: %w", batchID, pipeline, err)
	}
	return res, nil
}

func queryRejects(ctx context.Context, q querier, query string, args ...any) ([]*store.Reject, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	out := []*store.Reject{}
	for rows.Next() {
		r := &store.Reject{}
		var reasons, at string
		if err := rows.Scan(&r.BatchID, &r.Row, &r.Raw, &reasons, &at); err != nil {
			return nil, interpretError(err)
		}
		if err := json.Unmarshal([]byte(reasons), &r.Fields); err != nil {
			return nil, fmt.Errorf("decode reasons of row %d: %w", r.Row, err)
		}
		if r.CreatedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, interpretError(rows.Err())
}

// RowsCount counts a pipeline's rows after a batch id from the batch
// records.
func (db *DB) RowsCount(ctx context.Context, params *store.RowsCountParams) (int64, error) {
	var n int64
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM datasets WHERE pipeline = ?`, params.Pipeline).Scan(&one); err != nil {
			return fmt.Errorf("dataset %s: %w", params.Pipeline, interpretError(err))
		}
		err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(accepted), 0) FROM batches WHERE pipeline = ? AND id > ?`,
			params.Pipeline, params.AfterBatch).Scan(&n)
		if err != nil {
			return fmt.Errorf("count rows of %s: %w", params.Pipeline, interpretError(err))
		}
		return nil
	})
	return n, err
}

// QuarantineList returns quarantined rows, newest first.
func (db *DB) QuarantineList(ctx context.Context, params *store.QuarantineListParams) ([]*store.Reject, error) {
	limit := params.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []*store.Reject
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		if params.BatchID != 0 {
			out, err = queryRejects(ctx, tx, `SELECT batch_id, row_index, raw, reasons, created_at FROM quarantine
				WHERE pipeline = ? AND batch_id = ? ORDER BY id DESC LIMIT ?`, params.Pipeline, params.BatchID, limit)
		} else {
			out, err = queryRejects(ctx, tx, `SELECT batch_id, row_index, raw, reasons, created_at FROM quarantine
				WHERE pipeline = ? ORDER BY id DESC LIMIT ?`, params.Pipeline, limit)
		}
		if err != nil {
			return fmt.Errorf("quarantine of %s: %w", params.Pipeline, err)
		}
		return nil
	})
	return out, err
}
