package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/metrics"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/ml/metric"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// ErrBusy is returned by Run when another trainer holds the pipeline's
// training lease; the caller should try again a little later.
var ErrBusy = errors.New("another training of this pipeline is running")

// ErrStopping is the cause a trainer that stops (SIGINT/SIGTERM) cancels
// its runs with: a run cancelled so is recorded as interrupted (not left
// running) and its job goes back to the queue.
var ErrStopping = errors.New("the trainer is stopping; the job goes back to the queue")

// LeaseTTL is how long a training lease lasts without renewal; a trainer
// that dies releases its pipeline after at most this long (sooner when a
// sweeper on its machine sees its process gone, see Holder.Gone). A live
// trainer renews its lease every LeaseRenew.
const (
	LeaseTTL   = 10 * time.Second
	LeaseRenew = 3 * time.Second
)

// Runner performs training runs: snapshot, fit, publish, register, gate.
type Runner struct {
	store    store.Store
	registry *registry.Registry
	lookup   func(name string) (*config.Pipeline, bool)
	spec     func(name string) (*config.Pipeline, int, bool)
	logger   *slog.Logger
	metrics  *metrics.Metrics
}

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	Store    store.Store
	Registry *registry.Registry
	// Pipeline returns the configuration of a pipeline by name.
	Pipeline func(name string) (*config.Pipeline, bool)
	// Spec, if set, is asked instead of Pipeline: the pipeline's current
	// configuration and its spec version, which the run records.
	Spec   func(name string) (p *config.Pipeline, version int, ok bool)
	Logger *slog.Logger
	// Metrics, if set, counts finished runs by outcome and their duration.
	Metrics *metrics.Metrics
}

// NewRunner returns a Runner.
func NewRunner(cfg RunnerConfig) *Runner {
	l := cfg.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Runner{store: cfg.Store, registry: cfg.Registry, lookup: cfg.Pipeline, spec: cfg.Spec, logger: l, metrics: cfg.Metrics}
}

// RunOptions are the options of Run.
type RunOptions struct {
	// FinalAttempt says no retry follows a failure: a failure that a retry
	// might fix is then recorded as the run's outcome too.
	FinalAttempt bool
	Progress     ml.Progress
}

// Run performs run id. Failures that a retry cannot fix (bad config, too few
// rows, an algorithm error) are recorded on the run, which is returned with
// state failed and a nil error. Failures a retry may fix (database or object
// store unreachable) are returned as errors; the run stays running with the
// error noted until its final attempt, which marks it failed. ErrBusy means
// nothing was done.
func (r *Runner) Run(ctx context.Context, id int64, o *RunOptions) (*store.Run, error) {
	if o == nil {
		o = &RunOptions{FinalAttempt: true}
	}
	run, err := r.store.RunGet(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read run %d: %w", id, err)
	}
	if run.State == store.RunSucceeded || run.FinishedAt != nil {
		// A duplicate delivery of a finished job: River rescuing the job
		// of a run a sweeper has already handed on or failed.
		return run, nil
	}
	// The spec current when the run starts is the one it trains with.
	p, specVersion, ok := r.current(run.Pipeline)
	if !ok {
		return r.finishFailed(ctx, run, fmt.Errorf("pipeline %q is not in this trainer's configuration", run.Pipeline), false, true, time.Now())
	}
	lease := &store.LeaseParams{Name: LeaseName(run.Pipeline), Holder: Self(id).String(), TTL: LeaseTTL}
	got, err := r.store.LeaseAcquire(ctx, lease)
	if err != nil {
		return nil, fmt.Errorf("take training lease of %s: %w", run.Pipeline, err)
	}
	if !got {
		return nil, ErrBusy
	}
	defer r.store.LeaseRelease(context.WithoutCancel(ctx), lease)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go r.renew(ctx, cancel, lease)

	start := time.Now()
	run, err = r.store.RunStart(ctx, &store.RunStartParams{ID: id, SpecVersion: specVersion})
	if err != nil {
		return nil, fmt.Errorf("start run %d: %w", id, err)
	}
	r.logger.Info("training started", "pipeline", run.Pipeline, "run", id, "reason", run.Reason, "attempt", run.Attempt,
		"spec_version", specVersion, "algorithm", p.Model.Algorithm)
	res, outcome, err := r.run(ctx, run, p, o.Progress)
	if err != nil {
		var pe *permanentError
		if errors.As(err, &pe) {
			return r.finishFailed(ctx, run, pe.err, false, true, start)
		}
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			err = fmt.Errorf("%w (%w)", err, &interruption{cause})
		}
		return r.finishFailed(ctx, run, err, true, o.FinalAttempt, start)
	}
	res.ID = id
	fin, err := r.store.RunFinish(ctx, res)
	if err != nil {
		return nil, fmt.Errorf("record outcome of run %d: %w", id, err)
	}
	r.metrics.RunFinished(fin.Pipeline, outcome, time.Since(start))
	r.logger.Info("training finished", "pipeline", fin.Pipeline, "run", id, "version", fin.Version, "message", fin.Message)
	return fin, nil
}

