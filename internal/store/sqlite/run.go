package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
)

const runCols = `id, pipeline, state, reason, created_at, started_at, finished_at, version, artifact_sha256,
	error, message, attempt, data_watermark, data_rows`

func scanRun(s scanner) (*store.Run, error) {
	r := &store.Run{}
	var created string
	var started, finished sql.NullString
	err := s.Scan(&r.ID, &r.Pipeline, &r.State, &r.Reason, &created, &started, &finished, &r.Version, &r.ArtifactSHA256,
		&r.Error, &r.Message, &r.Attempt, &r.DataWatermark, &r.DataRows)
	if err != nil {
		return nil, interpretError(err)
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if r.StartedAt, err = parseTimePtr(started); err != nil {
		return nil, err
	}
	if r.FinishedAt, err = parseTimePtr(finished); err != nil {
		return nil, err
	}
	return r, nil
}

// RunCreate queues a run unless one is queued for the pipeline already.
// The partial unique index runs_one_queued makes the check race-free.
func (db *DB) RunCreate(ctx context.Context, params *store.RunCreateParams) (*store.Run, error) {
	if params.Pipeline == "" {
		return nil, errors.New("create run: pipeline is empty")
	}
	reason := params.Reason
	if reason == "" {
		reason = store.ReasonManual
	}
	var out *store.Run
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := scanRun(tx.QueryRowContext(ctx, `INSERT INTO runs (pipeline, state, reason, created_at) VALUES (?, 'queued', ?, ?)
			ON CONFLICT (pipeline) WHERE state = 'queued' DO NOTHING RETURNING `+runCols,
			params.Pipeline, reason, db.nowText()))
		if err == nil {
			out = r
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		r, err = scanRun(tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE pipeline = ? AND state = 'queued'`, params.Pipeline))
		if err != nil {
			return err
		}
		r.Existing = true
		out = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create run of %s: %w", params.Pipeline, err)
	}
	return out, nil
}

// RunGet returns one run.
func (db *DB) RunGet(ctx context.Context, id int64) (*store.Run, error) {
	r, err := scanRun(db.r.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("run %d: %w", id, err)
	}
	return r, nil
}

// RunList returns runs, newest first.
func (db *DB) RunList(ctx context.Context, params *store.RunListParams) ([]*store.Run, error) {
	limit := params.Limit
	if limit <= 0 {
		limit = 50
	}
	var rows *sql.Rows
	var err error
	if params.Pipeline != "" {
		rows, err = db.r.QueryContext(ctx, `SELECT `+runCols+` FROM runs WHERE pipeline = ? ORDER BY id DESC LIMIT ?`, params.Pipeline, limit)
	} else {
		rows, err = db.r.QueryContext(ctx, `SELECT `+runCols+` FROM runs ORDER BY id DESC LIMIT ?`, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", interpretError(err))
	}
	defer rows.Close()
	out := []*store.Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", interpretError(err))
	}
	return out, nil
}

// RunStart marks a run running and counts the attempt. A succeeded run
// cannot start again (ErrConflict).
func (db *DB) RunStart(ctx context.Context, params *store.RunStartParams) (*store.Run, error) {
	var out *store.Run
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?`, params.ID))
		if err != nil {
			return err
		}
		if r.State == store.RunSucceeded {
			return fmt.Errorf("%w: run already succeeded", store.ErrConflict)
		}
		// The last attempt's error stays visible until the run finishes.
		out, err = scanRun(tx.QueryRowContext(ctx, `UPDATE runs SET state = 'running', attempt = attempt + 1, started_at = ?,
			finished_at = NULL WHERE id = ? RETURNING `+runCols, db.nowText(), params.ID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start run %d: %w", params.ID, err)
	}
	return out, nil
}

// RunFinish records a run's outcome, or with state running a failed
// attempt that will be retried (finished_at stays NULL). A succeeded run
// cannot change (ErrConflict).
func (db *DB) RunFinish(ctx context.Context, params *store.RunFinishParams) (*store.Run, error) {
	switch params.State {
	case store.RunSucceeded, store.RunFailed, store.RunRunning:
	default:
		return nil, fmt.Errorf("finish run %d: state %q must be %q, %q or %q",
			params.ID, params.State, store.RunSucceeded, store.RunFailed, store.RunRunning)
	}
	var finished any
	if params.State != store.RunRunning {
		finished = db.nowText()
	}
	var out *store.Run
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?`, params.ID))
		if err != nil {
			return err
		}
		if r.State == store.RunSucceeded {
			return fmt.Errorf("%w: run already succeeded", store.ErrConflict)
		}
		out, err = scanRun(tx.QueryRowContext(ctx, `UPDATE runs SET state = ?, finished_at = ?, version = ?, artifact_sha256 = ?,
			error = ?, message = ?, data_watermark = ?, data_rows = ? WHERE id = ? RETURNING `+runCols,
			params.State, finished, params.Version, params.ArtifactSHA256, params.Error, params.Message,
			params.DataWatermark, params.DataRows, params.ID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("finish run %d: %w", params.ID, err)
	}
	return out, nil
}

// LeaseAcquire takes the lease when it is free, expired or already the
// holder's, in one upsert.
func (db *DB) LeaseAcquire(ctx context.Context, params *store.LeaseParams) (bool, error) {
	if params.Name == "" || params.Holder == "" || params.TTL <= 0 {
		return false, fmt.Errorf("acquire lease %q: name, holder and a positive TTL are required", params.Name)
	}
	now := db.now()
	var got bool
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
			params.Name, params.Holder, formatTime(now.Add(params.TTL)), formatTime(now))
		if err != nil {
			return interpretError(err)
		}
		n, err := res.RowsAffected()
		got = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("acquire lease %q: %w", params.Name, err)
	}
	return got, nil
}

// LeaseRelease deletes the lease if holder has it.
func (db *DB) LeaseRelease(ctx context.Context, params *store.LeaseParams) error {
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, params.Name, params.Holder)
		return interpretError(err)
	})
	if err != nil {
		return fmt.Errorf("release lease %q: %w", params.Name, err)
	}
	return nil
}

// LeaseGet returns the named lease, or ErrNotFound.
func (db *DB) LeaseGet(ctx context.Context, name string) (*store.Lease, error) {
	l := &store.Lease{Name: name}
	var expires string
	if err := db.r.QueryRowContext(ctx, `SELECT holder, expires_at FROM leases WHERE name = ?`, name).Scan(&l.Holder, &expires); err != nil {
		return nil, fmt.Errorf("read lease %q: %w", name, interpretError(err))
	}
	t, err := parseTime(expires)
	if err != nil {
		return nil, fmt.Errorf("read lease %q: %w", name, err)
	}
	l.ExpiresAt = t
	return l, nil
}
