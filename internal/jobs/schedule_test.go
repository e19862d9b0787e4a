package jobs

import (
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
)

// TestRescheduleFollowsSpec starts a queue whose pipeline has no schedule
// and gives it one while it runs, as a spec change does: a schedule run
// follows, with no restart.
func TestRescheduleFollowsSpec(t *testing.T) {
	testScheduleEvery = time.Second
	t.Cleanup(func() { testScheduleEvery = 0 })
	var pipe *config.Pipeline
	q, b := setup(t, func(p *config.Pipeline) { p.Train.Schedule = ""; pipe = p }, func(c *Config) { c.Schedules = true })
	b.insert(t, 200)
	start(t, q)
	next := *pipe
	next.Train.Schedule = "0 3 * * *"
	if err := q.Reschedule(&next); err != nil {
		t.Fatalf("Reschedule: %v", err)
	}
	fin := b.wait(t, 45*time.Second)
	if fin.Reason != store.ReasonSchedule || fin.State != store.RunSucceeded {
		t.Fatalf("run = %+v, want a succeeded schedule run", fin)
	}
	next.Train.Schedule = "not cron"
	if err := q.Reschedule(&next); err == nil {
		t.Fatal("Reschedule with a bad cron expression succeeded")
	}
}