// renew keeps the lease alive; losing it cancels the run.
func (r *Runner) renew(ctx context.Context, cancel context.CancelCauseFunc, lease *store.LeaseParams) {
	t := time.NewTicker(LeaseRenew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ok, err := r.store.LeaseAcquire(ctx, lease)
			if err == nil && !ok {
				cancel(errors.New("training lease lost to another trainer"))
				return
			}
		}
	}
}

// interruption is why a run's context ended before the run did (its lease
// lost, the trainer stopping): words of mlserve's own, which PublicError
// passes on.
type interruption struct{ cause error }

func (e *interruption) Error() string { return e.cause.Error() }
func (e *interruption) Unwrap() error { return e.cause }

// PublicError is what a run records of a failure a retry may fix. Anyone
// may read a run (GET /v1/runs answers without a token), so a database or
// object store that failed is named without its host, port, user,
// database name or endpoint; the log keeps those (finishFailed logs the
// whole error). Failures of a pipeline's configuration or data are
// recorded whole: they hold nothing of the deployment.
func PublicError(err error) string {
	var what string
	var pe *partError
	switch {
	case errors.Is(err, blob.ErrUnavailable):
		what = "object store unavailable"
	case errors.Is(err, store.ErrUnavailable):
		what = "database unavailable"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		what = "interrupted"
	case errors.As(err, &pe):
		what = pe.part + " error"
	default:
		what = "server-side failure"
	}
	var in *interruption
	if errors.As(err, &in) {
		what += " (" + in.Error() + ")"
	}
	return what + "; the server log has the details"
}

// partError notes the part of the deployment a failure came from (the
// object store), for PublicError.
type partError struct {
	part string
	err  error
}

func (e *partError) Error() string { return e.err.Error() }
func (e *partError) Unwrap() error { return e.err }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

func permanent(err error) error { return &permanentError{err} }

// finishFailed records a failure. A transient one (a retry may fix it) is
// returned as an error; unless final, the run stays running for the retry,
// or is interrupted when its trainer is stopping (ErrStopping).
func (r *Runner) finishFailed(ctx context.Context, run *store.Run, cause error, transient, final bool, start time.Time) (*store.Run, error) {
	ctx = context.WithoutCancel(ctx)
	state := store.RunFailed
	if transient && !final {
		state = store.RunRunning
		if errors.Is(cause, ErrStopping) {
			state = store.RunInterrupted
		}
		r.metrics.RunRetrying(run.Pipeline)
	} else {
		r.metrics.RunFinished(run.Pipeline, metrics.RunFailed, time.Since(start))
	}
	wm := run.DataWatermark
	if wm == 0 {
		// Record how far the data went, so the new-rows trigger waits for
		// new rows instead of retrying a failing configuration at once.
		if info, err := r.store.DatasetInfo(ctx, run.Pipeline); err == nil {
			wm = info.LastBatchID
		}
	}
	if state == store.RunInterrupted {
		// A normal shutdown, not an incident: no warning.
		r.logger.Info("training interrupted: the trainer is stopping; the run goes back to the queue",
			"pipeline", run.Pipeline, "run", run.ID, "attempt", run.Attempt)
	} else {
		r.logger.Warn("training failed", "pipeline", run.Pipeline, "run", run.ID, "attempt", run.Attempt, "retry", transient && !final, "err", cause)
	}
	public := cause.Error()
	if transient {
		public = PublicError(cause)
	}
	fin, err := r.store.RunFinish(ctx, &store.RunFinishParams{
		ID: run.ID, State: state, Error: public, DataWatermark: wm, DataRows: run.DataRows, Checks: run.Checks,
	})
	if transient {
		return fin, cause
	}
	if err != nil {
		return nil, fmt.Errorf("record failure of run %d: %w", run.ID, err)
	}
	return fin, nil
}

