package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// StartNow makes the job of a queued run that is scheduled for later (a
// new_rows run waiting out its debounce) available at once. It does
// nothing when the run's job is already available or running.
func (q *Queue) StartNow(ctx context.Context, runID int64) error {
	params := river.NewJobListParams().Kinds(TrainArgs{}.Kind()).States(rivertype.JobStateScheduled).First(1000)
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return fmt.Errorf("find the job of run %d: %w", runID, q.cfg.Backend.interpret(err))
	}
	for _, job := range res.Jobs {
		var args TrainArgs
		if err := json.Unmarshal(job.EncodedArgs, &args); err != nil || args.RunID != runID {
			continue
		}
		if _, err := q.client.JobRetry(ctx, job.ID); err != nil {
			return fmt.Errorf("start run %d now: %w", runID, q.cfg.Backend.interpret(err))
		}
		q.logger.InfoContext(ctx, "training started early by a manual run", "pipeline", args.Pipeline, "run", runID, "was_due", job.ScheduledAt)
	}
	return nil
}
