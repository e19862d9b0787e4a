// Package registry manages model versions on top of the store and the
// object store: registering an artifact, the champion/challenger gate,
// promotion and rollback (single transactions, logged), loading a version's
// verified artifact, and announcing changes.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/ml/metric"
	"github.com/mlserve/mlserve/internal/notify"
	"github.com/mlserve/mlserve/internal/store"
)

// Registry is the model registry.
type Registry struct {
	store   store.Store
	bucket  blob.Bucket
	changes *notify.Hub
	logger  *slog.Logger

	mu    sync.Mutex
	cache map[string]*artifact.Model // by sha256; artifacts are immutable
}

// Config configures a Registry.
type Config struct {
	Store  store.Store
	Bucket blob.Bucket
	// Changes, if set, is signalled with the pipeline name after every
	// production change made through this Registry.
	Changes *notify.Hub
	Logger  *slog.Logger
}

// New returns a Registry.
func New(cfg Config) *Registry {
	l := cfg.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Registry{store: cfg.Store, bucket: cfg.Bucket, changes: cfg.Changes, logger: l, cache: map[string]*artifact.Model{}}
}

// Store returns the underlying store.
func (r *Registry) Store() store.Store { return r.store }

// Publish stores an artifact's bytes under its content address and reads
// them back to verify the hash, so a version is only ever registered for an
// artifact that is completely stored.
func (r *Registry) Publish(ctx context.Context, pipeline string, data []byte, sha string) (string, error) {
	key := artifact.Key(pipeline, sha)
	if err := r.bucket.Put(ctx, key, data); err != nil {
		return "", fmt.Errorf("upload artifact to object store %s: %w", r.bucket, err)
	}
	back, err := r.bucket.Get(ctx, key)
	if err != nil {
		return "", fmt.Errorf("read back artifact from object store %s: %w", r.bucket, err)
	}
	if got := artifact.Hash(back); got != sha {
		return "", fmt.Errorf("read back artifact %s: %w (got %s)", key, artifact.ErrHashMismatch, got)
	}
	return key, nil
}

// ErrArtifactUnusable marks a version whose artifact is missing from the
// object store or does not load (its bytes do not match the recorded hash,
// or do not decode): the version cannot be served, and retrying will not
// help. An object store that cannot be reached is blob.ErrUnavailable
// instead.
var ErrArtifactUnusable = errors.New("artifact missing or corrupt")

// Load returns a version's model, verified against its recorded hash.
// Loaded models are cached by hash. A missing or corrupt artifact is
// ErrArtifactUnusable (also wrapping the cause: blob.ErrNotFound,
// artifact.ErrHashMismatch, a decode error).
func (r *Registry) Load(ctx context.Context, v *store.Version) (*artifact.Model, error) {
	r.mu.Lock()
	m, ok := r.cache[v.ArtifactSHA256]
	r.mu.Unlock()
	if ok {
		return m, nil
	}
	data, err := r.fetch(ctx, v)
	if err != nil {
		return nil, err
	}
	m, err = artifact.Load(data, v.ArtifactSHA256)
	if err != nil {
		return nil, fmt.Errorf("load artifact of %s v%d (%w): %w", v.Pipeline, v.Version, ErrArtifactUnusable, err)
	}
	r.mu.Lock()
	if len(r.cache) > 64 {
		clear(r.cache)
	}
	r.cache[v.ArtifactSHA256] = m
	r.mu.Unlock()
	return m, nil
}

// fetch reads a version's artifact bytes from the object store; a missing
// one is ErrArtifactUnusable.
func (r *Registry) fetch(ctx context.Context, v *store.Version) ([]byte, error) {
	data, err := r.bucket.Get(ctx, v.ArtifactKey)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("fetch artifact of %s v%d from %s (%w): %w", v.Pipeline, v.Version, r.bucket, ErrArtifactUnusable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch artifact of %s v%d from %s: %w", v.Pipeline, v.Version, r.bucket, err)
	}
	return data, nil
}

