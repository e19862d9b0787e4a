// Package jobs runs training on River: the training job (one run at a time
// per pipeline, retried with backoff), the cron schedule of each pipeline,
// and the new-rows trigger with its debounce. It is the only package that
// imports River, so the SQLite and PostgreSQL drivers are swapped here alone.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/robfig/cron/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/metrics"
	"github.com/mlserve/mlserve/internal/notify"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/train"
)

// Backend is the database River runs on.
type Backend struct {
	name    string
	migrate func(ctx context.Context, logger *slog.Logger) error
	client  func(cfg *river.Config) (riverClient, error)
	// leader reports whether River has an elected leader now; nil where
	// the backend cannot tell.
	leader func(ctx context.Context) (bool, error)
	// interpret maps a database error River returned onto the store's
	// sentinels (store.ErrDiskFull), keeping its text.
	interpret func(err error) error
}

// ErrUnknown is returned by TrainerRunning on a backend that cannot tell.
var ErrUnknown = errors.New("cannot tell on this backend")

// TrainerRunning reports whether some process works the queue now: every
// started queue (a trainer, `up`, `train --wait --work`) takes part in
// River's leader election, so an unexpired leader means one is alive (or
// died less than River's leader TTL ago). SQLite answers ErrUnknown.
func (b Backend) TrainerRunning(ctx context.Context) (bool, error) {
	if b.leader == nil {
		return false, fmt.Errorf("trainer running on %s: %w", b.name, ErrUnknown)
	}
	ok, err := b.leader(ctx)
	if err != nil {
		return false, fmt.Errorf("look for a running trainer: %w", err)
	}
	return ok, nil
}

// riverClient is what Queue uses of river.Client, whatever its transaction
// type.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	PeriodicJobs() *river.PeriodicJobBundle
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// SQLite is a Backend on a SQLite database (one connection: River's SQLite
// driver needs SetMaxOpenConns(1)).
func SQLite(db *sql.DB) Backend {
	drv := riversqlite.New(db)
	return Backend{
		name: "sqlite",
		migrate: func(ctx context.Context, logger *slog.Logger) error {
			m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: logger})
			if err != nil {
				return err
			}
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
			return err
		},
		client: func(cfg *river.Config) (riverClient, error) { return river.NewClient(drv, cfg) },
		interpret: func(err error) error {
			var se *sqlite.Error
			if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
				return fmt.Errorf("%w: %w", store.ErrDiskFull, err)
			}
			return err
		},
	}
}

// Config configures a Queue.
type Config struct {
	Backend Backend
	Store   store.Store
	// Pipelines are the configured pipelines (schedules and triggers).
	Pipelines []*config.Pipeline
	// Current, if set, returns a pipeline's current configuration, which
	// the new-rows trigger reads at each check (its spec may change while
	// the process runs); Pipelines is the fallback.
	Current func(name string) (*config.Pipeline, bool)
	// Runner performs training runs. Nil makes an insert-only queue (the api
	// role enqueues runs it does not work).
	Runner *train.Runner
	// NewRows wakes the trigger when rows arrive in this process; the
	// trigger also polls every TriggerPoll for rows from other processes.
	NewRows     *notify.Hub
	TriggerPoll time.Duration
	// Schedules and Trigger turn the cron schedules and the new-rows trigger
	// on (trainer role and up); off for `train --wait`.
	Schedules bool
	Trigger   bool
	// MaxAttempts of a training job before it is given up (default 6).
	MaxAttempts int
	// RescueAfter is how long a job may stay running before River takes it
	// for dead and gives it to another trainer (default 1 min). River has no
	// heartbeat, so a live run that takes longer is handed out too; the
	// pipeline's training lease keeps it from being run twice (the copy
	// waits, then finds the run finished). It is a backstop: a run whose
	// trainer died is handed back within seconds by Sweep, which watches
	// the training lease (renewed by live trainers) instead.
	RescueAfter time.Duration
	// SweepEvery is how often a working queue looks for runs whose trainer
	// is gone (default SweepEveryDefault; see Sweep).
	SweepEvery time.Duration
	// StopGrace is how long Stop (or cancelling Start's context) lets a
	// running job finish before it is cancelled and handed back for a retry
	// elsewhere (default 5 s).
	StopGrace time.Duration
	Logger    *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnRunDone, if set, is called after each worked run (tests wait on it).
	OnRunDone func(run *store.Run, err error)
	// Metrics, if set, counts queued runs by reason.
	Metrics *metrics.Metrics
}

