// Package app wires mlserve together: it picks the database and object-store
// backends from their URLs, runs migrations, and assembles the roles (api,
// trainer, ingest) alone or all in one process (up). Only the CLI imports it.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/blob/fs"
	"github.com/mlserve/mlserve/internal/blob/s3"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/jobs"
	"github.com/mlserve/mlserve/internal/metrics"
	"github.com/mlserve/mlserve/internal/notify"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/postgres"
	"github.com/mlserve/mlserve/internal/store/sqlite"
	"github.com/mlserve/mlserve/internal/train"
)

// Options say where an App finds its configuration and data.
type Options struct {
	// ConfigPath is the pipeline file (default mlserve.yaml).
	ConfigPath string
	// File, when set, is used instead of reading ConfigPath (up --demo).
	File *config.File
	// Env is the deployment's environment, resolved (config.Env.Resolve):
	// database and artifacts URLs, credentials, admin token.
	Env    config.Env
	Logger *slog.Logger
}

// App is an opened deployment: configuration, database, object store,
// registry and the in-process signals between roles.
type App struct {
	Opts     Options
	File     *config.File
	Store    store.Store
	Bucket   blob.Bucket
	Registry *registry.Registry
	// Changes is signalled after production changes made in this process.
	Changes *notify.Hub
	// NewRows is signalled after batches stored by this process.
	NewRows *notify.Hub
	Ingest  *ingest.Service
	Logger  *slog.Logger
	// Metrics are the process's Prometheus collectors, served at /metrics.
	Metrics *metrics.Metrics

	prom *prometheus.Registry
	jobs jobs.Backend
	// dbDir is the folder of an embedded (SQLite) database, whose free
	// space readiness checks; "" for PostgreSQL.
	dbDir   string
	schemas map[string]*schema.Compiled
	closers []func() error
}

// Open loads the configuration, opens and migrates the database, opens the
// object store and makes sure every pipeline has its dataset table.
func Open(ctx context.Context, opts Options) (_ *App, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// a is not the named result: every failing return sets that to nil, and
	// the deferred Close must still see what was opened.
	// Lines logged with a request's context carry its request id.
	opts.Logger = slog.New(httpx.LogHandler(opts.Logger.Handler()))
	a := &App{Opts: opts, Logger: opts.Logger, Changes: &notify.Hub{}, NewRows: &notify.Hub{}}
	a.prom, a.Metrics = newMetrics()
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	a.File = opts.File
	if a.File == nil {
		path := opts.ConfigPath
		if path == "" {
			path = "mlserve.yaml"
		}
		f, err := ParseOptions.Load(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no pipeline file at %s: run `mlserve init` (the titanic example) or `mlserve init --csv FILE --target COL --name NAME`, or pass --config", path)
		}
		if err != nil {
			return nil, err
		}
		a.File = f
	}
	a.schemas = map[string]*schema.Compiled{}
	for _, p := range a.File.Pipelines {
		c, err := schema.Compile(p.Schema)
		if err != nil {
			return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		a.schemas[p.Name] = c
	}
	if err := a.openStore(ctx); err != nil {
		return nil, err
	}
	if err := a.openBucket(ctx); err != nil {
		return nil, err
	}
	for _, p := range a.File.Pipelines {
		if err := a.Store.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: p.Name, Schema: p.Schema}); err != nil {
			return nil, fmt.Errorf("prepare dataset of pipeline %s: %w", p.Name, err)
		}
	}
	a.Registry = registry.New(registry.Config{Store: a.Store, Bucket: a.Bucket, Changes: a.Changes, Logger: a.Logger})
	a.Ingest = ingest.New(ingest.Config{Store: a.Store, Pipelines: a.schemas, Order: a.File.Names(), NewRows: a.NewRows, Logger: a.Logger, Metrics: a.Metrics})
	return a, nil
}