// Artifact returns a version's artifact as stored: its canonical bytes,
// verified to hash to the version's ArtifactSHA256 (a user keeps or moves
// a model with them). Bytes that do not match are ErrArtifactUnusable.
func (r *Registry) Artifact(ctx context.Context, v *store.Version) ([]byte, error) {
	data, err := r.fetch(ctx, v)
	if err != nil {
		return nil, err
	}
	if got := artifact.Hash(data); got != v.ArtifactSHA256 {
		return nil, fmt.Errorf("artifact of %s v%d (%w): %w: got %s, want %s",
			v.Pipeline, v.Version, ErrArtifactUnusable, artifact.ErrHashMismatch, got, v.ArtifactSHA256)
	}
	return data, nil
}

// Promote makes a version production by hand (CLI or API), logged with the
// actor and reason.
func (r *Registry) Promote(ctx context.Context, pipeline string, version int, actor, reason string) (*store.Promotion, error) {
	v, err := r.store.VersionGet(ctx, pipeline, version)
	if err != nil {
		return nil, err
	}
	// Refuse to promote what cannot be served.
	if _, err := r.Load(ctx, v); err != nil {
		return nil, fmt.Errorf("promote %s v%d: %w", pipeline, version, err)
	}
	p, err := r.store.VersionPromote(ctx, &store.VersionPromoteParams{
		Pipeline: pipeline, Version: version, Action: store.ActionPromote, Actor: actor, Reason: reason,
	})
	if err != nil {
		return nil, err
	}
	r.logger.InfoContext(ctx, "version promoted", "pipeline", pipeline, "from", p.FromVersion, "to", p.ToVersion, "actor", actor)
	r.changes.Publish(pipeline)
	return p, nil
}

// Rollback returns production to the previous production version.
func (r *Registry) Rollback(ctx context.Context, pipeline, actor, reason string) (*store.Promotion, error) {
	p, err := r.store.VersionRollback(ctx, &store.VersionRollbackParams{Pipeline: pipeline, Actor: actor, Reason: reason})
	if err != nil {
		return nil, err
	}
	r.logger.InfoContext(ctx, "rolled back", "pipeline", pipeline, "from", p.FromVersion, "to", p.ToVersion, "actor", actor)
	r.changes.Publish(pipeline)
	return p, nil
}

// GateParams are the inputs of Gate.
type GateParams struct {
	Candidate *store.Version
	// Score evaluates a model on the candidate's holdout and returns its
	// metrics; used to score production on the same rows.
	Score func(*artifact.Model) (map[string]float64, error)
	// SameSchema reports whether a production model can be scored on the
	// candidate's holdout rows (its schema matches).
	SameSchema func(*artifact.Model) bool
	// Compare, when set, scores the candidate and a production model on
	// the same holdout rows and bootstraps their difference (train.Compare);
	// it replaces Score, and its outcome is recorded on the version.
	Compare func(*artifact.Model) (*metric.Paired, error)
	// Confidence is promote.confidence: with Compare, the candidate must be
	// better in at least this share of the bootstrap's resamples; 0 is the
	// plain comparison of the two scores.
	Confidence float64
	Metric     string
	// Min is the floor the metric must clear (nil: none); for
	// lower-is-better metrics it is a ceiling.
	Min                *float64
	MustBeatProduction bool
}

// Decision is the gate's outcome.
type Decision struct {
	Promoted bool
	Reason   string
	// Production is the production version compared against (0: none).
	Production int
}

// ErrNoMetric is returned when the candidate lacks the gate's metric.
var ErrNoMetric = errors.New("candidate lacks the promotion metric")

