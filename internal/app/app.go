// Package app wires mlserve together: it picks the database and object-store
// backends from their URLs, runs migrations, and assembles the roles (api,
// trainer, ingest) alone or all in one process (up). Only the CLI imports it.
package app

import (
	"cmp"
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
	"github.com/mlserve/mlserve/internal/spec"
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
	// Apply stores the pipeline file's specs in the database as new spec
	// versions where they differ (roles, up and the commands that write to
	// a pipeline); without it the file only names the pipelines and the
	// database's specs are used.
	Apply bool
	// Source is recorded with applied specs (default "file:PATH").
	Source string
	// Exclusive takes the embedded data dir's lock (long-running roles):
	// a second process on the same folder is refused.
	Exclusive bool
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
	// Specs holds the current spec of each pipeline; Serve keeps it on the
	// database's current versions.
	Specs *spec.Live
	// SpecsChanged wakes Specs: after a spec is applied in this process,
	// and on signals of other processes.
	SpecsChanged *notify.Hub
	// TokensChanged signals that another process created or revoked a
	// token: the api and ingest roles read the tokens again.
	TokensChanged *notify.Hub
	// Applied lists the pipelines whose spec Open applied from the file.
	Applied []*spec.Result
	// Metrics are the process's Prometheus collectors, served at /metrics.
	Metrics *metrics.Metrics

	prom *prometheus.Registry
	jobs jobs.Backend
	// dbDir is the folder of an embedded (SQLite) database, whose free
	// space readiness checks; "" for PostgreSQL.
	dbDir   string
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
	file := opts.File
	path := cmp.Or(opts.ConfigPath, config.DefaultFile)
	var noFile error
	if file == nil {
		f, err := ParseOptions.Load(path)
		if errors.Is(err, os.ErrNotExist) {
			noFile = fmt.Errorf("no pipeline file at %s: run `mlserve init` (the titanic example) or `mlserve init --csv FILE --target COL --name NAME`, or pass --config", path)
		} else if err != nil {
			return nil, err
		}
		file = f
	}
	if noFile != nil && !a.embeddedExists() {
		// Nothing to run: no file, and no embedded database whose specs
		// could say what (one is not made empty as a side effect).
		return nil, noFile
	}
	if opts.Exclusive {
		if err := a.lockDataDir(); err != nil {
			return nil, err
		}
	}
	if err := a.openStore(ctx); err != nil {
		return nil, err
	}
	if err := a.openBucket(ctx); err != nil {
		return nil, err
	}
	if file != nil && opts.Apply {
		source := cmp.Or(opts.Source, "file:"+path)
		res, err := spec.Apply(ctx, &spec.ApplyParams{Store: a.Store, File: file, Source: source})
		if err != nil {
			return nil, fmt.Errorf("apply %s: %w", source, err)
		}
		for _, r := range res {
			if r.Changed() {
				a.Applied = append(a.Applied, r)
				a.Logger.Info(r.String()+" (applied from "+strings.TrimPrefix(source, "file:")+")", "pipeline", r.Pipeline, "spec_version", r.To)
			}
		}
	}
	initial, err := a.currentSpecs(ctx, file)
	if err != nil {
		return nil, err
	}
	if len(initial) == 0 {
		if noFile != nil {
			return nil, noFile
		}
		return nil, errors.New("the pipeline file has no pipelines")
	}
	a.File = &config.File{}
	for _, c := range initial {
		a.File.Pipelines = append(a.File.Pipelines, *c.Pipeline)
		if err := a.Store.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: c.Pipeline.Name, Schema: c.Pipeline.Schema}); err != nil {
			return nil, fmt.Errorf("prepare dataset of pipeline %s: %w", c.Pipeline.Name, err)
		}
	}
	a.SpecsChanged = &notify.Hub{}
	a.TokensChanged = &notify.Hub{}
	a.Specs = spec.NewLive(spec.LiveConfig{Store: a.Store, Initial: initial, Wake: a.SpecsChanged, Logger: a.Logger})
	a.Registry = registry.New(registry.Config{Store: a.Store, Bucket: a.Bucket, Changes: a.Changes, Logger: a.Logger})
	a.Ingest = ingest.New(ingest.Config{Store: a.Store, Schemas: a.schema, Order: a.File.Names(), NewRows: a.NewRows, Logger: a.Logger, Metrics: a.Metrics})
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

// embeddedExists reports whether the database is PostgreSQL or an SQLite
// file that exists already.
func (a *App) embeddedExists() bool {
	u := a.Opts.Env.DatabaseURL
	if !strings.HasPrefix(u, "sqlite:") {
		return true
	}
	path, err := sqlitePath(u)
	if err != nil {
		return true // openStore says what is wrong with the URL
	}
	_, err = os.Stat(path)
	return err == nil
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
func (a *App) Pipeline(name string) (*config.Pipeline, bool) { return a.Specs.Pipeline(name) }

// schema returns a pipeline's current compiled schema.
func (a *App) schema(name string) (*schema.Compiled, bool) {
	c, ok := a.Specs.Get(name)
	if !ok {
		return nil, false
	}
	return c.Schema, true
}

// currentSpecs returns the specs this process follows: the database's
// current version of each pipeline of file (the file's own spec, version
// 0, for a pipeline not stored yet), or without a file every stored
// pipeline.
func (a *App) currentSpecs(ctx context.Context, file *config.File) ([]*spec.Current, error) {
	stored, err := a.Store.SpecCurrentList(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*store.Spec{}
	var names []string
	for _, s := range stored {
		byName[s.Pipeline] = s
		names = append(names, s.Pipeline)
	}
	if file != nil {
		names = file.Names()
	}
	var out []*spec.Current
	for _, name := range names {
		var c *spec.Current
		if s := byName[name]; s != nil {
			p, err := spec.Decode(s)
			if err != nil {
				return nil, err
			}
			if c, err = spec.NewCurrent(p, s.Version); err != nil {
				return nil, err
			}
		} else {
			fp, _ := file.Pipeline(name)
			if c, err = spec.NewCurrent(&fp, 0); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, nil
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
	return train.NewRunner(train.RunnerConfig{Store: a.Store, Registry: a.Registry, Pipeline: a.Pipeline, Spec: a.spec, Logger: a.Logger, Metrics: a.Metrics})
}

// spec returns a pipeline's current configuration and spec version.
func (a *App) spec(name string) (*config.Pipeline, int, bool) {
	c, ok := a.Specs.Get(name)
	if !ok {
		return nil, 0, false
	}
	return c.Pipeline, c.Version, true
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
		Metrics: a.Metrics, Current: a.Pipeline,
	}
	for i := range a.File.Pipelines {
		cfg.Pipelines = append(cfg.Pipelines, &a.File.Pipelines[i])
	}
	if o.Work {
		cfg.Runner = a.Runner()
	}
	return jobs.New(cfg)
}
