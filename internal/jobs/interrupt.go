package jobs

import (
	"context"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/train"
)

// interruptActive runs when Stop's time is up with trainings still going
// (a fit that does not check its context, or a stop given less time than
// StopGrace): the process is about to exit, so it cancels them and marks
// their runs interrupted now, releases their leases and queues their jobs
// again, rather than leave them running until a sweeper notices the
// trainer is gone.
func (q *Queue) interruptActive(ctx context.Context) {
	q.active.Range(func(k, v any) bool {
		q.cancelWork(errStopping)
		id, pipeline := k.(int64), v.(string)
		if err := q.interrupt(ctx, id, pipeline); err != nil {
			q.logger.Error("could not mark an interrupted run", "pipeline", pipeline, "run", id, "err", err)
		}
		return true
	})
}

// interrupt marks run id of pipeline interrupted and queues it again,
// unless its training recorded an outcome meanwhile.
func (q *Queue) interrupt(ctx context.Context, id int64, pipeline string) error {
	run, err := q.cfg.Store.RunGet(ctx, id)
	if err != nil {
		return err
	}
	if run.State != store.RunRunning || run.FinishedAt != nil {
		return nil // it recorded its outcome (or interruption) itself
	}
	note := fmt.Sprintf("interrupted (%v; attempt %d was still training when the trainer stopped); the run was queued again", errStopping, run.Attempt)
	if _, err := q.cfg.Store.RunFinish(ctx, &store.RunFinishParams{
		ID: run.ID, State: store.RunInterrupted, Version: run.Version, ArtifactSHA256: run.ArtifactSHA256, Error: note,
		Message: run.Message, DataWatermark: run.DataWatermark, DataRows: run.DataRows,
	}); err != nil {
		return fmt.Errorf("mark run %d interrupted: %w", id, err)
	}
	if err := q.cfg.Store.LeaseRelease(ctx, &store.LeaseParams{Name: train.LeaseName(pipeline), Holder: train.Self(id).String()}); err != nil {
		return err
	}
	if _, err := q.client.Insert(ctx, TrainArgs{RunID: id, Pipeline: pipeline}, nil); err != nil {
		return fmt.Errorf("queue run %d again: %w", id, err)
	}
	q.logger.Info("training interrupted: the trainer stopped before it could be cancelled; the run goes back to the queue",
		"pipeline", pipeline, "run", id, "attempt", run.Attempt)
	return nil
}
