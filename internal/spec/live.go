package spec

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/notify"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// DefaultPoll is how often Live checks the database for new spec versions
// when no signal comes (SQLite, or signals lost).
const DefaultPoll = 2 * time.Second

// Current is the spec of one pipeline that a process follows.
type Current struct {
	Pipeline *config.Pipeline
	// Version is the stored spec version; 0 when the spec is not stored
	// (a read-only command on a database no role has opened yet).
	Version int
	Schema  *schema.Compiled
}

// NewCurrent compiles p's schema into a Current of the given version.
func NewCurrent(p *config.Pipeline, version int) (*Current, error) {
	c, err := schema.Compile(p.Schema)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	return &Current{Pipeline: p, Version: version, Schema: c}, nil
}

// LiveConfig configures a Live.
type LiveConfig struct {
	Store store.Store
	// Initial are the pipelines the process runs, as it starts: Live
	// follows their specs (a pipeline stored later needs a restart to be
	// served, and is logged once).
	Initial []*Current
	// Wake, if set, makes Run check at once: signalled after a spec is
	// stored in this process and on ChannelSpecs from other processes.
	Wake *notify.Hub
	// Poll is the period of the check (default DefaultPoll).
	Poll   time.Duration
	Logger *slog.Logger
	// Changed, if set, is called after a pipeline's spec was swapped in.
	Changed func(old, new *Current)
}

// Live holds the current spec of each pipeline a process runs and moves
// it to the database's current version on a signal or poll. Readers get
// an immutable Current; a new version is decoded and compiled aside, then
// swapped in.
type Live struct {
	cfg   LiveConfig
	names []string
	cur   atomic.Pointer[map[string]*Current]
	mu    sync.Mutex // one Refresh at a time
	told  map[string]bool
	subs  []func(old, new *Current)
}

// OnChange registers fn, called (like LiveConfig.Changed) after each
// pipeline's spec was swapped in, from the goroutine that refreshed.
func (l *Live) OnChange(fn func(old, new *Current)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.subs = append(l.subs, fn)
}

// NewLive returns a Live on cfg.Initial.
func NewLive(cfg LiveConfig) *Live {
	if cfg.Poll == 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Live{cfg: cfg, told: map[string]bool{}}
	m := map[string]*Current{}
	for _, c := range cfg.Initial {
		l.names = append(l.names, c.Pipeline.Name)
		m[c.Pipeline.Name] = c
	}
	l.cur.Store(&m)
	return l
}

// Get returns the current spec of a pipeline the process runs.
func (l *Live) Get(name string) (*Current, bool) {
	c, ok := (*l.cur.Load())[name]
	return c, ok
}

// Pipeline returns the current configuration of a pipeline.
func (l *Live) Pipeline(name string) (*config.Pipeline, bool) {
	c, ok := l.Get(name)
	if !ok {
		return nil, false
	}
	return c.Pipeline, true
}

// Names lists the pipelines the process runs, in starting order.
func (l *Live) Names() []string { return slices.Clone(l.names) }

// Refresh reads the current spec versions and swaps in those that moved,
// logging each change ("pipeline titanic: spec v3 → v4: model.algorithm
// logistic → gbdt"). A stored spec that cannot be read is logged and the
// held one kept.
func (l *Live) Refresh(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	specs, err := l.cfg.Store.SpecCurrentList(ctx)
	if err != nil {
		return err
	}
	old := *l.cur.Load()
	next := map[string]*Current{}
	for k, v := range old {
		next[k] = v
	}
	var changed [][2]*Current
	for _, s := range specs {
		held, ok := old[s.Pipeline]
		if !ok {
			if !l.told[s.Pipeline] {
				l.told[s.Pipeline] = true
				l.cfg.Logger.Info("pipeline "+s.Pipeline+" is in the database but not run by this process; restart it to run the pipeline",
					"pipeline", s.Pipeline, "spec_version", s.Version)
			}
			continue
		}
		if held.Version == s.Version {
			continue
		}
		p, err := Decode(s)
		var c *Current
		if err == nil {
			c, err = NewCurrent(p, s.Version)
		}
		if err != nil {
			l.cfg.Logger.Error("cannot follow a stored spec; keeping the one held", "pipeline", s.Pipeline,
				"spec_version", s.Version, "held_version", held.Version, "err", err)
			continue
		}
		next[s.Pipeline] = c
		changed = append(changed, [2]*Current{held, c})
	}
	if len(changed) == 0 {
		return nil
	}
	l.cur.Store(&next)
	for _, ch := range changed {
		res := &Result{Pipeline: ch[1].Pipeline.Name, From: ch[0].Version, To: ch[1].Version}
		res.Changes, _ = Diff(ch[0].Pipeline, ch[1].Pipeline)
		if len(res.Changes) == 0 {
			res.Changes = []Change{{Path: "(spec)", Old: fmt.Sprintf("v%d", ch[0].Version), New: fmt.Sprintf("v%d", ch[1].Version)}}
		}
		l.cfg.Logger.Info(res.String(), "pipeline", res.Pipeline, "from_spec", res.From, "to_spec", res.To)
		if l.cfg.Changed != nil {
			l.cfg.Changed(ch[0], ch[1])
		}
		for _, fn := range l.subs {
			fn(ch[0], ch[1])
		}
	}
	return nil
}

// Run refreshes on each Wake signal and every Poll until ctx is done.
func (l *Live) Run(ctx context.Context) {
	var wake <-chan string
	if l.cfg.Wake != nil {
		ch, unsub := l.cfg.Wake.Subscribe()
		defer unsub()
		wake = ch
	}
	t := time.NewTicker(l.cfg.Poll)
	defer t.Stop()
	for {
		if err := l.Refresh(ctx); err != nil && ctx.Err() == nil {
			l.cfg.Logger.Warn("spec check failed; keeping the specs held", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}