// Gate decides whether a candidate becomes production and records the
// decision: promotion (one transaction, logged as "auto" by "gate") or
// rejection with the reason. The promotion only happens if production did
// not change while the gate was deciding.
func (r *Registry) Gate(ctx context.Context, p *GateParams) (*Decision, error) {
	c := p.Candidate
	score, ok := c.Metrics[p.Metric]
	if !ok {
		return r.reject(ctx, c, 0, fmt.Sprintf("metric %s could not be computed on the holdout (e.g. one class only)", p.Metric))
	}
	higher := metric.HigherIsBetter(p.Metric)
	if p.Min != nil {
		if (higher && score < *p.Min) || (!higher && score > *p.Min) {
			cmpWord := "below the minimum"
			if !higher {
				cmpWord = "above the maximum"
			}
			return r.reject(ctx, c, 0, fmt.Sprintf("%s %.4f is %s %.4f", p.Metric, score, cmpWord, *p.Min))
		}
	}
	prod, err := r.store.VersionProduction(ctx, c.Pipeline)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("read production version: %w", err)
	}
	expect := 0
	var g *store.Gate // the comparison with production, when made
	reason := fmt.Sprintf("first production version (%s %.4f)", p.Metric, score)
	if prod != nil {
		expect = prod.Version
		reason = fmt.Sprintf("%s %.4f; must_beat_production is off", p.Metric, score)
		if p.MustBeatProduction && p.Compare != nil {
			g, err = r.compareProduction(ctx, prod, score, p)
			if err != nil {
				return nil, err
			}
			if err := r.store.VersionGateSet(ctx, &store.VersionGateSetParams{Pipeline: c.Pipeline, Version: c.Version, Gate: g}); err != nil {
				return nil, fmt.Errorf("record gate of %s v%d: %w", c.Pipeline, c.Version, err)
			}
			if !g.Promoted {
				return r.reject(ctx, c, prod.Version, gateReason(g))
			}
			reason = gateReason(g)
		} else if p.MustBeatProduction {
			prodScore, how, err := r.productionScore(ctx, prod, p)
			if err != nil {
				return nil, err
			}
			d := digits(score, prodScore)
			if !beats(p.Metric, score, prodScore) {
				return r.reject(ctx, c, prod.Version, fmt.Sprintf("%s %.*f does not beat production v%d's %.*f (%s)", p.Metric, d, score, prod.Version, d, prodScore, how))
			}
			reason = fmt.Sprintf("%s %.*f beats production v%d's %.*f (%s)", p.Metric, d, score, prod.Version, d, prodScore, how)
		}
	}
	pr, err := r.store.VersionPromote(ctx, &store.VersionPromoteParams{
		Pipeline: c.Pipeline, Version: c.Version, Action: store.ActionAuto, Actor: "gate", Reason: reason, ExpectCurrent: &expect,
	})
	if errors.Is(err, store.ErrConflict) {
		if g != nil {
			g.Promoted = false
			if err := r.store.VersionGateSet(ctx, &store.VersionGateSetParams{Pipeline: c.Pipeline, Version: c.Version, Gate: g}); err != nil {
				return nil, fmt.Errorf("record gate of %s v%d: %w", c.Pipeline, c.Version, err)
			}
		}
		return r.reject(ctx, c, expect, "production changed while the gate was deciding; promote by hand if wanted")
	}
	if err != nil {
		return nil, fmt.Errorf("promote %s v%d: %w", c.Pipeline, c.Version, err)
	}
	r.logger.Info("version promoted", "pipeline", c.Pipeline, "from", pr.FromVersion, "to", pr.ToVersion, "reason", reason)
	r.changes.Publish(c.Pipeline)
	return &Decision{Promoted: true, Reason: reason, Production: expect}, nil
}

// productionScore scores production on the candidate's holdout when its
// schema allows, else falls back to production's recorded metric.
func (r *Registry) productionScore(ctx context.Context, prod *store.Version, p *GateParams) (float64, string, error) {
	m, err := r.Load(ctx, prod)
	if err != nil {
		return 0, "", fmt.Errorf("load production v%d for comparison: %w", prod.Version, err)
	}
	if p.SameSchema == nil || p.SameSchema(m) {
		ms, err := p.Score(m)
		if err != nil {
			return 0, "", fmt.Errorf("score production v%d on the holdout: %w", prod.Version, err)
		}
		if s, ok := ms[p.Metric]; ok && !math.IsNaN(s) {
			return s, "same holdout", nil
		}
	}
	s, ok := prod.Metrics[p.Metric]
	if !ok {
		worst := math.Inf(-1)
		if !metric.HigherIsBetter(p.Metric) {
			worst = math.Inf(1)
		}
		return worst, "production has no such metric", nil
	}
	return s, "production's recorded holdout, schema changed", nil
}

func (r *Registry) reject(ctx context.Context, c *store.Version, prod int, reason string) (*Decision, error) {
	if _, err := r.store.VersionReject(ctx, &store.VersionRejectParams{Pipeline: c.Pipeline, Version: c.Version, Reason: reason}); err != nil {
		return nil, fmt.Errorf("reject %s v%d: %w", c.Pipeline, c.Version, err)
	}
	r.logger.Info("version rejected", "pipeline", c.Pipeline, "version", c.Version, "reason", reason)
	return &Decision{Promoted: false, Reason: reason, Production: prod}, nil
}
