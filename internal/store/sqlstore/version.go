package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
)

const versionCols = `pipeline, version, state, algorithm, metrics, artifact_sha256, artifact_key,
	data_watermark, data_rows, data_sha256, run_id, reason, created_at, spec_version, gate, checks`

func scanVersion(s Row) (*store.Version, error) {
	v := &store.Version{}
	var metrics, gate string
	var at timeDest
	err := s.Scan(&v.Pipeline, &v.Version, &v.State, &v.Algorithm, &metrics, &v.ArtifactSHA256, &v.ArtifactKey,
		&v.DataWatermark, &v.DataRows, &v.DataSHA256, &v.RunID, &v.Reason, &at, &v.SpecVersion, &gate, &v.Checks)
	if err != nil {
		return nil, err
	}
	if v.Metrics, err = store.DecodeMetrics(metrics); err != nil {
		return nil, err
	}
	if v.Gate, err = store.DecodeGate(gate); err != nil {
		return nil, err
	}
	v.CreatedAt = at.t
	return v, nil
}

func getVersion(ctx context.Context, q Querier, where string, args ...any) (*store.Version, error) {
	return scanVersion(q.QueryRow(ctx, `SELECT `+versionCols+` FROM model_versions `+where, args...))
}

func listVersions(ctx context.Context, q Querier, where string, args ...any) ([]*store.Version, error) {
	rows, err := q.Query(ctx, `SELECT `+versionCols+` FROM model_versions `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*store.Version{}
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// VersionCreate registers a candidate with the next version number, or
// returns the version its run already registered. The pipeline's registry
// lock makes the number and the run check race-free.
func (s *Store) VersionCreate(ctx context.Context, params *store.VersionCreateParams) (*store.Version, error) {
	if params.Pipeline == "" {
		return nil, errors.New("create version: pipeline is empty")
	}
	metrics, err := store.EncodeMetrics(params.Metrics)
	if err != nil {
		return nil, fmt.Errorf("create version of %s: %w", params.Pipeline, err)
	}
	var out *store.Version
	err = s.d.WriteTx(ctx, func(tx Querier) error {
		if err := s.d.LockPipeline(ctx, tx, params.Pipeline); err != nil {
			return err
		}
		if params.RunID > 0 {
			v, err := getVersion(ctx, tx, `WHERE pipeline = $1 AND run_id = $2`, params.Pipeline, params.RunID)
			if err == nil {
				out = v
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		v, err := scanVersion(tx.QueryRow(ctx, `INSERT INTO model_versions (pipeline, version, state, algorithm, metrics,
			artifact_sha256, artifact_key, data_watermark, data_rows, data_sha256, run_id, reason, created_at, spec_version, checks)
			SELECT $1, coalesce(max(version), 0) + 1, 'candidate', $2, $3, $4, $5, $6, $7, $8, $9, '', $10, $11, $12
			FROM model_versions WHERE pipeline = $1
			RETURNING `+versionCols,
			params.Pipeline, s.d.Text(params.Algorithm), metrics, s.d.Text(params.ArtifactSHA256), s.d.Text(params.ArtifactKey),
			params.DataWatermark, params.DataRows, s.d.Text(params.DataSHA256), params.RunID, s.d.Time(s.now()), params.SpecVersion, s.d.Text(params.Checks)))
		if err != nil {
			return err
		}
		out = v
		return s.d.Notify(ctx, tx, store.ChannelRegistry, params.Pipeline)
	})
	if err != nil {
		return nil, fmt.Errorf("create version of %s: %w", params.Pipeline, err)
	}
	return out, nil
}

// VersionGet returns one version.
func (s *Store) VersionGet(ctx context.Context, pipeline string, version int) (*store.Version, error) {
	v, err := getVersion(ctx, s.d.Reader(), `WHERE pipeline = $1 AND version = $2`, pipeline, version)
	if err != nil {
		return nil, fmt.Errorf("version %d of %s: %w", version, pipeline, err)
	}
	return v, nil
}

// VersionList returns a pipeline's versions, newest first.
func (s *Store) VersionList(ctx context.Context, pipeline string) ([]*store.Version, error) {
	vs, err := listVersions(ctx, s.d.Reader(), `WHERE pipeline = $1 ORDER BY version DESC`, pipeline)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", pipeline, err)
	}
	return vs, nil
}

// VersionProduction returns a pipeline's production version.
func (s *Store) VersionProduction(ctx context.Context, pipeline string) (*store.Version, error) {
	v, err := getVersion(ctx, s.d.Reader(), `WHERE pipeline = $1 AND state = 'production'`, pipeline)
	if err != nil {
		return nil, fmt.Errorf("production version of %s: %w", pipeline, err)
	}
	return v, nil
}

// ProductionList returns every production version, by pipeline name.
func (s *Store) ProductionList(ctx context.Context) ([]*store.Version, error) {
	vs, err := listVersions(ctx, s.d.Reader(), `WHERE state = 'production' ORDER BY pipeline`)
	if err != nil {
		return nil, fmt.Errorf("production versions: %w", err)
	}
	return vs, nil
}

// VersionReject marks a candidate rejected. Rejecting a rejected version
// again returns it unchanged (a retried run); other states are ErrConflict.
func (s *Store) VersionReject(ctx context.Context, params *store.VersionRejectParams) (*store.Version, error) {
	var out *store.Version
	err := s.d.WriteTx(ctx, func(tx Querier) error {
		if err := s.d.LockPipeline(ctx, tx, params.Pipeline); err != nil {
			return err
		}
		v, err := getVersion(ctx, tx, `WHERE pipeline = $1 AND version = $2`, params.Pipeline, params.Version)
		if err != nil {
			return err
		}
		switch v.State {
		case store.StateRejected:
			out = v
			return nil
		case store.StateCandidate:
		default:
			return fmt.Errorf("%w: version is %s, only a candidate can be rejected", store.ErrConflict, v.State)
		}
		out, err = scanVersion(tx.QueryRow(ctx, `UPDATE model_versions SET state = 'rejected', reason = $1
			WHERE pipeline = $2 AND version = $3 RETURNING `+versionCols, s.d.Text(params.Reason), params.Pipeline, params.Version))
		if err != nil {
			return err
		}
		return s.d.Notify(ctx, tx, store.ChannelRegistry, params.Pipeline)
	})
	if err != nil {
		return nil, fmt.Errorf("reject version %d of %s: %w", params.Version, params.Pipeline, err)
	}
	return out, nil
}

// productionVersion returns the current production version number, 0 when
// there is none.
func productionVersion(ctx context.Context, q Querier, pipeline string) (int, error) {
	var cur int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM model_versions WHERE pipeline = $1 AND state = 'production'`,
		pipeline).Scan(&cur)
	return cur, err
}

// VersionPromote makes a version production, archives the previous one and
// logs the change, in one transaction under the pipeline's registry lock.
func (s *Store) VersionPromote(ctx context.Context, params *store.VersionPromoteParams) (*store.Promotion, error) {
	if params.Action != store.ActionAuto && params.Action != store.ActionPromote {
		return nil, fmt.Errorf("promote version %d of %s: action %q must be %q or %q",
			params.Version, params.Pipeline, params.Action, store.ActionAuto, store.ActionPromote)
	}
	var out *store.Promotion
	err := s.d.WriteTx(ctx, func(tx Querier) error {
		if err := s.d.LockPipeline(ctx, tx, params.Pipeline); err != nil {
			return err
		}
		v, err := getVersion(ctx, tx, `WHERE pipeline = $1 AND version = $2`, params.Pipeline, params.Version)
		if err != nil {
			return err
		}
		cur, err := productionVersion(ctx, tx, params.Pipeline)
		if err != nil {
			return err
		}
		if params.ExpectCurrent != nil && *params.ExpectCurrent != cur {
			return fmt.Errorf("%w: production version is %d, expected %d", store.ErrConflict, cur, *params.ExpectCurrent)
		}
		if cur == params.Version {
			return fmt.Errorf("%w: version %d is already production", store.ErrConflict, cur)
		}
		if v.State == store.StateRejected && params.Action != store.ActionPromote {
			return fmt.Errorf("%w: version %d was rejected (%s); only a manual promote may override that",
				store.ErrConflict, params.Version, v.Reason)
		}
		out, err = s.switchProduction(ctx, tx, params.Pipeline, cur, params.Version, params.Action, params.Actor, params.Reason)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("promote version %d of %s: %w", params.Version, params.Pipeline, err)
	}
	return out, nil
}

// VersionRollback makes production again the version the current one
// replaced, per the last non-rollback promotion to the current version.
func (s *Store) VersionRollback(ctx context.Context, params *store.VersionRollbackParams) (*store.Promotion, error) {
	var out *store.Promotion
	err := s.d.WriteTx(ctx, func(tx Querier) error {
		if err := s.d.LockPipeline(ctx, tx, params.Pipeline); err != nil {
			return err
		}
		cur, err := productionVersion(ctx, tx, params.Pipeline)
		if err != nil {
			return err
		}
		if cur == 0 {
			return fmt.Errorf("%w: there is no production version", store.ErrConflict)
		}
		var prev int
		var undone string
		err = tx.QueryRow(ctx, `SELECT from_version, reason FROM promotions
			WHERE pipeline = $1 AND to_version = $2 AND action <> 'rollback' ORDER BY id DESC LIMIT 1`,
			params.Pipeline, cur).Scan(&prev, &undone)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if prev == 0 {
			return fmt.Errorf("%w: no version was production before version %d", store.ErrConflict, cur)
		}
		out, err = s.switchProduction(ctx, tx, params.Pipeline, cur, prev, store.ActionRollback, params.Actor,
			rollbackReason(params.Reason, cur, undone))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("roll back %s: %w", params.Pipeline, err)
	}
	return out, nil
}

// rollbackReason is the log reason of a rollback of version cur: the
// caller's reason and the reason cur was promoted for, so the log says
// what was undone and why it had been done.
func rollbackReason(reason string, cur int, undone string) string {
	if undone == "" {
		undone = "no reason given"
	}
	what := fmt.Sprintf("undoes v%d's promotion (%s)", cur, undone)
	if reason == "" {
		return what
	}
	return reason + "; " + what
}

// switchProduction archives from (when not 0), makes to production,
// appends the promotion log entry and signals ChannelRegistry.
func (s *Store) switchProduction(ctx context.Context, tx Querier, pipeline string, from, to int, action, actor, reason string) (*store.Promotion, error) {
	actor, reason = s.d.Text(actor), s.d.Text(reason)
	if from != 0 {
		why := fmt.Sprintf("replaced by version %d (%s)", to, action)
		if _, err := tx.Exec(ctx, `UPDATE model_versions SET state = 'archived', reason = $1
			WHERE pipeline = $2 AND version = $3 AND state = 'production'`, why, pipeline, from); err != nil {
			return nil, fmt.Errorf("archive version %d: %w", from, err)
		}
	}
	why := reason
	if why == "" {
		why = action
	}
	n, err := tx.Exec(ctx, `UPDATE model_versions SET state = 'production', reason = $1 WHERE pipeline = $2 AND version = $3`,
		why, pipeline, to)
	if err != nil {
		return nil, fmt.Errorf("make version %d production: %w", to, err)
	}
	if n != 1 {
		return nil, fmt.Errorf("make version %d production: %w", to, store.ErrNotFound)
	}
	p, err := scanPromotion(tx.QueryRow(ctx, `INSERT INTO promotions (pipeline, from_version, to_version, action, actor, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+promotionCols, pipeline, from, to, action, actor, reason, s.d.Time(s.now())))
	if err != nil {
		return nil, fmt.Errorf("log promotion: %w", err)
	}
	if err := s.d.Notify(ctx, tx, store.ChannelRegistry, pipeline); err != nil {
		return nil, err
	}
	return p, nil
}

const promotionCols = `id, pipeline, from_version, to_version, action, actor, reason, created_at`

func scanPromotion(s Row) (*store.Promotion, error) {
	p := &store.Promotion{}
	var at timeDest
	if err := s.Scan(&p.ID, &p.Pipeline, &p.FromVersion, &p.ToVersion, &p.Action, &p.Actor, &p.Reason, &at); err != nil {
		return nil, err
	}
	p.CreatedAt = at.t
	return p, nil
}

// PromotionList returns a pipeline's promotion log, newest first.
func (s *Store) PromotionList(ctx context.Context, pipeline string) ([]*store.Promotion, error) {
	rows, err := s.d.Reader().Query(ctx, `SELECT `+promotionCols+` FROM promotions WHERE pipeline = $1 ORDER BY id DESC`, pipeline)
	if err != nil {
		return nil, fmt.Errorf("promotions of %s: %w", pipeline, err)
	}
	defer rows.Close()
	out := []*store.Promotion{}
	for rows.Next() {
		p, err := scanPromotion(rows)
		if err != nil {
			return nil, fmt.Errorf("promotions of %s: %w", pipeline, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("promotions of %s: %w", pipeline, err)
	}
	return out, nil
}
