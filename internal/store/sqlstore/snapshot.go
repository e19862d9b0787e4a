package sqlstore

import (
	"context"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
)

// SnapshotRead reads a pipeline's rows up to the watermark in one read
// transaction (ReadTx): the watermark, the row count and the rows come
// from one view of the database. Batches of a pipeline commit in id order,
// so that view holds every batch up to its largest id. The row count comes
// from the batch records, so values are allocated in a few large slabs.
func (s *Store) SnapshotRead(ctx context.Context, params *store.SnapshotReadParams) (*store.Snapshot, error) {
	table, err := s.table(params.Pipeline)
	if err != nil {
		return nil, err
	}
	c := params.Schema
	if c == nil {
		return nil, fmt.Errorf("snapshot of %s: schema is nil", params.Pipeline)
	}
	snap := &store.Snapshot{Watermark: params.Watermark}
	err = s.d.ReadTx(ctx, func(tx Querier) error {
		m, err := loadMapping(ctx, tx, params.Pipeline, "")
		if err != nil {
			return err
		}
		idx, cols, ok, err := storageColumns(params.Pipeline, c, m)
		if err != nil {
			return err
		}
		if snap.Watermark <= 0 {
			err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM batches WHERE pipeline = $1`, params.Pipeline).Scan(&snap.Watermark)
			if err != nil {
				return fmt.Errorf("snapshot of %s: watermark: %w", params.Pipeline, err)
			}
		}
		var n int64
		err = tx.QueryRow(ctx, `SELECT CAST(coalesce(sum(accepted), 0) AS bigint) FROM batches WHERE pipeline = $1 AND id <= $2`,
			params.Pipeline, snap.Watermark).Scan(&n)
		if err != nil {
			return fmt.Errorf("snapshot of %s: count rows: %w", params.Pipeline, err)
		}
		var read []*Column
		for k, found := range ok {
			if found {
				read = append(read, newColumn(c, idx[k], cols[k]))
			}
		}
		rd := newRowsRead(table, c, read, snap.Watermark, n)
		if err := s.d.ReadRows(ctx, tx, rd); err != nil {
			return fmt.Errorf("snapshot of %s: %w", params.Pipeline, err)
		}
		snap.Rows = rd.rows
		return nil
	})
	if err != nil {
		return nil, err
	}
	h := store.NewRowHasher(c)
	for _, r := range snap.Rows {
		h.Add(r)
	}
	snap.SHA256 = h.Sum()
	return snap, nil
}
