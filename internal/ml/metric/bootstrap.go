package metric

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Side is one model's targets and predictions on the rows a paired
// comparison shares, in Evaluate's layout. Each model keeps its own class
// indexes (two classifiers may order their classes differently); row i of
// both sides must be the same row.
type Side struct {
	Y, Pred []float64
	Classes int
}

// PairedParams are the inputs of PairedBootstrap.
type PairedParams struct {
	Task   string
	Metric string
	// A is the challenger, B the model it is compared with.
	A, B Side
	// Resamples is the number of bootstrap resamples (0: none, only the
	// point estimates).
	Resamples int
	Seed      uint64
}

// Paired is the outcome of a paired bootstrap. Differences are signed so
// that a positive value means A is better: A - B, or B - A for a metric
// where lower is better.
type Paired struct {
	// A and B are the metric of each model on all the shared rows.
	A, B float64
	Rows int
	// Resamples counts the resamples that gave both models a value (a
	// resample holding one class has no roc_auc).
	Resamples int
	// DiffMean is the mean difference over the resamples, DiffP05 and
	// DiffP95 its 5 % and 95 % quantiles (linear interpolation, as numpy's
	// percentile).
	DiffMean, DiffP05, DiffP95 float64
	// WinShare is the share of resamples in which A was strictly better.
	WinShare float64
}

// PairedBootstrap compares two models' metric on the same rows: the
// difference on all rows, and over Resamples resamples of the rows drawn
// with replacement (each resample scores both models on the same drawn
// rows, so the noise of the rows themselves cancels). It is deterministic
// for a Seed.
func PairedBootstrap(p *PairedParams) (*Paired, error) {
	n := len(p.A.Y)
	if n == 0 || len(p.B.Y) != n {
		return nil, fmt.Errorf("paired bootstrap: have %d and %d rows, want the same non-zero number", n, len(p.B.Y))
	}
	if len(p.A.Pred) != n*width(p.Task, p.A.Classes) || len(p.B.Pred) != n*width(p.Task, p.B.Classes) {
		return nil, fmt.Errorf("paired bootstrap: have %d and %d predictions for %d rows", len(p.A.Pred), len(p.B.Pred), n)
	}
	a, err := score(p.Task, p.Metric, p.A.Classes, p.A.Y, p.A.Pred)
	if err != nil {
		return nil, fmt.Errorf("paired bootstrap: challenger: %w", err)
	}
	b, err := score(p.Task, p.Metric, p.B.Classes, p.B.Y, p.B.Pred)
	if err != nil {
		return nil, fmt.Errorf("paired bootstrap: production: %w", err)
	}
	out := &Paired{A: a, B: b, Rows: n}
	sign := 1.0
	if !HigherIsBetter(p.Metric) {
		sign = -1
	}
	wa, err := newWeighted(p.Task, p.Metric, p.A)
	if err != nil {
		return nil, fmt.Errorf("paired bootstrap: challenger: %w", err)
	}
	wb, err := newWeighted(p.Task, p.Metric, p.B)
	if err != nil {
		return nil, fmt.Errorf("paired bootstrap: production: %w", err)
	}
	// A resample is a count per row (n draws with replacement): both
	// models are scored on the same counts.
	rng := rand.New(rand.NewPCG(p.Seed, 0x6d6c73657276650a))
	counts := make([]uint16, n)
	diffs := make([]float64, 0, p.Resamples)
	wins := 0
	for range p.Resamples {
		clear(counts)
		for range n {
			counts[rng.IntN(n)]++
		}
		sa, err := wa.score(counts)
		if errors.Is(err, ErrUndefined) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("paired bootstrap: %w", err)
		}
		sb, err := wb.score(counts)
		if errors.Is(err, ErrUndefined) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("paired bootstrap: %w", err)
		}
		d := sign * (sa - sb)
		if d > 0 {
			wins++
		}
		diffs = append(diffs, d)
	}
	if len(diffs) == 0 {
		return out, nil
	}
	out.Resamples = len(diffs)
	var sum float64
	for _, d := range diffs {
		sum += d
	}
	out.DiffMean = sum / float64(len(diffs))
	slices.Sort(diffs)
	out.DiffP05, out.DiffP95 = quantile(diffs, 0.05), quantile(diffs, 0.95)
	out.WinShare = float64(wins) / float64(len(diffs))
	return out, nil
}

// ResamplesFor is the number of resamples PairedBootstrap is given for a
// holdout of n rows: 1000, fewer above 20 000 rows (about 2·10⁷ row
// weights in all, at least 200), where the noise is small anyway.
func ResamplesFor(n int) int {
	if n <= 0 {
		return 0
	}
	return max(200, min(1000, 20_000_000/n))
}

func width(task string, classes int) int {
	if task == TaskRegression {
		return 1
	}
	return classes
}

// score is the named metric of Evaluate; ErrUndefined when it has no value
// for these rows.
func score(task, name string, classes int, y, pred []float64) (float64, error) {
	m, err := Evaluate(task, classes, y, pred)
	if err != nil {
		return 0, err
	}
	v, ok := m[name]
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s: %w", name, ErrUndefined)
	}
	return v, nil
}

// quantile is numpy's linear-interpolation percentile of sorted values.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}
