package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/train"
)

// SweepEveryDefault is how often a working queue looks for runs whose
// trainer is gone.
const SweepEveryDefault = 2 * time.Second

// ErrTrainerGone starts the error noted on a run whose trainer died
// during an attempt.
var ErrTrainerGone = errors.New("trainer gone")

// sweepLoop looks for runs whose trainer is gone: at once when the queue
// starts (a restarted process finds its previous incarnation's run) and
// every SweepEvery after.
func (q *Queue) sweepLoop(ctx context.Context) {
	t := time.NewTicker(q.cfg.SweepEvery)
	defer t.Stop()
	for {
		for _, p := range q.cfg.Pipelines {
			if err := q.Sweep(ctx, p); err != nil && ctx.Err() == nil {
				q.logger.Warn("check for a gone trainer failed", "pipeline", p.Name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep hands back to the queue the run of p whose trainer is gone. A live
// trainer renews its training lease every train.LeaseRenew; a lease that
// expired, or whose holder's process is known to have ended
// (train.Holder.Gone), while its run is still running means the process
// died in the attempt. Its River job would only be rescued after
// RescueAfter, so the sweeper takes the lease over itself (one sweeper
// wins), notes the attempt as failed ("trainer gone") and queues the run
// again; after MaxAttempts attempts the run fails instead.
func (q *Queue) Sweep(ctx context.Context, p *config.Pipeline) error {
	name := train.LeaseName(p.Name)
	lease, err := q.cfg.Store.LeaseGet(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	dead, ok := train.ParseHolder(lease.Holder)
	if !ok || dead.Run == 0 {
		return nil
	}
	if dead.Gone() {
		if err := q.cfg.Store.LeaseRelease(ctx, &store.LeaseParams{Name: name, Holder: lease.Holder}); err != nil {
			return err
		}
	}
	mine := &store.LeaseParams{Name: name, Holder: train.Self(0).String(), TTL: train.LeaseTTL}
	got, err := q.cfg.Store.LeaseAcquire(ctx, mine)
	if err != nil || !got {
		return err // alive, or another sweeper was first
	}
	defer q.cfg.Store.LeaseRelease(context.WithoutCancel(ctx), mine)
	run, err := q.cfg.Store.RunGet(ctx, dead.Run)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if run.State != store.RunRunning || run.FinishedAt != nil {
		return nil // it finished; only the lease was left behind
	}
	final := run.Attempt >= q.cfg.MaxAttempts
	// The note is shown to any caller of GET /v1/runs/{id}: it names no
	// host; the log line below does.
	note := fmt.Sprintf("%v: its process stopped during attempt %d; the run was queued again", ErrTrainerGone, run.Attempt)
	state := store.RunRunning
	if final {
		note = fmt.Sprintf("%v: its process stopped during attempt %d of %d; not retried (look at that trainer's memory and logs)",
			ErrTrainerGone, run.Attempt, q.cfg.MaxAttempts)
		state = store.RunFailed
	}
	if _, err := q.cfg.Store.RunFinish(ctx, &store.RunFinishParams{
		ID: run.ID, State: state, Version: run.Version, ArtifactSHA256: run.ArtifactSHA256, Error: note,
		Message: run.Message, DataWatermark: run.DataWatermark, DataRows: run.DataRows,
	}); err != nil {
		return fmt.Errorf("note the gone trainer of run %d: %w", run.ID, err)
	}
	q.logger.Warn("training run's trainer is gone", "pipeline", p.Name, "run", run.ID, "attempt", run.Attempt, "trainer", dead.Process(), "requeued", !final)
	if final {
		return nil
	}
	if _, err := q.client.Insert(ctx, TrainArgs{RunID: run.ID, Pipeline: p.Name}, nil); err != nil {
		return fmt.Errorf("queue run %d again: %w", run.ID, err)
	}
	return nil
}
