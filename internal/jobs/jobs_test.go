package jobs

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/blob/fs"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/notify"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/sampledata"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlite"
	"github.com/mlserve/mlserve/internal/train"
)

type testBundle struct {
	store     store.Store
	schema    *schema.Compiled
	pipeline  *config.Pipeline
	newRows   *notify.Hub
	artifacts string
	done      chan *store.Run
}

func setup(t *testing.T, change func(p *config.Pipeline), opts func(c *Config)) (*Queue, *testBundle) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "db.sqlite")
	db, err := sqlite.Open(ctx, &sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Set("_txlock", "immediate")
	rdb, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	rdb.SetMaxOpenConns(1)
	t.Cleanup(func() { rdb.Close() })
	backend := SQLite(rdb)
	if err := Migrate(ctx, backend, nil); err != nil {
		t.Fatal(err)
	}
	f, err := config.Example("titanic")
	if err != nil {
		t.Fatal(err)
	}
	p := &f.Pipelines[0]
	p.Train.Schedule = ""
	if change != nil {
		change(p)
	}
	if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: p.Name, Schema: p.Schema}); err != nil {
		t.Fatal(err)
	}
	c, err := schema.Compile(p.Schema)
	if err != nil {
		t.Fatal(err)
	}
	artifacts := filepath.Join(dir, "artifacts")
	bucket, err := fs.Open(artifacts)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Config{Store: db, Bucket: bucket})
	runner := train.NewRunner(train.RunnerConfig{Store: db, Registry: reg, Pipeline: func(n string) (*config.Pipeline, bool) { return p, n == p.Name }})
	b := &testBundle{store: db, schema: c, pipeline: p, newRows: &notify.Hub{}, artifacts: artifacts, done: make(chan *store.Run, 16)}
	cfg := Config{
		Backend: backend, Store: db, Pipelines: []*config.Pipeline{p}, Runner: runner, NewRows: b.newRows,
		TriggerPoll: 200 * time.Millisecond,
		OnRunDone: func(r *store.Run, err error) {
			if err == nil && r != nil && (r.State == store.RunSucceeded || r.State == store.RunFailed) {
				b.done <- r
			}
		},
	}
	if opts != nil {
		opts(&cfg)
	}
	queue, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return queue, b
}

func start(t *testing.T, q *Queue) {
	t.Helper()
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
}

func (b *testBundle) insert(t *testing.T, n int) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(sampledata.Bytes(sampledata.SeedTitanic))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	h, err := b.schema.Header(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	var rows []schema.Row
	for _, rec := range recs[1 : n+1] {
		row, fe := h.Row(rec, nil)
		if fe != nil {
			t.Fatal(fe)
		}
		rows = append(rows, row)
	}
	if _, err := b.store.BatchInsert(context.Background(), &store.BatchInsertParams{Pipeline: "titanic", Schema: b.schema, Source: "test", Rows: rows}); err != nil {
		t.Fatal(err)
	}
	b.newRows.Publish("titanic")
}

func (b *testBundle) wait(t *testing.T, within time.Duration) *store.Run {
	t.Helper()
	select {
	case r := <-b.done:
		return r
	case <-time.After(within):
		runs, _ := b.store.RunList(context.Background(), &store.RunListParams{})
		for _, r := range runs {
			t.Logf("run %d: %s %s %q", r.ID, r.State, r.Reason, r.Error)
		}
		t.Fatalf("no run finished within %s", within)
		return nil
	}
}