// Close releases everything Open opened, in reverse order.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// sqlitePath turns sqlite:///abs/file.db or sqlite://rel/file.db into a path.
func sqlitePath(u string) (string, error) {
	p, ok := strings.CutPrefix(u, "sqlite://")
	if !ok || p == "" {
		return "", fmt.Errorf("database URL %q: want sqlite:///path/to/file.db", u)
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return filepath.Clean(p), nil
}

func (a *App) openStore(ctx context.Context) error {
	u := a.Opts.Env.DatabaseURL
	switch {
	case strings.HasPrefix(u, "sqlite:"):
		path, err := sqlitePath(u)
		if err != nil {
			return err
		}
		db, err := sqlite.Open(ctx, &sqlite.Config{Path: path})
		if err != nil {
			return fmt.Errorf("open database %s: %w", path, err)
		}
		a.closers = append(a.closers, db.Close)
		a.dbDir = filepath.Dir(path)
		if err := db.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate database %s: %w", path, err)
		}
		a.Store = db
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(5000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		rdb, err := sql.Open("sqlite", path+"?"+q.Encode())
		if err != nil {
			return fmt.Errorf("open job queue database %s: %w", path, err)
		}
		rdb.SetMaxOpenConns(1)
		a.closers = append(a.closers, rdb.Close)
		a.jobs = jobs.SQLite(rdb)
		if err := jobs.Migrate(ctx, a.jobs, a.Logger); err != nil {
			return err
		}
		return nil
	case strings.HasPrefix(u, "postgres:"), strings.HasPrefix(u, "postgresql:"):
		db, err := postgres.Open(ctx, &postgres.Config{URL: u})
		if err != nil {
			return fmt.Errorf("open database %s: %w", config.MaskURL(u), err)
		}
		a.closers = append(a.closers, db.Close)
		// Migrate holds an advisory lock: roles starting at once take turns.
		if err := db.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate database %s: %w", config.MaskURL(u), err)
		}
		a.Store = db
		a.jobs = jobs.Postgres(db.Pool())
		return jobs.Migrate(ctx, a.jobs, a.Logger)
	}
	return fmt.Errorf("database URL %q: the scheme must be sqlite:// or postgres://", config.MaskURL(u))
}

func (a *App) openBucket(ctx context.Context) error {
	u := a.Opts.Env.ArtifactsURL
	switch {
	case strings.HasPrefix(u, "file://"):
		b, err := fs.Open(strings.TrimPrefix(u, "file://"))
		if err != nil {
			return err
		}
		a.Bucket = b
		return nil
	case strings.HasPrefix(u, "s3://"):
		// A missing bucket is created when the credentials allow it;
		// otherwise Open fails naming the bucket and the endpoint.
		b, err := s3.Open(ctx, &s3.Config{
			URL: u, AccessKey: a.Opts.Env.AWSAccessKeyID, SecretKey: a.Opts.Env.AWSSecretAccessKey, CreateBucket: true,
		})
		if err != nil {
			return err
		}
		a.Bucket = b
		return nil
	}
	return fmt.Errorf("artifacts URL %q: the scheme must be file:// or s3://", config.MaskURL(u))
}

// Pipeline returns a configured pipeline by name.
func (a *App) Pipeline(name string) (*config.Pipeline, bool) {
	for i := range a.File.Pipelines {
		if a.File.Pipelines[i].Name == name {
			return &a.File.Pipelines[i], true
		}
	}
	return nil, false
}

// TrainerRunning reports whether a process works the job queue now (see
// jobs.Backend.TrainerRunning; jobs.ErrUnknown on SQLite).
func (a *App) TrainerRunning(ctx context.Context) (bool, error) { return a.jobs.TrainerRunning(ctx) }

// MustPipeline returns a configured pipeline or an error listing them.
func (a *App) MustPipeline(name string) (*config.Pipeline, error) {
	if p, ok := a.Pipeline(name); ok {
		return p, nil
	}
	return nil, fmt.Errorf("no pipeline named %q in the configuration; pipelines: %s", name, strings.Join(a.File.Names(), ", "))
}

// Runner returns a training runner over this App.
func (a *App) Runner() *train.Runner {
	return train.NewRunner(train.RunnerConfig{Store: a.Store, Registry: a.Registry, Pipeline: a.Pipeline, Logger: a.Logger, Metrics: a.Metrics})
}

// QueueOptions say which parts of the job queue a process runs.
type QueueOptions struct {
	// Work makes the process work training jobs.
	Work bool
	// Schedules and Trigger run the cron schedules and the new-rows trigger.
	Schedules, Trigger bool
	OnRunDone          func(*store.Run, error)
}

// Queue builds the job queue of this App.
func (a *App) Queue(o QueueOptions) (*jobs.Queue, error) {
	rescue, err := a.Opts.Env.RescueAfter()
	if err != nil {
		return nil, err
	}
	cfg := jobs.Config{
		Backend: a.jobs, Store: a.Store, NewRows: a.NewRows, Logger: a.Logger,
		Schedules: o.Schedules, Trigger: o.Trigger, OnRunDone: o.OnRunDone, RescueAfter: rescue,
		Metrics: a.Metrics,
	}
	for i := range a.File.Pipelines {
		cfg.Pipelines = append(cfg.Pipelines, &a.File.Pipelines[i])
	}
	if o.Work {
		cfg.Runner = a.Runner()
	}
	return jobs.New(cfg)
}
