package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
)

// TestManualRunIsNotDebounced: a manual enqueue that finds a new_rows run
// waiting out its debounce (an hour here) joins that run and starts it now.
func TestManualRunIsNotDebounced(t *testing.T) {
	t.Parallel()
	q, b := setup(t, func(p *config.Pipeline) {
		p.Train.MinRows = 100
		p.Train.OnNewRows = config.Ptr(200)
		p.Train.Debounce = config.Duration(time.Hour)
	}, nil)
	start(t, q)
	ctx := context.Background()
	b.insert(t, 120)
	if err := q.CheckTrigger(ctx, b.pipeline); err != nil {
		t.Fatal(err)
	}
	if first := b.wait(t, 30*time.Second); first.Version != 1 {
		t.Fatalf("first run = %+v, want v1", first)
	}
	b.insert(t, 250)
	if err := q.CheckTrigger(ctx, b.pipeline); err != nil {
		t.Fatal(err)
	}
	runs, err := b.store.RunList(ctx, &store.RunListParams{Pipeline: "titanic", Limit: 1})
	if err != nil || len(runs) != 1 || runs[0].State != store.RunQueued || runs[0].Reason != store.ReasonNewRows {
		t.Fatalf("after the trigger: %+v, %v; want a queued new_rows run", runs, err)
	}
	manual, err := q.Enqueue(ctx, "titanic", store.ReasonManual, 0)
	if err != nil {
		t.Fatal(err)
	}
	if manual.ID != runs[0].ID || !manual.Existing {
		t.Fatalf("manual enqueue = run %d (existing %v), want to join run %d", manual.ID, manual.Existing, runs[0].ID)
	}
	fin := b.wait(t, 30*time.Second)
	if fin.ID != manual.ID || fin.State != store.RunSucceeded || fin.DataRows != 370 {
		t.Fatalf("run = %+v, want run %d over 370 rows", fin, manual.ID)
	}
	if d := fin.StartedAt.Sub(fin.CreatedAt); d > 30*time.Second {
		t.Fatalf("the joined run started %s after it was queued, want at once", d)
	}
}
