package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/train"
)

// TestStopOutOfTimeInterrupts stops a queue whose training is still
// running when Stop's context ends (the process is about to exit; the
// grace is longer than the time Stop was given): the run is marked
// interrupted at once, its lease released and its job queued again, so
// the next start runs it again rather than leaving it running.
func TestStopOutOfTimeInterrupts(t *testing.T) {
	t.Parallel()
	q, b := setup(t, func(p *config.Pipeline) {
		p.Model.Algorithm = "gbdt" // long enough to stop in the middle
		p.Model.Params = map[string]any{"n_trees": 100000, "learning_rate": 0.0001}
	}, func(c *Config) { c.StopGrace = time.Minute })
	b.insert(t, 300)
	ctx := context.Background()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	run, err := q.Enqueue(ctx, "titanic", store.ReasonManual, 0)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r, err := b.store.RunGet(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State == store.RunRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run not started within 20 s: %+v", r)
		}
	}
	stopCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	stopped := time.Now()
	if err := q.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	r, err := b.store.RunGet(ctx, run.ID)
	if err != nil || r.State != store.RunInterrupted || r.FinishedAt != nil || !strings.Contains(r.Error, "stopp") {
		t.Fatalf("run after Stop ran out of time: %+v %v; want interrupted with a note", r, err)
	}
	if _, err := b.store.LeaseGet(ctx, train.LeaseName("titanic")); err == nil {
		t.Error("the stopped queue kept the training lease")
	}
	// Another queue on the same database (the next start) runs it again.
	q2, err := New(q.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r, err := b.store.RunGet(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State == store.RunRunning && r.Attempt == 2 {
			t.Logf("attempt 2 started %v after the stop", r.StartedAt.Sub(stopped))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the interrupted run did not run again within 30 s: %+v", r)
		}
	}
	stopCtx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := q2.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if r, err := b.store.RunGet(ctx, run.ID); err != nil || r.State != store.RunInterrupted || r.Attempt != 2 {
		t.Fatalf("run after the second Stop: %+v %v; want interrupted in attempt 2", r, err)
	}
}
