package jobs

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mlserve/mlserve/internal/blob/fs"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/notify"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/postgres"
	"github.com/mlserve/mlserve/internal/testenv/testdb"
	"github.com/mlserve/mlserve/internal/train"
)

// pgTrainers opens n trainers on one database, each with a pool, a River
// client and a runner of its own, as n processes would be; the artifacts
// folder is shared. Their OnRunDone reports go to the bundle's done channel
// and to worked (by trainer index).
type pgTrainers struct {
	*testBundle
	queues  []*Queue
	hubs    []*notify.Hub
	mu      sync.Mutex
	workedN map[int64]int // run id → times worked to an end
}

func setupPG(t *testing.T, n int, change func(p *config.Pipeline), opts func(c *Config)) *pgTrainers {
	t.Helper()
	ctx := context.Background()
	dbURL := testdb.Postgres(t, "jobs_")
	f, err := config.Example("titanic")
	if err != nil {
		t.Fatal(err)
	}
	p := &f.Pipelines[0]
	p.Train.Schedule = ""
	if change != nil {
		change(p)
	}
	c, err := schema.Compile(p.Schema)
	if err != nil {
		t.Fatal(err)
	}
	artifacts := filepath.Join(t.TempDir(), "artifacts")
	bucket, err := fs.Open(artifacts)
	if err != nil {
		t.Fatal(err)
	}
	tr := &pgTrainers{workedN: map[int64]int{}}
	for i := range n {
		db, err := postgres.Open(ctx, &postgres.Config{URL: dbURL, MaxConns: 5})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		backend := Postgres(db.Pool())
		if err := Migrate(ctx, backend, nil); err != nil {
			t.Fatal(err)
		}
		if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: p.Name, Schema: p.Schema}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			tr.testBundle = &testBundle{store: db, schema: c, pipeline: p, newRows: &notify.Hub{}, artifacts: artifacts, done: make(chan *store.Run, 16)}
		}
		reg := registry.New(registry.Config{Store: db, Bucket: bucket})
		runner := train.NewRunner(train.RunnerConfig{Store: db, Registry: reg, Pipeline: func(n string) (*config.Pipeline, bool) { return p, n == p.Name }})
		hub := &notify.Hub{}
		cfg := Config{
			Backend: backend, Store: db, Pipelines: []*config.Pipeline{p}, Runner: runner, NewRows: hub,
			TriggerPoll: 200 * time.Millisecond,
			OnRunDone: func(r *store.Run, err error) {
				if err == nil && r != nil && (r.State == store.RunSucceeded || r.State == store.RunFailed) {
					tr.mu.Lock()
					tr.workedN[r.ID]++
					tr.mu.Unlock()
					tr.done <- r
				}
			},
		}
		if opts != nil {
			opts(&cfg)
		}
		q, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tr.queues = append(tr.queues, q)
		tr.hubs = append(tr.hubs, hub)
	}
	return tr
}

// insertAll stores n seed rows and wakes every trainer's trigger at once,
// as a NOTIFY would.
func (tr *pgTrainers) insertAll(t *testing.T, n int) {
	tr.insert(t, n)
	for _, h := range tr.hubs {
		h.Publish("titanic")
	}
}

