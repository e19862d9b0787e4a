package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
)

const versionCols = `pipeline, version, state, algorithm, metrics, artifact_sha256, artifact_key,
	data_watermark, data_rows, data_sha256, run_id, reason, created_at`

type scanner interface{ Scan(dest ...any) error }

func scanVersion(s scanner) (*store.Version, error) {
	v := &store.Version{}
	var metrics, at string
	err := s.Scan(&v.Pipeline, &v.Version, &v.State, &v.Algorithm, &metrics, &v.ArtifactSHA256, &v.ArtifactKey,
		&v.DataWatermark, &v.DataRows, &v.DataSHA256, &v.RunID, &v.Reason, &at)
	if err != nil {
		return nil, interpretError(err)
	}
	if v.Metrics, err = store.DecodeMetrics(metrics); err != nil {
		return nil, err
	}
	if v.CreatedAt, err = parseTime(at); err != nil {
		return nil, err
	}
	return v, nil
}

func getVersion(ctx context.Context, q querier, where string, args ...any) (*store.Version, error) {
	return scanVersion(q.QueryRowContext(ctx, `SELECT `+versionCols+` FROM model_versions `+where, args...))
}

func listVersions(ctx context.Context, q querier, where string, args ...any) ([]*store.Version, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+versionCols+` FROM model_versions `+where, args...)
	if err != nil {
		return nil, interpretError(err)
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
	return out, interpretError(rows.Err())
}

// VersionCreate registers a candidate with the next version number, or
// returns the version its run already registered.
func (db *DB) VersionCreate(ctx context.Context, params *store.VersionCreateParams) (*store.Version, error) {
	if params.Pipeline == "" {
		return nil, errors.New("create version: pipeline is empty")
	}
	metrics, err := store.EncodeMetrics(params.Metrics)
	if err != nil {
		return nil, fmt.Errorf("create version of %s: %w", params.Pipeline, err)
	}
	var out *store.Version
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		if params.RunID > 0 {
			v, err := getVersion(ctx, tx, `WHERE pipeline = ? AND run_id = ?`, params.Pipeline, params.RunID)
			if err == nil {
				out = v
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		var next int
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE pipeline = ?`,
			params.Pipeline).Scan(&next); err != nil {
			return interpretError(err)
		}
		v, err := scanVersion(tx.QueryRowContext(ctx, `INSERT INTO model_versions (pipeline, version, state, algorithm, metrics,
			artifact_sha256, artifact_key, data_watermark, data_rows, data_sha256, run_id, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?) RETURNING `+versionCols,
			params.Pipeline, next, store.StateCandidate, params.Algorithm, metrics, params.ArtifactSHA256, params.ArtifactKey,
			params.DataWatermark, params.DataRows, params.DataSHA256, params.RunID, db.nowText()))
		if err != nil {
			return err
		}
		out = v
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create version of %s: %w", params.Pipeline, err)
	}
	return out, nil
}

// VersionGet returns one version.
func (db *DB) VersionGet(ctx context.Context, pipeline string, version int) (*store.Version, error) {
	v, err := getVersion(ctx, db.r, `WHERE pipeline = ? AND version = ?`, pipeline, version)
	if err != nil {
		return nil, fmt.Errorf("version %d of %s: %w", version, pipeline, err)
	}
	return v, nil
}

// VersionList returns a pipeline's versions, newest first.
func (db *DB) VersionList(ctx context.Context, pipeline string) ([]*store.Version, error) {
	vs, err := listVersions(ctx, db.r, `WHERE pipeline = ? ORDER BY version DESC`, pipeline)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", pipeline, err)
	}
	return vs, nil
}

// VersionProduction returns a pipeline's production version.
func (db *DB) VersionProduction(ctx context.Context, pipeline string) (*store.Version, error) {
	v, err := getVersion(ctx, db.r, `WHERE pipeline = ? AND state = 'production'`, pipeline)
	if err != nil {
		return nil, fmt.Errorf("production version of %s: %w", pipeline, err)
	}
	return v, nil
}

// ProductionList returns every production version, by pipeline name.
func (db *DB) ProductionList(ctx context.Context) ([]*store.Version, error) {
	vs, err := listVersions(ctx, db.r, `WHERE state = 'production' ORDER BY pipeline`)
	if err != nil {
		return nil, fmt.Errorf("production versions: %w", err)
	}
	return vs, nil
}

// VersionReject marks a candidate rejected. Rejecting a rejected version
// again returns it unchanged (a retried run); other states are ErrConflict.
func (db *DB) VersionReject(ctx context.Context, params *store.VersionRejectParams) (*store.Version, error) {
	var out *store.Version
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		v, err := getVersion(ctx, tx, `WHERE pipeline = ? AND version = ?`, params.Pipeline, params.Version)
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
		out, err = scanVersion(tx.QueryRowContext(ctx, `UPDATE model_versions SET state = 'rejected', reason = ?
			WHERE pipeline = ? AND version = ? RETURNING `+versionCols, params.Reason, params.Pipeline, params.Version))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reject version %d of %s: %w", params.Version, params.Pipeline, err)
	}
	return out, nil
}

// productionVersion returns the current production version number, 0 when
// there is none.
func productionVersion(ctx context.Context, q querier, pipeline string) (int, error) {
	var cur int
	err := q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM model_versions WHERE pipeline = ? AND state = 'production'`,
		pipeline).Scan(&cur)
	return cur, interpretError(err)
}

// VersionPromote makes a version production, archives the previous one and
// logs the change, in one transaction.
func (db *DB) VersionPromote(ctx context.Context, params *store.VersionPromoteParams) (*store.Promotion, error) {
	if params.Action != store.ActionAuto && params.Action != store.ActionPromote {
		return nil, fmt.Errorf("promote version %d of %s: action %q must be %q or %q",
			params.Version, params.Pipeline, params.Action, store.ActionAuto, store.ActionPromote)
	}
	var out *store.Promotion
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		v, err := getVersion(ctx, tx, `WHERE pipeline = ? AND version = ?`, params.Pipeline, params.Version)
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
		out, err = db.switchProduction(ctx, tx, params.Pipeline, cur, params.Version, params.Action, params.Actor, params.Reason)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("promote version %d of %s: %w", params.Version, params.Pipeline, err)
	}
	return out, nil
}