// Queue enqueues and (with a Runner) works training jobs.
type Queue struct {
	cfg    Config
	client riverClient
	logger *slog.Logger
	byName map[string]*config.Pipeline
	stop   context.CancelFunc
	done   chan struct{}
	// work is the parent of every training's context: cancelled by Stop
	// after StopGrace (see trainWorker.Work).
	work       context.Context
	cancelWork context.CancelCauseFunc
	stopping   atomic.Bool
	// active maps the run id of each training being worked to its
	// pipeline (see interruptActive).
	active sync.Map
}

// softStopBackstop is how long after StopGrace River cancels the jobs
// that are still running when its client stops.
const softStopBackstop = 10 * time.Second

// errStopping is why a training is cancelled when its trainer stops: the
// run is recorded as interrupted.
var errStopping = train.ErrStopping

// Migrate creates or upgrades River's tables.
func Migrate(ctx context.Context, b Backend, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := b.migrate(ctx, quietLogger(logger)); err != nil {
		return fmt.Errorf("migrate job queue (%s): %w", b.name, err)
	}
	return nil
}

// New builds a Queue; Start runs it.
func New(cfg Config) (*Queue, error) {
	cfg.Logger = cmpLogger(cfg.Logger)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.RescueAfter == 0 {
		cfg.RescueAfter = time.Minute
	}
	if cfg.StopGrace == 0 {
		cfg.StopGrace = 5 * time.Second
	}
	if cfg.TriggerPoll == 0 {
		cfg.TriggerPoll = 5 * time.Second
	}
	if cfg.SweepEvery == 0 {
		cfg.SweepEvery = SweepEveryDefault
	}
	q := &Queue{cfg: cfg, logger: cfg.Logger, byName: map[string]*config.Pipeline{}}
	q.work, q.cancelWork = context.WithCancelCause(context.Background())
	for _, p := range cfg.Pipelines {
		q.byName[p.Name] = p
	}
	rc := &river.Config{
		Logger:      quietLogger(cfg.Logger),
		MaxAttempts: cfg.MaxAttempts,
		RetryPolicy: backoff{},
		// River's rescuer leaves alone a job younger than its timeout and
		// never rescues one without a timeout, so the timeout is the rescue
		// time too. It does not cut a training short: trainWorker detaches
		// from the deadline (River has no heartbeat; the lease guards).
		JobTimeout:           cfg.RescueAfter,
		RescueStuckJobsAfter: cfg.RescueAfter,
		// Stop cancels the running trainings itself after StopGrace
		// (cancelWork, ErrStopping), and they return within moments; River's
		// own escalation, which logs a warning, is only a backstop for a job
		// that ignores the cancellation. Without a timeout River would
		// cancel the jobs as soon as Start's context ends.
		SoftStopTimeout:   cfg.StopGrace + softStopBackstop,
		FetchPollInterval: 500 * time.Millisecond,
	}
	if cfg.Runner != nil {
		workers := river.NewWorkers()
		river.AddWorker(workers, &trainWorker{q: q})
		river.AddWorker(workers, &scheduleWorker{q: q})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}}
		if cfg.Schedules {
			for _, p := range cfg.Pipelines {
				job, err := periodicJob(p)
				if err != nil {
					return nil, err
				}
				if job != nil {
					rc.PeriodicJobs = append(rc.PeriodicJobs, job)
				}
			}
		}
	}
	c, err := cfg.Backend.client(rc)
	if err != nil {
		return nil, fmt.Errorf("create job queue client: %w", err)
	}
	q.client = c
	return q, nil
}