func (tr *pgTrainers) runs(t *testing.T) []*store.Run {
	t.Helper()
	runs, err := tr.store.RunList(context.Background(), &store.RunListParams{Pipeline: "titanic"})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestPostgresTrainersShareQueue runs two trainers on one PostgreSQL queue:
// the new-rows trigger of both wakes on the same rows and still only one
// run is queued per burst, each run is worked once, and while a pipeline's
// training lease is held no trainer trains it.
func TestPostgresTrainersShareQueue(t *testing.T) {
	t.Parallel()
	tr := setupPG(t, 2, func(p *config.Pipeline) {
		p.Train.MinRows = 100
		p.Train.OnNewRows = config.Ptr(100)
		p.Train.Debounce = config.Duration(time.Second)
	}, func(c *Config) { c.Trigger = true })
	for _, q := range tr.queues {
		start(t, q)
	}
	ctx := context.Background()

	tr.insertAll(t, 300)
	first := tr.wait(t, 30*time.Second)
	if first.State != store.RunSucceeded || first.Reason != store.ReasonNewRows || first.Version != 1 {
		t.Fatalf("first run = %+v", first)
	}
	tr.insertAll(t, 150)
	second := tr.wait(t, 30*time.Second)
	if second.State != store.RunSucceeded || second.Reason != store.ReasonNewRows || second.DataRows != 450 {
		t.Fatalf("second run = %+v, want new_rows over 450 rows", second)
	}
	// Both triggers keep polling; give them a few rounds to misbehave.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if runs := tr.runs(t); len(runs) != 2 {
			t.Fatalf("%d runs after two bursts over two trainers, want 2", len(runs))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A pipeline whose lease another trainer holds is trained by neither.
	lease := &store.LeaseParams{Name: "train:titanic", Holder: "third-trainer", TTL: time.Minute}
	if ok, err := tr.store.LeaseAcquire(ctx, lease); err != nil || !ok {
		t.Fatal(ok, err)
	}
	run, err := tr.queues[1].Enqueue(ctx, "titanic", store.ReasonManual, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // both trainers fetch it and snooze
	if got, err := tr.store.RunGet(ctx, run.ID); err != nil || got.State != store.RunQueued {
		t.Fatalf("run while the lease is held: %+v %v, want queued", got, err)
	}
	if err := tr.store.LeaseRelease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	third := tr.wait(t, 30*time.Second)
	if third.ID != run.ID || third.State != store.RunSucceeded {
		t.Fatalf("manual run = %+v", third)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for id, n := range tr.workedN {
		if n != 1 {
			t.Errorf("run %d was worked %d times, want once", id, n)
		}
	}
	if len(tr.workedN) != 3 {
		t.Errorf("%d runs worked, want 3", len(tr.workedN))
	}
}

// TestPostgresScheduleFiresOncePerTick runs the schedule on two trainers:
// only River's leader inserts the ticks, so each tick queues one job.
func TestPostgresScheduleFiresOncePerTick(t *testing.T) {
	testScheduleEvery = time.Second
	t.Cleanup(func() { testScheduleEvery = 0 })
	tr := setupPG(t, 2, func(p *config.Pipeline) { p.Train.Schedule = "0 3 * * *" }, func(c *Config) { c.Schedules = true })
	tr.insert(t, 200)
	for _, q := range tr.queues {
		start(t, q)
	}
	// Leader election takes a few seconds; then ticks come each second.
	fin := tr.wait(t, 45*time.Second)
	if fin.Reason != store.ReasonSchedule || fin.State != store.RunSucceeded {
		t.Fatalf("run = %+v, want a succeeded schedule run", fin)
	}
	pool := tr.store.(*postgres.DB).Pool()
	var ticks []time.Time
	deadline := time.Now().Add(20 * time.Second)
	for len(ticks) < 4 && time.Now().Before(deadline) {
		rows, err := pool.Query(context.Background(), `SELECT created_at FROM river_job WHERE kind = 'mlserve_schedule' ORDER BY created_at`)
		if err != nil {
			t.Fatal(err)
		}
		ticks, err = pgx.CollectRows(rows, pgx.RowTo[time.Time])
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(ticks) < 4 {
		t.Fatalf("%d schedule ticks in 20 s, want at least 4", len(ticks))
	}
	for i := 1; i < len(ticks); i++ {
		if d := ticks[i].Sub(ticks[i-1]); d < 500*time.Millisecond {
			t.Fatalf("ticks %d and %d inserted %v apart: a tick fired twice (%v)", i-1, i, d, ticks)
		}
	}
}

// TestPostgresStopHandsJobBack stops a trainer in the middle of a long
// training: after StopGrace the training is cancelled, the run is marked
// interrupted with the reason (not left running), the lease is released and another trainer
// takes the job.
func TestPostgresStopHandsJobBack(t *testing.T) {
	t.Parallel()
	tr := setupPG(t, 2, func(p *config.Pipeline) {
		p.Model.Algorithm = "gbdt" // long enough to stop in the middle
		p.Model.Params = map[string]any{"n_trees": 30000, "learning_rate": 0.001, "early_stopping_rounds": 0}
	}, func(c *Config) { c.StopGrace = 300 * time.Millisecond })
	tr.insert(t, 300)
	ctx := context.Background()
	start(t, tr.queues[0])
	run, err := tr.queues[0].Enqueue(ctx, "titanic", store.ReasonManual, 0)
	if err != nil {
		t.Fatal(err)
	}
	waitRun := func(what string, ok func(r *store.Run) bool) *store.Run {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; {
			r, err := tr.store.RunGet(ctx, run.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ok(r) {
				return r
			}
			if time.Now().After(deadline) {
				t.Fatalf("run not %s within 20 s: %+v", what, r)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitRun("started", func(r *store.Run) bool { return r.State == store.RunRunning && r.Attempt == 1 })
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	began := time.Now()
	if err := tr.queues[0].Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	stopped := time.Since(began)
	if d := stopped; d > 3*time.Second {
		t.Errorf("Stop took %v with a 300 ms grace", d)
	}
	r, err := tr.store.RunGet(ctx, run.ID)
	if err != nil || r.State != store.RunInterrupted || !strings.Contains(r.Error, "trainer is stopping") {
		t.Fatalf("run after the stop: %+v %v; want interrupted with the stop noted", r, err)
	}
	lease := &store.LeaseParams{Name: "train:titanic", Holder: "probe", TTL: time.Second}
	if ok, err := tr.store.LeaseAcquire(ctx, lease); err != nil || !ok {
		t.Fatalf("the stopped trainer kept the lease: %v %v", ok, err)
	}
	if err := tr.store.LeaseRelease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	start(t, tr.queues[1])
	r = waitRun("taken by the other trainer", func(r *store.Run) bool {
		return r.Attempt == 2 && (r.State == store.RunRunning || r.State == store.RunSucceeded) && r.Error == ""
	})
	t.Logf("Stop returned after %v; the other trainer started attempt 2 %v after Stop began", stopped, r.StartedAt.Sub(began))
}

// TestScheduleTickIsUnique: a tick inserted twice within its minute (two
// leaders in turn) queues one job, on both backends; another pipeline's
// tick is its own.
func TestScheduleTickIsUnique(t *testing.T) {
	t.Parallel()
	sq, _ := setup(t, nil, nil)
	pg := setupPG(t, 1, nil, nil)
	for name, q := range map[string]*Queue{"sqlite": sq, "postgres": pg.queues[0]} {
		ctx := context.Background()
		first, err := q.client.Insert(ctx, ScheduleArgs{Pipeline: "titanic"}, scheduleInsertOpts())
		if err != nil || first.UniqueSkippedAsDuplicate {
			t.Fatalf("%s: first tick: %+v %v", name, first, err)
		}
		again, err := q.client.Insert(ctx, ScheduleArgs{Pipeline: "titanic"}, scheduleInsertOpts())
		if err != nil || !again.UniqueSkippedAsDuplicate || again.Job.ID != first.Job.ID {
			t.Fatalf("%s: the same tick again: %+v %v, want skipped as a duplicate of job %d", name, again, err, first.Job.ID)
		}
		other, err := q.client.Insert(ctx, ScheduleArgs{Pipeline: "iris"}, scheduleInsertOpts())
		if err != nil || other.UniqueSkippedAsDuplicate {
			t.Fatalf("%s: another pipeline's tick: %+v %v", name, other, err)
		}
	}
}

// TestPostgresTrainerRunning checks that a started queue shows as a running
// trainer (River elects it leader) and that none shows before; SQLite
// cannot tell.
func TestPostgresTrainerRunning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr := setupPG(t, 1, nil, nil)
	b := tr.queues[0].cfg.Backend
	if running, err := b.TrainerRunning(ctx); err != nil || running {
		t.Fatalf("before any queue started: TrainerRunning = %v, %v; want false, nil", running, err)
	}
	start(t, tr.queues[0])
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		running, err := b.TrainerRunning(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a started queue never showed as a running trainer within 30 s")
		}
	}

	sq, _ := setup(t, nil, nil)
	if _, err := sq.cfg.Backend.TrainerRunning(ctx); !errors.Is(err, ErrUnknown) {
		t.Errorf("SQLite: TrainerRunning err = %v, want ErrUnknown", err)
	}
}
