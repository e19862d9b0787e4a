package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// Sweep hands back to the queue the runs of p whose trainer is gone. A
// live trainer holds the pipeline's training lease while its run is
// running and renews it every train.LeaseRenew; so a running run is
// orphaned when the lease expired or its holder's process is known to
// have ended (train.Holder.Gone), and also when the lease is held by
// another run, or by nobody: the dead run's lease expired and another run
// took it (a restarted process that starts a manual run at once). Its River
// job would only be rescued after RescueAfter, so the sweeper notes the
// attempt as failed ("trainer gone") and queues the run again; after
// MaxAttempts attempts the run fails instead.
func (q *Queue) Sweep(ctx context.Context, p *config.Pipeline) error {
	name := train.LeaseName(p.Name)
	lease, err := q.cfg.Store.LeaseGet(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return q.sweepOrphans(ctx, p, 0, "")
	}
	if err != nil {
		return err
	}
	dead, ok := train.ParseHolder(lease.Holder)
	if !ok || dead.Run == 0 {
		return nil // a sweeper has it, or a holder this version does not know
	}
	if dead.Gone() {
		if err := q.cfg.Store.LeaseRelease(ctx, &store.LeaseParams{Name: name, Holder: lease.Holder}); err != nil {
			return err
		}
	}
	mine := &store.LeaseParams{Name: name, Holder: train.Self(0).String(), TTL: train.LeaseTTL}
	got, err := q.cfg.Store.LeaseAcquire(ctx, mine)
	if err != nil {
		return err
	}
	if !got {
		// The holder is alive (or another sweeper was first): only runs
		// other than the holder's can have lost their trainer.
		return q.sweepOrphans(ctx, p, dead.Run, lease.Holder)
	}
	defer q.cfg.Store.LeaseRelease(context.WithoutCancel(ctx), mine)
	run, err := q.cfg.Store.RunGet(ctx, dead.Run)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if run.State != store.RunRunning || run.FinishedAt != nil || handedBack(run) {
		return nil // it finished (only the lease was left behind), or was handed back
	}
	return q.handBack(ctx, p, run, dead.Process())
}

// sweepOrphans hands back the running runs of p other than keep (the run
// of the lease's live holder, or 0 when nobody holds it) whose attempt
// ended without a word. holder is the
// lease's holder when the runs were listed ("" for none): a run is handed
// back only while it is still so, since a run that a trainer starts holds
// the lease first.
func (q *Queue) sweepOrphans(ctx context.Context, p *config.Pipeline, keep int64, holder string) error {
	runs, err := q.cfg.Store.RunList(ctx, &store.RunListParams{Pipeline: p.Name})
	if err != nil {
		return err
	}
	var orphans []*store.Run
	for _, r := range runs {
		// Error is empty only until an attempt ends: a run with a note
		// was handed back already (by a stopping trainer, a retryable
		// failure or a sweep) and has its River job queued again. So a
		// later attempt that dies after an earlier one noted something is
		// left to its lease's expiry or River's rescue.
		if r.State == store.RunRunning && r.FinishedAt == nil && r.ID != keep && r.Error == "" {
			orphans = append(orphans, r)
		}
	}
	if len(orphans) == 0 {
		return nil
	}
	lease, err := q.cfg.Store.LeaseGet(ctx, train.LeaseName(p.Name))
	switch {
	case errors.Is(err, store.ErrNotFound):
		if holder != "" {
			return nil // the holder finished meanwhile: look again next time
		}
	case err != nil:
		return err
	case lease.Holder != holder:
		return nil // the lease changed hands meanwhile: look again next time
	}
	for _, r := range orphans {
		if err := q.handBack(ctx, p, r, "unknown (its run holds no lease)"); err != nil {
			return err
		}
	}
	return nil
}

// goneNote is the note on a run whose trainer died in attempt.
func goneNote(attempt int) string {
	return fmt.Sprintf("%v: its process stopped during attempt %d", ErrTrainerGone, attempt)
}

// handedBack reports whether run's current attempt was already handed
// back (its River job is queued again): a sweep must not queue it twice.
func handedBack(run *store.Run) bool {
	return strings.HasPrefix(run.Error, goneNote(run.Attempt)+";")
}

// handBack notes that run's trainer (process, for the log) is gone and
// queues the run again, or fails it after its last attempt.
func (q *Queue) handBack(ctx context.Context, p *config.Pipeline, run *store.Run, process string) error {
	final := run.Attempt >= q.cfg.MaxAttempts
	// The note is shown to any caller of GET /v1/runs/{id}: it names no
	// host; the log line below does.
	note := goneNote(run.Attempt) + "; the run was queued again"
	state := store.RunRunning
	if final {
		note = fmt.Sprintf("%s of %d; not retried (look at that trainer's memory and logs)", goneNote(run.Attempt), q.cfg.MaxAttempts)
		state = store.RunFailed
	}
	if _, err := q.cfg.Store.RunFinish(ctx, &store.RunFinishParams{
		ID: run.ID, State: state, Version: run.Version, ArtifactSHA256: run.ArtifactSHA256, Error: note,
		Message: run.Message, DataWatermark: run.DataWatermark, DataRows: run.DataRows,
	}); err != nil {
		return fmt.Errorf("note the gone trainer of run %d: %w", run.ID, err)
	}
	q.logger.Warn("training run's trainer is gone", "pipeline", p.Name, "run", run.ID, "attempt", run.Attempt, "trainer", process, "requeued", !final)
	if final {
		return nil
	}
	if _, err := q.client.Insert(ctx, TrainArgs{RunID: run.ID, Pipeline: p.Name}, nil); err != nil {
		return fmt.Errorf("queue run %d again: %w", run.ID, err)
	}
	return nil
}