// Start starts working jobs (with a Runner) and the trigger. An insert-only
// queue needs no Start.
func (q *Queue) Start(ctx context.Context) error {
	if q.cfg.Runner == nil {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", q.cfg.Backend.interpret(err))
	}
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	q.stop = cancel
	q.done = make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { q.sweepLoop(tctx) })
	if q.cfg.Trigger {
		wg.Go(func() { q.triggerLoop(tctx) })
	}
	go func() {
		defer close(q.done)
		wg.Wait()
	}()
	return nil
}

// Stop stops taking jobs and the trigger, and waits for running jobs to
// finish; after StopGrace they are cancelled: the run is marked
// interrupted, releases its lease and River retries it on another trainer
// (or at the next start). It returns when the jobs have returned or ctx is
// done; a training still going then is cancelled and its run marked
// interrupted and queued again at once (interruptActive). It is
// idempotent.
func (q *Queue) Stop(ctx context.Context) error {
	if q.cfg.Runner == nil || q.stop == nil {
		return nil
	}
	q.stopping.Store(true)
	q.stop()
	<-q.done
	hard := time.AfterFunc(q.cfg.StopGrace, func() { q.cancelWork(errStopping) })
	defer hard.Stop()
	err := q.client.Stop(ctx)
	q.interruptActive(context.WithoutCancel(ctx)) // none when every job returned
	q.stop = nil
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop job queue: %w", err)
	}
	return nil
}

// Enqueue records a queued run and inserts its job, to start after delay.
// If a run of the pipeline is already queued, that run is returned (with
// Existing set) and nothing new is inserted; a manual enqueue then starts
// that run now, cutting short the debounce it may be waiting out (see
// StartNow): a manual run is never debounced.
func (q *Queue) Enqueue(ctx context.Context, pipeline, reason string, delay time.Duration) (*store.Run, error) {
	run, err := q.cfg.Store.RunCreate(ctx, &store.RunCreateParams{Pipeline: pipeline, Reason: reason})
	if err != nil {
		return nil, fmt.Errorf("record run of %s: %w", pipeline, err)
	}
	if run.Existing {
		if reason == store.ReasonManual {
			if err := q.StartNow(ctx, run.ID); err != nil {
				return nil, err
			}
		}
		return run, nil
	}
	opts := &river.InsertOpts{}
	if delay > 0 {
		opts.ScheduledAt = q.cfg.Now().Add(delay)
	}
	if _, err := q.client.Insert(ctx, TrainArgs{RunID: run.ID, Pipeline: pipeline}, opts); err != nil {
		_, ferr := q.cfg.Store.RunFinish(context.WithoutCancel(ctx), &store.RunFinishParams{
			ID: run.ID, State: store.RunFailed, Error: "could not enqueue the job: " + train.PublicError(err),
		})
		return nil, errors.Join(fmt.Errorf("enqueue training of %s: %w", pipeline, q.cfg.Backend.interpret(err)), ferr)
	}
	q.cfg.Metrics.RunEnqueued(pipeline, reason)
	q.logger.InfoContext(ctx, "training queued", "pipeline", pipeline, "run", run.ID, "reason", reason, "delay", delay)
	return run, nil
}

// TrainArgs are the arguments of a training job.
type TrainArgs struct {
	RunID    int64  `json:"run_id"`
	Pipeline string `json:"pipeline"`
}

// Kind is River's job kind.
func (TrainArgs) Kind() string { return "mlserve_train" }

type trainWorker struct {
	river.WorkerDefaults[TrainArgs]
	q *Queue
}

// busySnooze is how long a job waits when its pipeline is being trained
// elsewhere.
const busySnooze = 3 * time.Second

