package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// BatchInsert stores a batch in one write transaction. It first locks the
// pipeline's datasets row (RowLock), so batches of one pipeline take their
// ids and commit one after another, and a request racing another with the
// same Idempotency-Key finds the winner's batch once the winner commits.
// Then it writes the batch record, the rows (the dialect's InsertRows) and
// the rejects, and signals ChannelBatches on commit.
func (s *Store) BatchInsert(ctx context.Context, params *store.BatchInsertParams) (*store.BatchResult, error) {
	table, err := s.table(params.Pipeline)
	if err != nil {
		return nil, err
	}
	c := params.Schema
	if c == nil {
		return nil, fmt.Errorf("batch for %s: schema is nil", params.Pipeline)
	}
	width := c.Len()
	for j, row := range params.Rows {
		if len(row) != width {
			return nil, fmt.Errorf("batch for %s: row %d has %d values, the schema has %d columns", params.Pipeline, j, len(row), width)
		}
	}
	for _, r := range params.Rejects {
		if r == nil {
			return nil, fmt.Errorf("batch for %s: nil reject", params.Pipeline)
		}
	}
	if err := s.d.CheckText("Idempotency-Key", params.IdempotencyKey); err != nil {
		return nil, fmt.Errorf("batch for %s: %w", params.Pipeline, err)
	}
	var res *store.BatchResult
	err = s.d.WriteTx(ctx, func(tx Querier) error {
		m, err := loadMapping(ctx, tx, params.Pipeline, s.d.RowLock())
		if err != nil {
			return err
		}
		if params.IdempotencyKey != "" {
			var id int64
			var hash string
			err := tx.QueryRow(ctx, `SELECT id, request_sha256 FROM batches WHERE pipeline = $1 AND idempotency_key = $2`,
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
			case !errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("batch for %s: look up idempotency key: %w", params.Pipeline, err)
			}
		}
		res, err = s.writeBatch(ctx, tx, table, m, params)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// writeBatch writes a batch inside tx, whose pipeline's datasets row is
// locked and read as m: the batch record, the rows (the dialect's
// InsertRows) and the rejects, and signals ChannelBatches on commit.
func (s *Store) writeBatch(ctx context.Context, tx Querier, table string, m mapping, params *store.BatchInsertParams) (*store.BatchResult, error) {
	c := params.Schema
	idx, cols, ok, err := storageColumns(params.Pipeline, c, m)
	if err != nil {
		return nil, err
	}
	ins := &RowsInsert{Table: table, Rows: params.Rows}
	for k, found := range ok {
		if !found {
			return nil, fmt.Errorf("batch for %s: %w: column %q is not in the stored dataset; call DatasetEnsure with this schema first",
				params.Pipeline, store.ErrSchemaChanged, c.Column(idx[k]).Name)
		}
		ins.Columns = append(ins.Columns, newColumn(c, idx[k], cols[k]))
	}

	now := s.now()
	var key any
	if params.IdempotencyKey != "" {
		key = params.IdempotencyKey
	}
	err = tx.QueryRow(ctx, `INSERT INTO batches (pipeline, source, accepted, rejected, idempotency_key, request_sha256, format, header, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		params.Pipeline, s.d.Text(params.Source), len(params.Rows), len(params.Rejects), key, s.d.Text(params.RequestSHA256),
		s.d.Text(params.Format), s.d.Raw(params.Header), s.d.Time(now)).Scan(&ins.BatchID)
	if err != nil {
		return nil, fmt.Errorf("batch for %s: %w", params.Pipeline, err)
	}
	if len(ins.Rows) > 0 {
		if err := s.d.InsertRows(ctx, tx, ins); err != nil {
			return nil, fmt.Errorf("batch for %s: %w", params.Pipeline, err)
		}
	}
	errs, err := s.insertRejects(ctx, tx, params.Pipeline, ins.BatchID, now, params.Rejects)
	if err != nil {
		return nil, fmt.Errorf("batch for %s: %w", params.Pipeline, err)
	}
	if err := s.d.Notify(ctx, tx, store.ChannelBatches, params.Pipeline); err != nil {
		return nil, err
	}
	return &store.BatchResult{
		BatchID:  ins.BatchID,
		Accepted: int64(len(params.Rows)),
		Rejected: int64(len(params.Rejects)),
		Errors:   errs,
	}, nil
}

// quarantineCols are the columns BulkInsert writes for a reject.
var quarantineCols = []string{"pipeline", "batch_id", "row_index", "line", "raw", "reasons", "created_at"}

// insertRejects quarantines rejects in the order given (their ids follow
// it) and returns them as read back: with batch id and time, in row order.
func (s *Store) insertRejects(ctx context.Context, tx Querier, pipeline string, batchID int64, now time.Time, rejects []*store.Reject) ([]*store.Reject, error) {
	out := make([]*store.Reject, 0, len(rejects))
	if len(rejects) == 0 {
		return out, nil
	}
	at := s.d.Time(now)
	rows := make([][]any, len(rejects))
	for i, r := range rejects {
		reasons, err := encodeReasons(r.Fields)
		if err != nil {
			return nil, fmt.Errorf("reject of row %d: %w", r.Row, err)
		}
		rows[i] = []any{pipeline, batchID, r.Row, r.Line, s.d.Raw(r.Raw), reasons, at}
		out = append(out, &store.Reject{Row: r.Row, Line: r.Line, Raw: r.Raw, Fields: r.Fields, BatchID: batchID, CreatedAt: now})
	}
	if err := s.d.BulkInsert(ctx, tx, "quarantine", quarantineCols, rows); err != nil {
		return nil, fmt.Errorf("quarantine rejects: %w", err)
	}
	slices.SortStableFunc(out, func(a, b *store.Reject) int { return a.Row - b.Row })
	return out, nil
}

// encodeReasons writes field errors as a JSON object. JSON escapes NUL and
// replaces invalid UTF-8, so the text is storable on every backend.
func encodeReasons(fe schema.FieldErrors) (string, error) {
	if fe == nil {
		return "{}", nil
	}
	b, err := json.Marshal(fe)
	return string(b), err
}

// decodeReasons reads field errors written by encodeReasons.
func decodeReasons(s string) (schema.FieldErrors, error) {
	var fe schema.FieldErrors
	if err := json.Unmarshal([]byte(s), &fe); err != nil {
		return nil, fmt.Errorf("decode reasons: %w", err)
	}
	return fe, nil
}

// BatchGet returns a stored batch with up to maxErrors of its rejects.
func (s *Store) BatchGet(ctx context.Context, pipeline string, batchID int64, maxErrors int) (*store.BatchResult, error) {
	var res *store.BatchResult
	err := s.d.ReadTx(ctx, func(tx Querier) error {
		var err error
		res, err = batchGet(ctx, tx, pipeline, batchID, maxErrors)
		return err
	})
	return res, err
}

func batchGet(ctx context.Context, q Querier, pipeline string, batchID int64, maxErrors int) (*store.BatchResult, error) {
	res := &store.BatchResult{BatchID: batchID, Errors: []*store.Reject{}}
	err := q.QueryRow(ctx, `SELECT accepted, rejected FROM batches WHERE id = $1 AND pipeline = $2`, batchID, pipeline).
		Scan(&res.Accepted, &res.Rejected)
	if err != nil {
		return nil, fmt.Errorf("batch %d of %s: %w", batchID, pipeline, err)
	}
	if maxErrors == 0 || res.Rejected == 0 {
		return res, nil
	}
	limit := int64(maxErrors)
	if maxErrors < 0 {
		limit = res.Rejected
	}
	res.Errors, err = queryRejects(ctx, q, `SELECT `+rejectCols+` FROM quarantine
		WHERE batch_id = $1 ORDER BY row_index, id LIMIT $2`, batchID, limit)
	if err != nil {
		return nil, fmt.Errorf("batch %d of %s: %w", batchID, pipeline, err)
	}
	return res, nil
}

// rejectCols are the quarantine columns queryRejects scans.
const rejectCols = `id, batch_id, row_index, line, raw, reasons, created_at, coalesce(replayed_batch_id, 0)`

func queryRejects(ctx context.Context, q Querier, query string, args ...any) ([]*store.Reject, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*store.Reject{}
	for rows.Next() {
		r := &store.Reject{}
		var raw []byte
		var reasons string
		var at timeDest
		if err := rows.Scan(&r.ID, &r.BatchID, &r.Row, &r.Line, &raw, &reasons, &at, &r.ReplayedBatchID); err != nil {
			return nil, err
		}
		r.Raw, r.CreatedAt = string(raw), at.t
		var err error
		if r.Fields, err = decodeReasons(reasons); err != nil {
			return nil, fmt.Errorf("row %d: %w", r.Row, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RowsCount counts a pipeline's rows after a batch id from the batch
// records.
func (s *Store) RowsCount(ctx context.Context, params *store.RowsCountParams) (int64, error) {
	var n int64
	err := s.d.Reader().QueryRow(ctx, `SELECT (SELECT CAST(coalesce(sum(accepted), 0) AS bigint) FROM batches WHERE pipeline = $1 AND id > $2)
		FROM datasets WHERE pipeline = $1`, params.Pipeline, params.AfterBatch).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count rows of %s: %w", params.Pipeline, err)
	}
	return n, nil
}

// QuarantineList returns quarantined rows, newest first.
func (s *Store) QuarantineList(ctx context.Context, params *store.QuarantineListParams) ([]*store.Reject, error) {
	limit := params.Limit
	if limit <= 0 {
		limit = 100
	}
	where, args := `pipeline = $1`, []any{params.Pipeline}
	if params.BatchID != 0 {
		args = append(args, params.BatchID)
		where += fmt.Sprintf(` AND batch_id = $%d`, len(args))
	}
	if params.Before != 0 {
		args = append(args, params.Before)
		where += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	args = append(args, limit)
	out, err := queryRejects(ctx, s.d.Reader(), fmt.Sprintf(`SELECT %s FROM quarantine WHERE %s ORDER BY id DESC LIMIT $%d`,
		rejectCols, where, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("quarantine of %s: %w", params.Pipeline, err)
	}
	return out, nil
}
