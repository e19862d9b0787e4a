package sqlstore

import (
	"context"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
)

// VersionGateSet records the gate's comparison on a version.
func (s *Store) VersionGateSet(ctx context.Context, params *store.VersionGateSetParams) error {
	gate, err := store.EncodeGate(params.Gate)
	if err != nil {
		return fmt.Errorf("record gate of %s v%d: %w", params.Pipeline, params.Version, err)
	}
	err = s.d.WriteTx(ctx, func(tx Querier) error {
		n, err := tx.Exec(ctx, `UPDATE model_versions SET gate = $1 WHERE pipeline = $2 AND version = $3`,
			s.d.Text(gate), params.Pipeline, params.Version)
		if err == nil && n == 0 {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("record gate of %s v%d: %w", params.Pipeline, params.Version, err)
	}
	return nil
}
