package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mlserve/mlserve/internal/api"
	"github.com/mlserve/mlserve/internal/auth"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/fasthttpserver"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/jobs"
	"github.com/mlserve/mlserve/internal/mount"
	"github.com/mlserve/mlserve/internal/oip"
	"github.com/mlserve/mlserve/internal/openapi"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/served"
	"github.com/mlserve/mlserve/internal/serving"
	"github.com/mlserve/mlserve/internal/spec"
	"github.com/mlserve/mlserve/internal/store"
)

// Roles says which roles a process runs.
type Roles struct {
	API, Trainer, Ingest bool
}

// ServeOptions configure Serve.
type ServeOptions struct {
	Roles Roles
	// Addr is the listen address (":1234"; ":0" picks a free port).
	Addr string
	// Ready, if set, is called with the bound address once listening.
	Ready func(addr string)
	// Extra, if set, runs beside the roles (the demo feed) until ctx ends.
	Extra func(ctx context.Context) error
	// ReloadEvery is the api's registry check period (default served.DefaultPoll).
	ReloadEvery time.Duration
	// OnRunDone observes finished training runs (tests).
	OnRunDone func(*store.Run, error)
	// WatchFile, if set, is the pipeline file that `up` reads every
	// WatchEvery (default WatchEveryDefault) and applies when it changes.
	WatchFile  string
	WatchEvery time.Duration
}

type enqueuer struct{ q *jobs.Queue }

func (e enqueuer) Enqueue(ctx context.Context, pipeline, reason string) (*store.Run, error) {
	return e.q.Enqueue(ctx, pipeline, reason, 0)
}

