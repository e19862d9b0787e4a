// Package served holds the served-model set both HTTP engines answer
// from: each pipeline's production version, loaded, verified, warmed and
// swapped in behind an atomic pointer, and the loop that keeps it equal to
// the registry's production versions (on a change notice and every poll),
// retrying a version that failed to load.
package served

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/metrics"
	"github.com/mlserve/mlserve/internal/notify"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// Served is a model this process serves: the registry version and its
// loaded, verified artifact.
type Served struct {
	Pipeline string
	Version  *store.Version
	Model    *artifact.Model
	LoadedAt time.Time
}

// servedSet is an immutable pipeline → Served map, swapped whole.
type servedSet map[string]*Served

// Models holds the served production models and keeps them in step with
// the registry: on a signal from this process (a promotion made here) and
// on a periodic check (promotions made by other processes).
type Models struct {
	registry  *registry.Registry
	store     store.Store
	pipelines []string
	poll      time.Duration
	changes   *notify.Hub
	logger    *slog.Logger
	onSwap    func(pipeline string, from, to int)
	onFail    func(pipeline string, version int, err error)
	metrics   *metrics.Metrics

	set     atomic.Pointer[servedSet]
	mu      sync.Mutex // serialises reloads
	wanted  atomic.Pointer[map[string]int]
	checked atomic.Bool
	// failed maps a pipeline to the *loadFailure of its production
	// version, while that version does not load; every check retries it.
	failed sync.Map
}

// loadFailure is why a pipeline's production version does not load.
type loadFailure struct {
	version int
	sha     string
	reason  string // a metrics.Load* word
}

// loadFailureText says in words what a metrics.Load* reason means and what
// to do about it.
var loadFailureText = map[string]string{
	metrics.LoadMissing:      "its artifact is missing from the object store; restore it or promote another version",
	metrics.LoadUnavailable:  "the object store or the database cannot be reached; retrying at each registry check",
	metrics.LoadHashMismatch: "artifact hash mismatch (the stored bytes changed); restore it or promote another version",
	metrics.LoadInvalid:      "its artifact does not decode into a model; restore it or promote another version",
	metrics.LoadWarmup:       "its test prediction failed; promote another version",
}

// LoadError says why a pipeline's production version is not served, or
// is nil when it is (or the pipeline has none). The answer names the
// version and the cause class, never a path or a host.
func (m *Models) LoadError(pipeline string) error {
	f, ok := m.failed.Load(pipeline)
	if !ok {
		return nil
	}
	lf := f.(*loadFailure)
	return fmt.Errorf("pipeline %s: production model v%d cannot be loaded: %s", pipeline, lf.version, loadFailureText[lf.reason])
}

// ModelsConfig configures Models.
type ModelsConfig struct {
	Registry  *registry.Registry
	Store     store.Store
	Pipelines []string
	// Poll is the period of the registry check (default DefaultPoll).
	Poll time.Duration
	// Changes wakes a reload at once (in-process promotions).
	Changes *notify.Hub
	Logger  *slog.Logger
	// OnSwap and OnFail observe swaps and failed loads (metrics, tests).
	OnSwap func(pipeline string, from, to int)
	OnFail func(pipeline string, version int, err error)
	// Metrics, if set, counts swaps and failed loads and tracks the served
	// version of each model.
	Metrics *metrics.Metrics
}

// DefaultPoll is the default period of the registry check: how soon a
// replica without change notices serves a promotion.
const DefaultPoll = 2 * time.Second