// VersionRollback makes production again the version the current one
// replaced, per the last non-rollback promotion to the current version.
func (db *DB) VersionRollback(ctx context.Context, params *store.VersionRollbackParams) (*store.Promotion, error) {
	var out *store.Promotion
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		cur, err := productionVersion(ctx, tx, params.Pipeline)
		if err != nil {
			return err
		}
		if cur == 0 {
			return fmt.Errorf("%w: there is no production version", store.ErrConflict)
		}
		var prev int
		err = tx.QueryRowContext(ctx, `SELECT from_version FROM promotions
			WHERE pipeline = ? AND to_version = ? AND action <> 'rollback' ORDER BY id DESC LIMIT 1`,
			params.Pipeline, cur).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return interpretError(err)
		}
		if prev == 0 {
			return fmt.Errorf("%w: no version was production before version %d", store.ErrConflict, cur)
		}
		out, err = db.switchProduction(ctx, tx, params.Pipeline, cur, prev, store.ActionRollback, params.Actor, params.Reason)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("roll back %s: %w", params.Pipeline, err)
	}
	return out, nil
}

// switchProduction archives from (when not 0), makes to production and
// appends the promotion log entry.
func (db *DB) switchProduction(ctx context.Context, tx *sql.Tx, pipeline string, from, to int, action, actor, reason string) (*store.Promotion, error) {
	if from != 0 {
		why := fmt.Sprintf("replaced by version %d (%s)", to, action)
		if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET state = 'archived', reason = ?
			WHERE pipeline = ? AND version = ? AND state = 'production'`, why, pipeline, from); err != nil {
			return nil, fmt.Errorf("archive version %d: %w", from, interpretError(err))
		}
	}
	why := reason
	if why == "" {
		why = action
	}
	res, err := tx.ExecContext(ctx, `UPDATE model_versions SET state = 'production', reason = ? WHERE pipeline = ? AND version = ?`,
		why, pipeline, to)
	if err != nil {
		return nil, fmt.Errorf("make version %d production: %w", to, interpretError(err))
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, fmt.Errorf("make version %d production: %w", to, store.ErrNotFound)
	}
	p, err := scanPromotion(tx.QueryRowContext(ctx, `INSERT INTO promotions (pipeline, from_version, to_version, action, actor, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+promotionCols, pipeline, from, to, action, actor, reason, db.nowText()))
	if err != nil {
		return nil, fmt.Errorf("log promotion: %w", err)
	}
	return p, nil
}

const promotionCols = `id, pipeline, from_version, to_version, action, actor, reason, created_at`

func scanPromotion(s scanner) (*store.Promotion, error) {
	p := &store.Promotion{}
	var at string
	if err := s.Scan(&p.ID, &p.Pipeline, &p.FromVersion, &p.ToVersion, &p.Action, &p.Actor, &p.Reason, &at); err != nil {
		return nil, interpretError(err)
	}
	var err error
	p.CreatedAt, err = parseTime(at)
	return p, err
}

// PromotionList returns a pipeline's promotion log, newest first.
func (db *DB) PromotionList(ctx context.Context, pipeline string) ([]*store.Promotion, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+promotionCols+` FROM promotions WHERE pipeline = ? ORDER BY id DESC`, pipeline)
	if err != nil {
		return nil, fmt.Errorf("promotions of %s: %w", pipeline, interpretError(err))
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
		return nil, fmt.Errorf("promotions of %s: %w", pipeline, interpretError(err))
	}
	return out, nil
}