func TestEnqueueDedupesQueuedRuns(t *testing.T) {
	t.Parallel()
	q, _ := setup(t, nil, nil)
	ctx := context.Background()
	a, err := q.Enqueue(ctx, "titanic", store.ReasonManual, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := q.Enqueue(ctx, "titanic", store.ReasonNewRows, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || !b.Existing {
		t.Fatalf("second enqueue made run %d (existing=%v), want run %d", b.ID, b.Existing, a.ID)
	}
}

func TestManualRunIsWorked(t *testing.T) {
	t.Parallel()
	q, b := setup(t, nil, nil)
	b.insert(t, 300)
	start(t, q)
	run, err := q.Enqueue(context.Background(), "titanic", store.ReasonManual, 0)
	if err != nil {
		t.Fatal(err)
	}
	fin := b.wait(t, 30*time.Second)
	if fin.ID != run.ID || fin.State != store.RunSucceeded || fin.Version != 1 {
		t.Fatalf("run = %+v, want run %d succeeded with v1", fin, run.ID)
	}
}

func TestNewRowsTrigger(t *testing.T) {
	t.Parallel()
	const debounce = 1500 * time.Millisecond
	q, b := setup(t, func(p *config.Pipeline) {
		p.Train.MinRows = 100
		p.Train.OnNewRows = config.Ptr(200)
		p.Train.Debounce = config.Duration(debounce)
	}, func(c *Config) { c.Trigger = true })
	start(t, q)
	ctx := context.Background()

	b.insert(t, 60) // below min_rows: nothing
	b.insert(t, 60) // 120 >= min_rows: the first training starts without debounce
	first := b.wait(t, 30*time.Second)
	if first.Reason != store.ReasonNewRows || first.State != store.RunSucceeded || first.DataRows != 120 {
		t.Fatalf("first run = %+v", first)
	}
	if d := first.StartedAt.Sub(first.CreatedAt); d > time.Second {
		t.Fatalf("first training waited %s; the first model should not be debounced", d)
	}

	b.insert(t, 150) // 150 < on_new_rows: nothing
	b.insert(t, 100) // 250 new rows: trigger, then the debounce
	second := b.wait(t, 30*time.Second)
	if second.Reason != store.ReasonNewRows || second.DataRows != 370 {
		t.Fatalf("second run = %+v, want new_rows over 370 rows", second)
	}
	if d := second.StartedAt.Sub(second.CreatedAt); d < debounce-100*time.Millisecond {
		t.Fatalf("second training started %s after the trigger, want the %s debounce", d, debounce)
	}
	runs, err := b.store.RunList(ctx, &store.RunListParams{Pipeline: "titanic"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs, want exactly 2 (the trigger must not fire twice for one burst)", len(runs))
	}
}

func TestScheduleTicks(t *testing.T) {
	testScheduleEvery = time.Second
	t.Cleanup(func() { testScheduleEvery = 0 })
	q, b := setup(t, func(p *config.Pipeline) { p.Train.Schedule = "0 3 * * *" }, func(c *Config) { c.Schedules = true })
	b.insert(t, 200)
	start(t, q)
	// Leader election takes a few seconds; then a tick enqueues a run.
	fin := b.wait(t, 45*time.Second)
	if fin.Reason != store.ReasonSchedule || fin.State != store.RunSucceeded {
		t.Fatalf("run = %+v, want a succeeded schedule run", fin)
	}
}

func TestOneTrainingPerPipeline(t *testing.T) {
	t.Parallel()
	q, b := setup(t, nil, nil)
	b.insert(t, 300)
	ctx := context.Background()
	lease := &store.LeaseParams{Name: "train:titanic", Holder: "other-trainer", TTL: time.Minute}
	if ok, err := b.store.LeaseAcquire(ctx, lease); err != nil || !ok {
		t.Fatal(ok, err)
	}
	start(t, q)
	run, err := q.Enqueue(ctx, "titanic", store.ReasonManual, 0)
	if err != nil {
		t.Fatal(err)
	}
	// While another trainer holds the pipeline, the job snoozes and the run
	// stays queued.
	time.Sleep(2 * time.Second)
	got, err := b.store.RunGet(ctx, run.ID)
	if err != nil || got.State != store.RunQueued {
		t.Fatalf("run state while the lease is held = %v (%v), want queued", got.State, err)
	}
	if err := b.store.LeaseRelease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	fin := b.wait(t, 30*time.Second)
	if fin.ID != run.ID || fin.State != store.RunSucceeded {
		t.Fatalf("run = %+v", fin)
	}
}

func TestTransientFailureIsRetried(t *testing.T) {
	t.Parallel()
	q, b := setup(t, nil, nil)
	b.insert(t, 300)
	// A file where the pipeline's artifact folder must go makes the upload
	// fail for real; removing it lets the retry succeed.
	if err := os.MkdirAll(filepath.Join(b.artifacts, "artifacts"), 0o755); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(b.artifacts, "artifacts", "titanic")
	if err := os.WriteFile(blocker, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	ctx := context.Background()
	start(t, q)
	run, err := q.Enqueue(ctx, "titanic", store.ReasonManual, 0)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		got, err := b.store.RunGet(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Error != "" && got.State == store.RunRunning {
			if !strings.Contains(got.Error, "object store") {
				t.Fatalf("attempt error %q does not name the object store", got.Error)
			}
			once.Do(func() { os.Remove(blocker) })
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	fin := b.wait(t, 30*time.Second)
	if fin.State != store.RunSucceeded || fin.Attempt < 2 || fin.Error != "" {
		t.Fatalf("run = state %s attempt %d error %q, want succeeded on a retry with the error cleared", fin.State, fin.Attempt, fin.Error)
	}
}