// NewModels returns an empty Models; Run fills it.
func NewModels(cfg ModelsConfig) *Models {
	m := &Models{
		registry: cfg.Registry, store: cfg.Store, pipelines: cfg.Pipelines,
		poll: cfg.Poll, changes: cfg.Changes, logger: cfg.Logger,
		onSwap: cfg.OnSwap, onFail: cfg.OnFail, metrics: cfg.Metrics,
	}
	if m.poll == 0 {
		m.poll = DefaultPoll
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	empty := servedSet{}
	m.set.Store(&empty)
	return m
}

// Get returns the served model of a pipeline, or nil.
func (m *Models) Get(pipeline string) *Served { return (*m.set.Load())[pipeline] }

// Run reloads until ctx is done.
func (m *Models) Run(ctx context.Context) {
	var wake <-chan string
	if m.changes != nil {
		ch, unsub := m.changes.Subscribe()
		defer unsub()
		wake = ch
	}
	t := time.NewTicker(m.poll)
	defer t.Stop()
	for {
		if err := m.Reload(ctx); err != nil && ctx.Err() == nil {
			m.logger.Warn("registry check failed; serving the models held", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// Reload compares the served versions with the registry's production
// versions and swaps in the ones that changed. A new version is loaded,
// verified against its hash and given a test prediction aside; only then is
// it swapped in. A version that fails to load is logged, the previous one
// (if any) keeps serving, LoadError says why, and the next check tries it
// again.
func (m *Models) Reload(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	prods, err := m.store.ProductionList(ctx)
	if err != nil {
		return fmt.Errorf("list production versions: %w", err)
	}
	byName := make(map[string]*store.Version, len(prods))
	for _, v := range prods {
		byName[v.Pipeline] = v
	}
	cur := *m.set.Load()
	next := servedSet{}
	maps.Copy(next, cur)
	wanted := map[string]int{}
	changed := false
	for _, name := range m.pipelines {
		v, ok := byName[name]
		if !ok {
			m.failed.Delete(name)
			continue
		}
		wanted[name] = v.Version
		if s := cur[name]; s != nil && s.Version.Version == v.Version && s.Version.ArtifactSHA256 == v.ArtifactSHA256 {
			m.failed.Delete(name)
			continue
		}
		model, err := m.registry.Load(ctx, v)
		reason := loadFailReason(err)
		if err == nil {
			err, reason = warm(model), metrics.LoadWarmup
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The version is tried again at every check (a restored
			// artifact is served within one period), but a failure is
			// logged and counted once until its cause changes.
			lf := &loadFailure{version: v.Version, sha: v.ArtifactSHA256, reason: reason}
			prev, seen := m.failed.Swap(name, lf)
			if seen && *prev.(*loadFailure) == *lf && reason != metrics.LoadUnavailable {
				continue
			}
			m.metrics.ModelLoadFailed(name, reason)
			if s := cur[name]; s != nil {
				m.logger.Error("production version failed to load; still serving the previous one",
					"pipeline", name, "version", v.Version, "serving", s.Version.Version, "err", err)
			} else {
				m.logger.Error("production version failed to load; nothing is served for this pipeline until it loads",
					"pipeline", name, "version", v.Version, "err", err)
			}
			if m.onFail != nil {
				m.onFail(name, v.Version, err)
			}
			continue
		}
		m.failed.Delete(name)
		from := 0
		if s := cur[name]; s != nil {
			from = s.Version.Version
		}
		next[name] = &Served{Pipeline: name, Version: v, Model: model, LoadedAt: time.Now()}
		changed = true
		m.metrics.ModelSwapped(name, v.Version)
		m.logger.Info("serving new version", "pipeline", name, "from", from, "to", v.Version)
		if m.onSwap != nil {
			defer m.onSwap(name, from, v.Version)
		}
	}
	if changed {
		m.set.Store(&next)
	}
	m.wanted.Store(&wanted)
	m.checked.Store(true)
	return nil
}

// loadFailReason classes a failed registry load for the metrics.
func loadFailReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, blob.ErrNotFound):
		return metrics.LoadMissing
	case errors.Is(err, blob.ErrUnavailable):
		return metrics.LoadUnavailable
	case errors.Is(err, artifact.ErrHashMismatch):
		return metrics.LoadHashMismatch
	}
	return metrics.LoadInvalid
}

// warm runs one prediction on an all-missing row through the model, so a
// model that cannot predict never reaches traffic.
func warm(m *artifact.Model) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("test prediction panicked: %v", p)
		}
	}()
	out := make([]float64, m.Outputs())
	row := make(schema.Row, m.Schema().Len())
	for i := range row {
		row[i].Missing = true
	}
	m.PredictRow(row, out)
	for _, v := range out {
		if v != v { // NaN
			return errors.New("test prediction returned NaN")
		}
	}
	return nil
}

// Ready reports nil when every pipeline with a production version in the
// registry (as of the last check) has a model served.
func (m *Models) Ready(context.Context) error {
	if !m.checked.Load() {
		return errors.New("registry not checked yet")
	}
	cur := *m.set.Load()
	for name := range *m.wanted.Load() {
		if cur[name] == nil {
			if err := m.LoadError(name); err != nil {
				return err
			}
			return fmt.Errorf("pipeline %s has a production version that is not loaded", name)
		}
	}
	return nil
}