func (w *trainWorker) Work(ctx context.Context, job *river.Job[TrainArgs]) error {
	// The job's deadline (JobTimeout, the rescue time) only tells River's
	// rescuer when it may hand the job to another trainer; the training
	// goes on past it. A cancellation (a stop after StopGrace, a cancelled
	// job) ends it.
	jobCtx := ctx
	ctx, cancel := context.WithCancelCause(w.q.work)
	defer cancel(nil)
	stop := context.AfterFunc(jobCtx, func() {
		if errors.Is(jobCtx.Err(), context.DeadlineExceeded) {
			return
		}
		cause := context.Cause(jobCtx)
		if w.q.stopping.Load() {
			cause = errStopping // River's stop after StopGrace
		}
		cancel(cause)
	})
	defer stop()
	w.q.active.Store(job.Args.RunID, job.Args.Pipeline)
	defer w.q.active.Delete(job.Args.RunID)
	run, err := w.q.cfg.Runner.Run(ctx, job.Args.RunID, &train.RunOptions{FinalAttempt: job.Attempt >= job.MaxAttempts})
	if errors.Is(err, train.ErrBusy) {
		return river.JobSnooze(busySnooze)
	}
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("run %d does not exist: %w", job.Args.RunID, err))
	}
	if w.q.cfg.OnRunDone != nil {
		w.q.cfg.OnRunDone(run, err)
	}
	return err
}

// ScheduleArgs are the arguments of a schedule tick.
type ScheduleArgs struct {
	Pipeline string `json:"pipeline"`
}

// Kind is River's job kind.
func (ScheduleArgs) Kind() string { return "mlserve_schedule" }

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	q *Queue
}

func (w *scheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	_, err := w.q.Enqueue(ctx, job.Args.Pipeline, store.ReasonSchedule, 0)
	return err
}

// periodicJob returns the cron job of p's schedule, nil when it has none.
func periodicJob(p *config.Pipeline) (*river.PeriodicJob, error) {
	if p.Train.Schedule == "" {
		return nil, nil
	}
	sched, err := cron.ParseStandard(p.Train.Schedule)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: schedule %q: %w", p.Name, p.Train.Schedule, err)
	}
	var every river.PeriodicSchedule = utcSchedule{sched}
	opts := scheduleInsertOpts()
	if testScheduleEvery > 0 {
		every = river.PeriodicInterval(testScheduleEvery)
		opts = nil
	}
	name := p.Name
	return river.NewPeriodicJob(every,
		func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{Pipeline: name}, opts },
		&river.PeriodicJobOpts{ID: scheduleID(name)}), nil
}

// scheduleID names a pipeline's periodic job.
func scheduleID(pipeline string) string { return "schedule:" + pipeline }

// Reschedule replaces the cron schedule of p's pipeline with p's (none
// when empty): a spec changed while the queue runs. It does nothing on a
// queue that runs no schedules.
func (q *Queue) Reschedule(p *config.Pipeline) error {
	if q.cfg.Runner == nil || !q.cfg.Schedules {
		return nil
	}
	job, err := periodicJob(p)
	if err != nil {
		return err
	}
	jobs := q.client.PeriodicJobs()
	jobs.RemoveByID(scheduleID(p.Name))
	if job == nil {
		return nil
	}
	if _, err := jobs.AddSafely(job); err != nil {
		return fmt.Errorf("pipeline %s: schedule %q: %w", p.Name, p.Train.Schedule, err)
	}
	return nil
}

// scheduleInsertOpts are the insert options of a schedule tick. Only
// River's elected leader inserts periodic jobs; should leadership move at a
// tick, the unique period keeps the tick from being queued twice (cron
// ticks are at least a minute apart).
func scheduleInsertOpts() *river.InsertOpts {
	return &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Minute}}
}

// testScheduleEvery, set by tests, replaces every cron schedule with a
// short fixed interval.
var testScheduleEvery time.Duration

// utcSchedule evaluates a cron schedule in UTC.
type utcSchedule struct{ s cron.Schedule }

func (u utcSchedule) Next(t time.Time) time.Time { return u.s.Next(t.UTC()) }

// backoff retries after 2 s, 4 s, 8 s, … up to 5 minutes.
type backoff struct{}

func (backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := 2 * time.Second * time.Duration(math.Pow(2, float64(min(job.Attempt, 16)-1)))
	return time.Now().Add(min(d, 5*time.Minute))
}

func cmpLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// quietLogger passes River's own logs through at warning level and above.
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{l.Handler(), slog.LevelWarn}).With("component", "river")
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(attrs), f.min}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(name), f.min}
}
