// Package train turns rows into a model: the deterministic holdout split,
// encoder and algorithm fitting, holdout metrics, the artifact, and (in
// Runner) a whole training run from snapshot to registered, gated version.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/features"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/ml/algorithms"
	"github.com/mlserve/mlserve/internal/ml/metric"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/version"
)

// FitParams are the inputs of Fit.
type FitParams struct {
	Pipeline  string
	Schema    *schema.Compiled
	Rows      []schema.Row
	Algorithm string
	Params    ml.Params
	Seed      int64
	// Holdout is the fraction of rows kept for evaluation.
	Holdout float64
	// HoldoutTail takes the holdout from the end of Rows instead of a
	// seeded random choice.
	HoldoutTail bool
	// MinCategoryRows is model.min_category_rows (features.Options); 0
	// turns the rule off.
	MinCategoryRows int
	// Lineage is copied into the artifact (data hash, watermark, config hash).
	Lineage  artifact.Lineage
	Progress ml.Progress
}

// FitResult is a fitted, evaluated model and its artifact.
type FitResult struct {
	Artifact    *artifact.Artifact
	Bytes       []byte
	SHA256      string
	Model       *artifact.Model
	Metrics     map[string]float64
	Params      ml.Params // resolved
	TrainRows   int
	HoldoutRows []schema.Row
	FitSeconds  float64
}

// ErrNotEnoughRows is returned when a split leaves no rows to train or
// evaluate on.
var ErrNotEnoughRows = errors.New("not enough rows")

// Fit splits rows, fits the encoder and the algorithm on the training part,
// evaluates on the holdout and builds the artifact. Same inputs ⇒ the same
// artifact bytes.
func Fit(ctx context.Context, p *FitParams) (*FitResult, error) {
	alg, err := algorithms.Lookup(p.Algorithm)
	if err != nil {
		return nil, err
	}
	trainRows, holdRows := Split(p.Rows, p.Holdout, p.Seed, p.HoldoutTail)
	if len(trainRows) < 2 || len(holdRows) < 1 {
		return nil, fmt.Errorf("%w: %d rows give %d to train and %d to evaluate on (holdout %.2f)", ErrNotEnoughRows, len(p.Rows), len(trainRows), len(holdRows), p.Holdout)
	}
	enc, err := features.FitWith(p.Schema, trainRows, alg.Input(), features.Options{MinCategoryRows: p.MinCategoryRows})
	if err != nil {
		return nil, err
	}
	if !alg.Supports(enc.Task()) {
		return nil, fmt.Errorf("algorithm %s cannot do %s (target %q)", alg.Name(), enc.Task(), enc.Target.Name)
	}
	trainer, resolved, err := alg.NewTrainer(enc.Task(), p.Params, p.Seed)
	if err != nil {
		return nil, fmt.Errorf("model params: %w", err)
	}
	ds, skipped := enc.Dataset(trainRows)
	if skipped > 0 {
		return nil, fmt.Errorf("%d training rows have a target class the encoder does not know", skipped)
	}
	if err := ds.Validate(); err != nil {
		return nil, fmt.Errorf("training data: %w", err)
	}
	if ds.Task != ml.Regression {
		if n := distinctClasses(ds.Y); n < 2 {
			return nil, fmt.Errorf("training rows hold only %d class of %q; need at least 2", n, enc.Target.Name)
		}
	}
	start := time.Now()
	mdl, err := trainer.Fit(ctx, ds, p.Progress)
	if err != nil {
		return nil, fmt.Errorf("fit %s: %w", alg.Name(), err)
	}
	fitSeconds := time.Since(start).Seconds()

	modelJSON, err := mdl.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	stats, err := json.Marshal(schema.ComputeStats(p.Schema, trainRows))
	if err != nil {
		return nil, fmt.Errorf("encode training stats: %w", err)
	}
	lin := p.Lineage
	lin.Seed = p.Seed
	lin.TrainRows = len(trainRows)
	lin.HoldoutRows = len(holdRows)
	lin.Mlserve = version.Version
	lin.Holdout = fmt.Sprintf("random %g", p.Holdout)
	if p.HoldoutTail {
		lin.Holdout = fmt.Sprintf("tail %g", p.Holdout)
	}
	a := &artifact.Artifact{
		Format:    artifact.Format,
		Pipeline:  p.Pipeline,
		Schema:    p.Schema.Schema(),
		Encoder:   enc,
		Algorithm: alg.Name(),
		Params:    resolved,
		Model:     modelJSON,
		Stats:     stats,
		Lineage:   lin,
	}
	// Evaluate through the artifact's own predictor, the path serving uses.
	m, err := artifact.FromArtifact(a, "")
	if err != nil {
		return nil, err
	}
	metrics, err := Evaluate(m, holdRows)
	if err != nil {
		return nil, err
	}
	a.Metrics = metrics
	// A model that cannot explain simply has no importance.
	a.Importance, _ = m.ExplanationImportance(holdRows[:min(len(holdRows), artifact.ImportanceRows)])
	data, sha, err := artifact.Encode(a)
	if err != nil {
		return nil, err
	}
	m.SHA256 = sha
	return &FitResult{
		Artifact: a, Bytes: data, SHA256: sha, Model: m, Metrics: metrics, Params: resolved,
		TrainRows: len(trainRows), HoldoutRows: holdRows, FitSeconds: fitSeconds,
	}, nil
}