// Serve runs the chosen roles on one listener until ctx is done or one of
// them fails, then shuts all of them down gracefully: the listener stops
// taking connections and finishes in-flight requests, the trainer stops
// taking jobs and finishes (or hands back) the running one.
func (a *App) Serve(ctx context.Context, o ServeOptions) error {
	guard := httpx.Guard{Token: a.Opts.Env.AdminToken, Listen: o.Addr, Logger: a.Logger}
	if guard.Token == "" && (o.Roles.API || o.Roles.Ingest) {
		// Once for the process, whichever roles mount write routes.
		a.Logger.Warn("write routes are open to local clients: MLSERVE_ADMIN_TOKEN is unset",
			"refused", "non-loopback peers, proxied requests, Host names other than localhost or the listen address, pages of other origins",
			"fix", "set MLSERVE_ADMIN_TOKEN and send Authorization: Bearer <token>")
	}
	checks, soft := a.readiness(o.Roles)

	g, gctx := errgroup.WithContext(ctx)
	var queue *jobs.Queue
	if o.Roles.Trainer || o.Roles.API {
		var err error
		queue, err = a.Queue(QueueOptions{Work: o.Roles.Trainer, Schedules: o.Roles.Trainer, Trigger: o.Roles.Trainer, OnRunDone: o.OnRunDone})
		if err != nil {
			return err
		}
	}
	if o.Roles.Trainer {
		// A schedule edited in the spec moves without a restart.
		a.Specs.OnChange(func(old, new *spec.Current) {
			if old.Pipeline.Train.Schedule == new.Pipeline.Train.Schedule {
				return
			}
			if err := queue.Reschedule(new.Pipeline); err != nil {
				a.Logger.Error("cannot follow the spec's new schedule", "pipeline", new.Pipeline.Name, "err", err)
				return
			}
			a.Logger.Info("schedule changed", "pipeline", new.Pipeline.Name, "schedule", new.Pipeline.Train.Schedule)
		})
	}
	env := a.Opts.Env
	tokens := auth.NewCache(a.Store, 0)
	authz := &auth.Authorizer{Mode: a.Opts.Env.Auth, Bootstrap: a.Opts.Env.AdminToken, Tokens: tokens, Logger: a.Logger}
	mo := mount.Options{Logger: a.Logger, Auth: authz, NotLocal: guard.NotLocal, Required: checks, Soft: soft, Metrics: a.Metrics, Gatherer: a.prom,
		OpenAPI: &openapi.Options{API: o.Roles.API, Ingest: o.Roles.Ingest}}
	for _, p := range a.File.Pipelines {
		mo.OpenAPI.Pipelines = append(mo.OpenAPI.Pipelines, openapi.Pipeline{Name: p.Name, Schema: p.Schema})
	}
	if o.Roles.API {
		names := a.File.Names()
		models := served.NewModels(served.ModelsConfig{
			Registry: a.Registry, Store: a.Store, Pipelines: names, Poll: o.ReloadEvery, Changes: a.Changes, Logger: a.Logger,
			Metrics: a.Metrics,
		})
		var pipes []api.Pipeline
		for _, p := range a.File.Pipelines {
			pipes = append(pipes, api.Pipeline{Name: p.Name, Schema: p.Schema})
		}
		mo.API = api.New(api.Config{Pipelines: pipes, Models: models, Registry: a.Registry, Store: a.Store, Queue: enqueuer{queue}, Logger: a.Logger,
			MaxBody: env.MaxBody, MaxBatch: env.MaxBatch, CORSOrigins: env.CORSList(),
			Schema: func(name string) (schema.Schema, bool) {
				p, ok := a.Pipeline(name)
				if !ok {
					return schema.Schema{}, false
				}
				return p.Schema, true
			}})
		mo.OIP = oip.New(oip.Config{Pipelines: names, Models: models, Registry: a.Registry, Store: a.Store, Logger: a.Logger,
			MaxBody: env.MaxBody, MaxBatch: env.MaxBatch})
		mo.Models = models
		g.Go(func() error { models.Run(gctx); return nil })
	}
	if o.Roles.Ingest {
		mo.Ingest = a.Ingest
	}
	routes, err := mount.Roles(mo)
	if err != nil {
		return err
	}

	srv, engine, err := a.listen(o, routes.Handler, routes.Fast)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s is taken (another mlserve, or another server?): stop it, or pick another address with --addr (e.g. --addr :1240) or %s", o.Addr, config.EnvAddr)
	}
	if err != nil {
		return err
	}
	if o.Roles.Trainer {
		// A full disk does not keep the process from serving: the api
		// answers from the models it holds while the queue retries.
		started := queue.Start(gctx)
		if started != nil && !errors.Is(started, store.ErrDiskFull) {
			return started
		}
		if started != nil {
			a.Logger.Error("the job queue cannot start: the database's disk is full; serving without training until space is freed", "err", started)
		}
		g.Go(func() error {
			if started != nil {
				if err := retryStart(gctx, queue, a.Logger); err != nil {
					return err
				}
			}
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return queue.Stop(sctx)
		})
	}
	g.Go(func() error { a.Specs.Run(gctx); return nil })
	// A token created or revoked by another process (PostgreSQL's
	// NOTIFY) is seen at once; the cache's TTL covers lost signals and
	// SQLite.
	tokenSignals, unsubscribe := a.TokensChanged.Subscribe()
	g.Go(func() error {
		defer unsubscribe()
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-tokenSignals:
				tokens.Invalidate()
			}
		}
	})
	if o.WatchFile != "" {
		g.Go(func() error { a.watchFile(gctx, o.WatchFile, cmp.Or(o.WatchEvery, WatchEveryDefault)); return nil })
	}
	g.Go(func() error { return srv.Serve(gctx) })
	pump := a.startSignals(gctx, o.Roles) // listening before Ready
	g.Go(func() error { pump(); return nil })
	if o.Extra != nil {
		g.Go(func() error { return o.Extra(gctx) })
	}
	a.Logger.Info("mlserve listening", "addr", srv.Addr(), "http", engine, "api", o.Roles.API, "trainer", o.Roles.Trainer, "ingest", o.Roles.Ingest,
		"pipelines", a.File.Names())
	if o.Ready != nil {
		o.Ready(srv.Addr())
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// server is an HTTP server of the roles: net/http's (httpx) or the fast
// front's.
type server interface {
	Addr() string
	Serve(ctx context.Context) error
}

// listen binds the roles' server on the engine EngineFor picks, with fast
// as the fasthttp server's hot routes.
func (a *App) listen(o ServeOptions, h http.Handler, fast []serving.Route) (server, string, error) {
	engine, err := EngineFor(a.Opts.Env.HTTPEngine, o.Roles)
	if err != nil {
		return nil, "", err
	}
	env := a.Opts.Env
	lim := httpx.DefaultLimits
	lim.MaxConns = cmp.Or(env.MaxConns, lim.MaxConns)
	lim.MaxBodyInFlight = cmp.Or(env.MaxBodyInFlight, lim.MaxBodyInFlight)
	if engine == config.EngineNetHTTP {
		srv, err := httpx.ListenLimits(o.Addr, h, a.Logger, lim)
		return srv, engine, err
	}
	srv, err := fasthttpserver.Listen(o.Addr, h, fast, fasthttpserver.Options{Logger: a.Logger, Observe: a.Metrics.Request, Limits: lim, MaxBody: env.MaxBody,
		ErrorBody: oip.ErrorBody})
	return srv, engine, err
}

// EngineFor returns the HTTP server (config.EngineFastHTTP or
// config.EngineNetHTTP) that a process running roles uses under the
// MLSERVE_HTTP_ENGINE setting: auto (or empty) picks the fasthttp server for
// the api role alone and net/http otherwise, since the ingest role's
// uploads stream and the fasthttp server reads bodies whole.
func EngineFor(setting string, roles Roles) (string, error) {
	fastOK := roles.API && !roles.Ingest
	switch setting {
	case "", config.EngineAuto:
		if fastOK {
			return config.EngineFastHTTP, nil
		}
		return config.EngineNetHTTP, nil
	case config.EngineFastHTTP:
		if !fastOK {
			return "", fmt.Errorf("%s=%s: fasthttp serves the api role alone (`mlserve api`), not the ingest role, whose uploads stream; use %s or %s", config.EnvHTTPEngine, setting, config.EngineAuto, config.EngineNetHTTP)
		}
		return setting, nil
	case config.EngineNetHTTP:
		return setting, nil
	}
	return "", fmt.Errorf("%s %q: want %s, %s or %s", config.EnvHTTPEngine, setting, config.EngineAuto, config.EngineFastHTTP, config.EngineNetHTTP)
}

// queueRetryEvery is how often a job queue that could not start (disk
// full) tries again.
const queueRetryEvery = 2 * time.Second

// retryStart starts queue again every queueRetryEvery while its database's
// disk is full; it returns nil once started or when ctx ends, and any other
// error.
func retryStart(ctx context.Context, queue *jobs.Queue, logger *slog.Logger) error {
	t := time.NewTicker(queueRetryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		err := queue.Start(ctx)
		if err == nil {
			logger.Info("job queue started: disk space was freed")
			return nil
		}
		if !errors.Is(err, store.ErrDiskFull) {
			return err
		}
	}
}