// current returns a pipeline's configuration and spec version (0 when the
// runner has no Spec).
func (r *Runner) current(name string) (*config.Pipeline, int, bool) {
	if r.spec != nil {
		return r.spec(name)
	}
	p, ok := r.lookup(name)
	return p, 0, ok
}

// run trains and gates; the outcome is one of the metrics.Run* words.
func (r *Runner) run(ctx context.Context, run *store.Run, p *config.Pipeline, progress ml.Progress) (_ *store.RunFinishParams, outcome string, err error) {
	c, err := schema.Compile(p.Schema)
	if err != nil {
		return nil, "", permanent(err)
	}
	snap, err := r.store.SnapshotRead(ctx, &store.SnapshotReadParams{Pipeline: p.Name, Schema: c})
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", permanent(fmt.Errorf("pipeline %s has no data yet: ingest rows first", p.Name))
	}
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot of %s from the database: %w", p.Name, err)
	}
	out := &store.RunFinishParams{State: store.RunSucceeded, DataWatermark: snap.Watermark, DataRows: int64(len(snap.Rows))}
	if len(snap.Rows) < p.Train.MinRows {
		return nil, "", permanent(fmt.Errorf("pipeline %s has %d rows; min_rows is %d", p.Name, len(snap.Rows), p.Train.MinRows))
	}
	if run.Reason != store.ReasonManual {
		versions, err := r.store.VersionList(ctx, p.Name)
		if err != nil {
			return nil, "", fmt.Errorf("list versions of %s: %w", p.Name, err)
		}
		// A version this run's earlier attempt registered is not "the last
		// training": it was never gated, and this attempt finishes it.
		if len(versions) > 0 && versions[0].DataWatermark == snap.Watermark && versions[0].RunID != run.ID {
			out.Message = fmt.Sprintf("no new rows since v%d (watermark %d); nothing to train", versions[0].Version, snap.Watermark)
			return out, metrics.RunSkipped, nil
		}
	}
	warnings, err := r.checkRun(ctx, run, p, c, snap.Rows)
	if err != nil {
		return nil, "", err
	}
	out.Checks = run.Checks
	defer func() {
		if err == nil && warnings != "" {
			out.Message += warnings
		}
	}()
	cfgHash, err := ConfigHash(p)
	if err != nil {
		return nil, "", permanent(err)
	}
	fit, err := Fit(ctx, &FitParams{
		Pipeline: p.Name, Schema: c, Rows: snap.Rows,
		Algorithm: p.Model.Algorithm, Params: ml.Params(p.Model.Params), Seed: p.Model.Seed, Holdout: p.Model.Holdout,
		MinCategoryRows: p.Model.MinCategory(),
		Lineage: artifact.Lineage{
			ConfigSHA256: cfgHash, DataWatermark: snap.Watermark, DataRows: int64(len(snap.Rows)), DataSHA256: snap.SHA256,
		},
		Progress: progress,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", err
		}
		return nil, "", permanent(err)
	}
	if same, err := r.sameArtifact(ctx, p.Name, run.ID, fit.SHA256); err != nil {
		return nil, "", err
	} else if same != nil {
		out.SameAs = same.Version
		out.Message = fmt.Sprintf("same as v%d (%s): the same data, configuration and seed gave the same artifact; no new version", same.Version, same.State)
		return out, metrics.RunSkipped, nil
	}
	key, err := r.registry.Publish(ctx, p.Name, fit.Bytes, fit.SHA256)
	if err != nil {
		return nil, "", &partError{part: "object store", err: err}
	}
	v, err := r.store.VersionCreate(ctx, &store.VersionCreateParams{
		Pipeline: p.Name, Algorithm: fit.Artifact.Algorithm, Metrics: fit.Metrics,
		ArtifactSHA256: fit.SHA256, ArtifactKey: key,
		DataWatermark: snap.Watermark, DataRows: int64(len(snap.Rows)), DataSHA256: snap.SHA256,
		RunID: run.ID, SpecVersion: run.SpecVersion, Checks: run.Checks,
	})
	if err != nil {
		return nil, "", fmt.Errorf("register version of %s: %w", p.Name, err)
	}
	out.Version, out.ArtifactSHA256 = v.Version, v.ArtifactSHA256
	if v.State == store.StateCandidate && v.ArtifactSHA256 != fit.SHA256 {
		// An earlier attempt of this run registered another artifact (from
		// other rows) and died before its gate. That attempt's model is
		// never promoted: reject it, and leave the watermark where it was
		// so the new-rows trigger trains the newer rows.
		if _, err := r.store.VersionReject(ctx, &store.VersionRejectParams{
			Pipeline: p.Name, Version: v.Version,
			Reason: fmt.Sprintf("registered by an earlier attempt of run %d that did not finish", run.ID),
		}); err != nil {
			return nil, "", fmt.Errorf("reject v%d of an earlier attempt: %w", v.Version, err)
		}
		out.DataWatermark, out.DataRows = v.DataWatermark, v.DataRows
		out.Message = fmt.Sprintf("v%d, registered by an earlier attempt that did not finish, rejected; rows since watermark %d train in the next run", v.Version, v.DataWatermark)
		return out, metrics.RunSucceeded, nil
	}
	if v.State != store.StateCandidate {
		out.Message = fmt.Sprintf("v%d was registered by an earlier attempt (%s)", v.Version, v.State)
		return out, metrics.RunSucceeded, nil
	}
	dec, err := r.registry.Gate(ctx, &registry.GateParams{
		Candidate: v,
		Compare: func(m *artifact.Model) (*metric.Paired, error) {
			return Compare(fit.Model, m, fit.HoldoutRows, p.Promote.Metric, p.Model.Seed)
		},
		Confidence:         p.Promote.ConfidenceOr(),
		SameSchema:         func(m *artifact.Model) bool { return reflect.DeepEqual(m.Artifact.Schema, p.Schema) },
		Metric:             p.Promote.Metric,
		Min:                p.Promote.Min,
		MustBeatProduction: p.Promote.MustBeat(),
	})
	if err != nil {
		return nil, "", err
	}
	if dec.Promoted {
		out.Message = fmt.Sprintf("v%d promoted: %s", v.Version, dec.Reason)
		return out, metrics.RunPromoted, nil
	}
	out.Message = fmt.Sprintf("v%d rejected: %s", v.Version, dec.Reason)
	return out, metrics.RunRejected, nil
}

// sameArtifact returns the version of pipeline whose artifact has hash
// sha, unless the run itself registered it (an earlier attempt that died
// before its gate: this attempt finishes it); nil when there is none.
// Artifacts are deterministic, so a run on unchanged data, configuration
// and seed reproduces its predecessor's bytes and adds nothing.
func (r *Runner) sameArtifact(ctx context.Context, pipeline string, runID int64, sha string) (*store.Version, error) {
	versions, err := r.store.VersionList(ctx, pipeline)
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", pipeline, err)
	}
	for _, v := range versions {
		if v.ArtifactSHA256 == sha && v.RunID != runID {
			return v, nil
		}
	}
	return nil, nil
}

// ConfigHash hashes what of a pipeline's configuration shapes its models:
// the schema and the model section.
func ConfigHash(p *config.Pipeline) (string, error) {
	data, err := json.Marshal(struct {
		Schema schema.Schema `json:"schema"`
		Model  any           `json:"model"`
	}{p.Schema, p.Model})
	if err != nil {
		return "", fmt.Errorf("hash pipeline config: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