func distinctClasses(y []float64) int {
	seen := map[float64]bool{}
	for _, v := range y {
		seen[v] = true
	}
	return len(seen)
}

// Evaluate computes a model's metrics on typed rows with known targets.
// Rows whose target class the model does not know are skipped.
func Evaluate(m *artifact.Model, rows []schema.Row) (map[string]float64, error) {
	enc := m.Artifact.Encoder
	kept := make([]schema.Row, 0, len(rows))
	for _, r := range rows {
		if _, ok := enc.TargetOf(r); ok {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("evaluate: %w: no holdout row has a known target", ErrNotEnoughRows)
	}
	side := predict(m, kept)
	metrics, err := metric.Evaluate(string(enc.Task()), side.Classes, side.Y, side.Pred)
	if err != nil {
		return nil, err
	}
	for k, v := range metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(metrics, k) // e.g. roc_auc when the holdout holds one class
		}
	}
	return metrics, nil
}

// predict returns a model's targets and predictions on rows whose target
// it knows.
func predict(m *artifact.Model, rows []schema.Row) metric.Side {
	enc := m.Artifact.Encoder
	y := make([]float64, len(rows))
	for i, r := range rows {
		y[i], _ = enc.TargetOf(r)
	}
	k, w := m.Outputs(), m.Width()
	out, x := make([]float64, len(rows)*k), make([]float64, len(rows)*w)
	artifact.Chunks(len(rows), artifact.ChunkRows, func(lo, hi int) {
		m.PredictRows(rows[lo:hi], x[lo*w:hi*w], out[lo*k:hi*k])
	})
	return metric.Side{Y: y, Pred: out, Classes: enc.Classes()}
}

// Compare scores a candidate and a production model on the same holdout
// rows (those whose target both know) and compares them on the named
// metric with a paired bootstrap of metric.ResamplesFor(rows) resamples,
// seeded by seed. Both models must share the schema of rows.
func Compare(cand, prod *artifact.Model, rows []schema.Row, name string, seed int64) (*metric.Paired, error) {
	ce, pe := cand.Artifact.Encoder, prod.Artifact.Encoder
	if ce.Task() != pe.Task() {
		return nil, fmt.Errorf("compare: candidate does %s, production %s", ce.Task(), pe.Task())
	}
	kept := make([]schema.Row, 0, len(rows))
	for _, r := range rows {
		_, okc := ce.TargetOf(r)
		_, okp := pe.TargetOf(r)
		if okc && okp {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("compare: %w: no holdout row has a target both models know", ErrNotEnoughRows)
	}
	return metric.PairedBootstrap(&metric.PairedParams{
		Task: string(ce.Task()), Metric: name, A: predict(cand, kept), B: predict(prod, kept),
		Resamples: metric.ResamplesFor(len(kept)), Seed: uint64(seed),
	})
}

// Split divides rows into training and holdout parts. With tail, the last
// fraction of rows is the holdout. Otherwise row i is held out when a hash of
// (seed, i) falls below the fraction: since rows are append-only and read in
// a fixed order, a row keeps its side as data grows, so a newer model and
// the production model are compared on rows neither trained on.
func Split(rows []schema.Row, fraction float64, seed int64, tail bool) (trainRows, holdRows []schema.Row) {
	if fraction <= 0 {
		return rows, nil
	}
	if tail {
		cut := len(rows) - int(math.Round(float64(len(rows))*fraction))
		return rows[:cut], rows[cut:]
	}
	trainRows = make([]schema.Row, 0, len(rows))
	for i, r := range rows {
		if unitHash(uint64(seed), uint64(i)) < fraction {
			holdRows = append(holdRows, r)
		} else {
			trainRows = append(trainRows, r)
		}
	}
	return trainRows, holdRows
}

// unitHash maps (seed, i) to [0, 1) with splitmix64.
func unitHash(seed, i uint64) float64 {
	z := seed*0x9E3779B97F4A7C15 + i + 0x632BE59BD9B4E019
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}
