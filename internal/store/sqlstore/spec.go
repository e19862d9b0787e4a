package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
)

const specCols = `pipeline, version, sha256, spec, source, created_at`

func scanSpec(s Row) (*store.Spec, error) {
	sp := &store.Spec{}
	var at timeDest
	if err := s.Scan(&sp.Pipeline, &sp.Version, &sp.SHA256, &sp.Spec, &sp.Source, &at); err != nil {
		return nil, err
	}
	sp.CreatedAt = at.t
	return sp, nil
}

// SpecPut stores a new spec version unless the current one has the same
// hash. The pipeline lock makes the compare and the insert one step for
// concurrent writers.
func (s *Store) SpecPut(ctx context.Context, params *store.SpecPutParams) (*store.Spec, error) {
	if params.Pipeline == "" || params.Spec == "" || params.SHA256 == "" {
		return nil, errors.New("put spec: pipeline, spec and sha256 are required")
	}
	var out *store.Spec
	err := s.d.WriteTx(ctx, func(tx Querier) error {
		if err := s.d.LockPipeline(ctx, tx, params.Pipeline); err != nil {
			return err
		}
		cur, err := scanSpec(tx.QueryRow(ctx, `SELECT `+specCols+` FROM pipeline_specs WHERE pipeline = $1
			ORDER BY version DESC LIMIT 1`, params.Pipeline))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if cur != nil && cur.SHA256 == params.SHA256 {
			cur.Unchanged = true
			out = cur
			return nil
		}
		next := 1
		if cur != nil {
			next = cur.Version + 1
		}
		out, err = scanSpec(tx.QueryRow(ctx, `INSERT INTO pipeline_specs (pipeline, version, sha256, spec, source, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+specCols,
			params.Pipeline, next, params.SHA256, params.Spec, s.d.Text(params.Source), s.d.Time(s.now())))
		if err != nil {
			return err
		}
		return s.d.Notify(ctx, tx, store.ChannelSpecs, params.Pipeline)
	})
	if err != nil {
		return nil, fmt.Errorf("put spec of %s: %w", params.Pipeline, err)
	}
	return out, nil
}

// SpecGet returns one spec version.
func (s *Store) SpecGet(ctx context.Context, pipeline string, version int) (*store.Spec, error) {
	sp, err := scanSpec(s.d.Reader().QueryRow(ctx, `SELECT `+specCols+` FROM pipeline_specs WHERE pipeline = $1 AND version = $2`,
		pipeline, version))
	if err != nil {
		return nil, fmt.Errorf("spec v%d of %s: %w", version, pipeline, err)
	}
	return sp, nil
}

// SpecCurrentList returns the highest spec version of every pipeline.
func (s *Store) SpecCurrentList(ctx context.Context) ([]*store.Spec, error) {
	rows, err := s.d.Reader().Query(ctx, `SELECT `+specCols+` FROM pipeline_specs p
		WHERE version = (SELECT max(version) FROM pipeline_specs q WHERE q.pipeline = p.pipeline)
		ORDER BY pipeline`)
	if err != nil {
		return nil, fmt.Errorf("list current specs: %w", err)
	}
	defer rows.Close()
	out := []*store.Spec{}
	for rows.Next() {
		sp, err := scanSpec(rows)
		if err != nil {
			return nil, fmt.Errorf("list current specs: %w", err)
		}
		out = append(out, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list current specs: %w", err)
	}
	return out, nil
}
