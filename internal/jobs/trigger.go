package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
)

// triggerLoop checks the new-rows trigger of every pipeline when rows arrive
// in this process and every TriggerPoll for rows from other processes.
func (q *Queue) triggerLoop(ctx context.Context) {
	var wake <-chan string
	if q.cfg.NewRows != nil {
		ch, unsub := q.cfg.NewRows.Subscribe()
		defer unsub()
		wake = ch
	}
	t := time.NewTicker(q.cfg.TriggerPoll)
	defer t.Stop()
	for {
		for _, p := range q.cfg.Pipelines {
			if q.cfg.Current != nil {
				if cur, ok := q.cfg.Current(p.Name); ok {
					p = cur
				}
			}
			if err := q.CheckTrigger(ctx, p); err != nil && ctx.Err() == nil {
				q.logger.Warn("new-rows trigger check failed", "pipeline", p.Name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// CheckTrigger enqueues a new_rows run of p when it is due: the first
// training as soon as the pipeline has min_rows rows (no debounce: there is
// no model to serve yet), later ones once on_new_rows rows arrived since the
// last run's snapshot, started after the debounce so that a burst of rows
// trains once. A queued run absorbs further triggers.
func (q *Queue) CheckTrigger(ctx context.Context, p *config.Pipeline) error {
	runs, err := q.cfg.Store.RunList(ctx, &store.RunListParams{Pipeline: p.Name, Limit: 5})
	if err != nil {
		return err
	}
	var last *store.Run
	for _, r := range runs {
		if r.State == store.RunQueued {
			return nil // one is waiting; it will read every row there is
		}
		if last == nil {
			last = r
		}
	}
	info, err := q.cfg.Store.DatasetInfo(ctx, p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Rows < int64(p.Train.MinRows) {
		return nil
	}
	if last == nil {
		return q.enqueueUnlessNewer(ctx, p.Name, nil, 0)
	}
	if p.Train.NewRows() <= 0 || last.State == store.RunRunning || last.State == store.RunInterrupted {
		return nil
	}
	n, err := q.cfg.Store.RowsCount(ctx, &store.RowsCountParams{Pipeline: p.Name, AfterBatch: last.DataWatermark})
	if err != nil {
		return err
	}
	if n < int64(p.Train.NewRows()) {
		return nil
	}
	return q.enqueueUnlessNewer(ctx, p.Name, last, time.Duration(p.Train.Debounce))
}

// enqueueUnlessNewer queues a new_rows run unless a run newer than last
// appeared since the trigger looked: another trainer's trigger may have
// queued one that already started (so it is no longer the queued run that
// RunCreate would return), and it reads every row there is.
func (q *Queue) enqueueUnlessNewer(ctx context.Context, pipeline string, last *store.Run, delay time.Duration) error {
	runs, err := q.cfg.Store.RunList(ctx, &store.RunListParams{Pipeline: pipeline, Limit: 1})
	if err != nil {
		return err
	}
	if len(runs) > 0 && (last == nil || runs[0].ID > last.ID) {
		return nil
	}
	_, err = q.Enqueue(ctx, pipeline, store.ReasonNewRows, delay)
	return err
}
