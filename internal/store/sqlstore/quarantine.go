package sqlstore

import (
	"context"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
)

// QuarantinePending returns the quarantined rows no replay moved yet,
// oldest first, with their batch's format and CSV header.
func (s *Store) QuarantinePending(ctx context.Context, params *store.QuarantinePendingParams) ([]*store.PendingReject, error) {
	limit := params.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.d.Reader().Query(ctx, `SELECT q.id, q.batch_id, q.row_index, q.line, q.raw, q.reasons, q.created_at, b.format, b.header
		FROM quarantine q JOIN batches b ON b.id = q.batch_id
		WHERE q.pipeline = $1 AND q.replayed_batch_id IS NULL AND q.id > $2 ORDER BY q.id LIMIT $3`,
		params.Pipeline, params.AfterID, limit)
	if err != nil {
		return nil, fmt.Errorf("pending quarantine of %s: %w", params.Pipeline, err)
	}
	defer rows.Close()
	out := []*store.PendingReject{}
	for rows.Next() {
		p := &store.PendingReject{Reject: &store.Reject{}}
		var raw, header []byte
		var reasons string
		var at timeDest
		if err := rows.Scan(&p.ID, &p.BatchID, &p.Row, &p.Line, &raw, &reasons, &at, &p.Format, &header); err != nil {
			return nil, fmt.Errorf("pending quarantine of %s: %w", params.Pipeline, err)
		}
		p.Raw, p.Header, p.CreatedAt = string(raw), string(header), at.t
		if p.Fields, err = decodeReasons(reasons); err != nil {
			return nil, fmt.Errorf("pending quarantine of %s: row %d: %w", params.Pipeline, p.ID, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending quarantine of %s: %w", params.Pipeline, err)
	}
	return out, nil
}

// QuarantineReplay writes the batch and marks each quarantined row with
// it in one transaction. The mark only takes a row no replay marked
// before, so two replays racing for a row cannot both store it: the
// loser's transaction rolls back with ErrConflict.
func (s *Store) QuarantineReplay(ctx context.Context, params *store.QuarantineReplayParams) (*store.BatchResult, error) {
	if len(params.Rows) != len(params.IDs) {
		return nil, fmt.Errorf("replay quarantine of %s: %d rows for %d quarantined ids", params.Pipeline, len(params.Rows), len(params.IDs))
	}
	table, err := s.table(params.Pipeline)
	if err != nil {
		return nil, err
	}
	if params.Schema == nil {
		return nil, fmt.Errorf("replay quarantine of %s: schema is nil", params.Pipeline)
	}
	var res *store.BatchResult
	err = s.d.WriteTx(ctx, func(tx Querier) error {
		m, err := loadMapping(ctx, tx, params.Pipeline, s.d.RowLock())
		if err != nil {
			return err
		}
		res, err = s.writeBatch(ctx, tx, table, m, &store.BatchInsertParams{
			Pipeline: params.Pipeline, Schema: params.Schema, Source: params.Source, Format: store.FormatReplay, Rows: params.Rows,
		})
		if err != nil {
			return err
		}
		for _, id := range params.IDs {
			n, err := tx.Exec(ctx, `UPDATE quarantine SET replayed_batch_id = $1
				WHERE id = $2 AND pipeline = $3 AND replayed_batch_id IS NULL`, res.BatchID, id, params.Pipeline)
			if err != nil {
				return fmt.Errorf("mark quarantined row %d: %w", id, err)
			}
			if n != 1 {
				return fmt.Errorf("%w: quarantined row %d was replayed already or is not a row of %s", store.ErrConflict, id, params.Pipeline)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replay quarantine of %s: %w", params.Pipeline, err)
	}
	return res, nil
}
