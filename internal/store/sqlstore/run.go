package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
)

const runCols = `id, pipeline, state, reason, created_at, started_at, finished_at, version, artifact_sha256,
	error, message, attempt, data_watermark, data_rows, spec_version, same_as, interrupted, checks`

func scanRun(s Row) (*store.Run, error) {
	r := &store.Run{}
	var created, started, finished timeDest
	var interrupted int
	err := s.Scan(&r.ID, &r.Pipeline, &r.State, &r.Reason, &created, &started, &finished, &r.Version, &r.ArtifactSHA256,
		&r.Error, &r.Message, &r.Attempt, &r.DataWatermark, &r.DataRows, &r.SpecVersion, &r.SameAs, &interrupted, &r.Checks)
	if err != nil {
		return nil, err
	}
	if r.State == store.RunRunning && interrupted != 0 {
		r.State = store.RunInterrupted // stored as running (migration 010)
	}
	r.CreatedAt, r.StartedAt, r.FinishedAt = created.t, started.ptr(), finished.ptr()
	return r, nil
}

// RunCreate queues a run unless one is queued for the pipeline already.
// The partial unique index runs_one_queued makes the check race-free: a
// concurrent insert waits for the other and then finds its run.
func (s *Store) RunCreate(ctx context.Context, params *store.RunCreateParams) (*store.Run, error) {
	if params.Pipeline == "" {
		return nil, errors.New("create run: pipeline is empty")
	}
	reason := params.Reason
	if reason == "" {
		reason = store.ReasonManual
	}
	var out *store.Run
	var err error
	// The queued run found in conflict may start before it is read back
	// (where writers run at once); then queueing is tried again.
	for range 5 {
		err = s.d.WriteTx(ctx, func(tx Querier) error {
			r, err := scanRun(tx.QueryRow(ctx, `INSERT INTO runs (pipeline, state, reason, created_at) VALUES ($1, 'queued', $2, $3)
				ON CONFLICT (pipeline) WHERE state = 'queued' DO NOTHING RETURNING `+runCols,
				params.Pipeline, s.d.Text(reason), s.d.Time(s.now())))
			if err == nil {
				out = r
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			r, err = scanRun(tx.QueryRow(ctx, `SELECT `+runCols+` FROM runs WHERE pipeline = $1 AND state = 'queued'`, params.Pipeline))
			if err != nil {
				return err
			}
			r.Existing = true
			out = r
			return nil
		})
		if !errors.Is(err, store.ErrNotFound) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create run of %s: %w", params.Pipeline, err)
	}
	return out, nil
}

// RunGet returns one run.
func (s *Store) RunGet(ctx context.Context, id int64) (*store.Run, error) {
	r, err := scanRun(s.d.Reader().QueryRow(ctx, `SELECT `+runCols+` FROM runs WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("run %d: %w", id, err)
	}
	return r, nil
}

// RunList returns runs, newest first.
func (s *Store) RunList(ctx context.Context, params *store.RunListParams) ([]*store.Run, error) {
	limit := params.Limit
	if limit <= 0 {
		limit = 50
	}
	var rows Rows
	var err error
	if params.Pipeline != "" {
		rows, err = s.d.Reader().Query(ctx, `SELECT `+runCols+` FROM runs WHERE pipeline = $1 ORDER BY id DESC LIMIT $2`, params.Pipeline, limit)
	} else {
		rows, err = s.d.Reader().Query(ctx, `SELECT `+runCols+` FROM runs ORDER BY id DESC LIMIT $1`, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
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
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

// lockRun reads a run and locks it until the end of tx; a run that
// succeeded cannot change (ErrConflict).
func (s *Store) lockRun(ctx context.Context, tx Querier, id int64) error {
	r, err := scanRun(tx.QueryRow(ctx, `SELECT `+runCols+` FROM runs WHERE id = $1`+s.d.RowLock(), id))
	if err != nil {
		return err
	}
	if r.State == store.RunSucceeded {
		return fmt.Errorf("%w: run already succeeded", store.ErrConflict)
	}
	return nil
}

// RunStart marks a run running and counts the attempt. A succeeded run
// cannot start again (ErrConflict).
func (s *Store) RunStart(ctx context.Context, params *store.RunStartParams) (*store.Run, error) {
	var out *store.Run
	err := s.d.WriteTx(ctx, func(tx Querier) error {
		if err := s.lockRun(ctx, tx, params.ID); err != nil {
			return err
		}
		// The last attempt's error stays visible until the run finishes.
		var err error
		// Each attempt records the spec version it trains with.
		out, err = scanRun(tx.QueryRow(ctx, `UPDATE runs SET state = 'running', attempt = attempt + 1, started_at = $1,
			finished_at = NULL, interrupted = 0, spec_version = $3 WHERE id = $2 RETURNING `+runCols, s.d.Time(s.now()), params.ID, params.SpecVersion))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start run %d: %w", params.ID, err)
	}
	return out, nil
}

// RunFinish records a run's outcome, or with state running a failed
// attempt that will be retried, or with state interrupted an attempt whose
// trainer stopped (finished_at stays NULL for both). A succeeded run
// cannot change (ErrConflict).
func (s *Store) RunFinish(ctx context.Context, params *store.RunFinishParams) (*store.Run, error) {
	switch params.State {
	case store.RunSucceeded, store.RunFailed, store.RunRunning, store.RunInterrupted:
	default:
		return nil, fmt.Errorf("finish run %d: state %q must be %q, %q, %q or %q",
			params.ID, params.State, store.RunSucceeded, store.RunFailed, store.RunRunning, store.RunInterrupted)
	}
	// An interrupted run is stored as running with its flag (migration 010).
	state, interrupted := params.State, 0
	if state == store.RunInterrupted {
		state, interrupted = store.RunRunning, 1
	}
	var out *store.Run
	err := s.d.WriteTx(ctx, func(tx Querier) error {
		if err := s.lockRun(ctx, tx, params.ID); err != nil {
			return err
		}
		var finished any
		if state != store.RunRunning {
			finished = s.d.Time(s.now())
		}
		var err error
		out, err = scanRun(tx.QueryRow(ctx, `UPDATE runs SET state = $1, finished_at = $2, version = $3, artifact_sha256 = $4,
			error = $5, message = $6, data_watermark = $7, data_rows = $8, same_as = $10, interrupted = $11, checks = $12 WHERE id = $9 RETURNING `+runCols,
			string(state), finished, params.Version, s.d.Text(params.ArtifactSHA256), s.d.Text(params.Error),
			s.d.Text(params.Message), params.DataWatermark, params.DataRows, params.ID, params.SameAs, interrupted, s.d.Text(params.Checks)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("finish run %d: %w", params.ID, err)
	}
	return out, nil
}

// LeaseAcquire takes the lease when it is free, expired or already the
// holder's, in one upsert. Times come from the store's clock, not the
// database's.
func (s *Store) LeaseAcquire(ctx context.Context, params *store.LeaseParams) (bool, error) {
	if params.Name == "" || params.Holder == "" || params.TTL <= 0 {
		return false, fmt.Errorf("acquire lease %q: name, holder and a positive TTL are required", params.Name)
	}
	now := s.now()
	var got bool
	err := s.d.WriteTx(ctx, func(tx Querier) error {
		n, err := tx.Exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at <= $4`,
			s.d.Text(params.Name), s.d.Text(params.Holder), s.d.Time(now.Add(params.TTL)), s.d.Time(now))
		got = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("acquire lease %q: %w", params.Name, err)
	}
	return got, nil
}

// LeaseRelease deletes the lease if holder has it.
func (s *Store) LeaseRelease(ctx context.Context, params *store.LeaseParams) error {
	err := s.d.WriteTx(ctx, func(tx Querier) error {
		_, err := tx.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, s.d.Text(params.Name), s.d.Text(params.Holder))
		return err
	})
	if err != nil {
		return fmt.Errorf("release lease %q: %w", params.Name, err)
	}
	return nil
}

// LeaseGet returns the named lease, or ErrNotFound.
func (s *Store) LeaseGet(ctx context.Context, name string) (*store.Lease, error) {
	l := &store.Lease{Name: name}
	var expires timeDest
	if err := s.d.Reader().QueryRow(ctx, `SELECT holder, expires_at FROM leases WHERE name = $1`, s.d.Text(name)).Scan(&l.Holder, &expires); err != nil {
		return nil, fmt.Errorf("read lease %q: %w", name, err)
	}
	l.ExpiresAt = expires.t
	return l, nil
}
