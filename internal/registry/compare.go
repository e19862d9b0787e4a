package registry

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/mlserve/mlserve/internal/ml/metric"
	"github.com/mlserve/mlserve/internal/store"
)

// Gate bases (store.Gate.Basis).
const (
	BasisSameHoldout = "same holdout"
	BasisRecorded    = "recorded"
	// BasisNone: production has no recorded value of the metric to compare
	// with (its schema differs too), so it cannot hold the bar.
	BasisNone = "none"
)

// compareProduction compares the candidate with production through
// p.Compare and decides: on the same holdout with a paired bootstrap when
// the schema allows, else against production's recorded metric (a plain
// comparison, no bootstrap).
func (r *Registry) compareProduction(ctx context.Context, prod *store.Version, score float64, p *GateParams) (*store.Gate, error) {
	m, err := r.Load(ctx, prod)
	if err != nil {
		return nil, fmt.Errorf("load production v%d for comparison: %w", prod.Version, err)
	}
	g := &store.Gate{Metric: p.Metric, Candidate: score, ProductionVersion: prod.Version, Confidence: p.Confidence}
	if p.SameSchema == nil || p.SameSchema(m) {
		pr, err := p.Compare(m)
		if err != nil {
			return nil, fmt.Errorf("compare with production v%d on the holdout: %w", prod.Version, err)
		}
		g.Basis, g.Candidate, g.Production, g.Rows = BasisSameHoldout, pr.A, pr.B, pr.Rows
		g.Resamples, g.DiffMean, g.DiffP05, g.DiffP95, g.WinShare = pr.Resamples, pr.DiffMean, pr.DiffP05, pr.DiffP95, pr.WinShare
		g.Promoted = beats(p.Metric, g.Candidate, g.Production) && (p.Confidence <= 0 || (g.Resamples > 0 && g.WinShare >= p.Confidence))
		return g, nil
	}
	s, ok := prod.Metrics[p.Metric]
	if !ok || math.IsNaN(s) || math.IsInf(s, 0) {
		g.Basis, g.Promoted = BasisNone, true
		return g, nil
	}
	g.Basis, g.Production = BasisRecorded, s
	g.Promoted = beats(p.Metric, score, s)
	return g, nil
}

// beats reports whether score is strictly better than other on metric.
func beats(name string, score, other float64) bool {
	if metric.HigherIsBetter(name) {
		return score > other
	}
	return score < other
}

// gateReason words a gate record for the version's reason and the run's
// message, with enough digits to tell the scores apart.
func gateReason(g *store.Gate) string {
	var b strings.Builder
	d := digits(g.Candidate, g.Production)
	verb := "does not beat"
	switch {
	case g.Promoted:
		verb = "beats"
	case beats(g.Metric, g.Candidate, g.Production):
		verb = "is not clearly better than"
	}
	if g.Basis == BasisNone {
		fmt.Fprintf(&b, "%s %.*f beats production v%d, which has no recorded %s (schema changed)", g.Metric, d, g.Candidate, g.ProductionVersion, g.Metric)
		return b.String()
	}
	if g.Basis == BasisRecorded {
		fmt.Fprintf(&b, "%s %.*f %s production v%d's %.*f (production's recorded holdout, schema changed; no bootstrap)",
			g.Metric, d, g.Candidate, verb, g.ProductionVersion, d, g.Production)
		return b.String()
	}
	fmt.Fprintf(&b, "%s %.*f %s production v%d's %.*f on the same holdout (%d rows)", g.Metric, d, g.Candidate, verb, g.ProductionVersion, d, g.Production, g.Rows)
	if g.Resamples == 0 {
		b.WriteString(" (no bootstrap resample had a value)")
		return b.String()
	}
	dd := digits(g.DiffP05, g.DiffP95)
	fmt.Fprintf(&b, ": difference %+.*f (5–95 %%: %+.*f to %+.*f), candidate better in %.1f %% of %d resamples",
		dd, g.DiffMean, dd, g.DiffP05, dd, g.DiffP95, 100*g.WinShare, g.Resamples)
	switch {
	case g.Confidence <= 0:
		b.WriteString("; promote.confidence 0: plain comparison")
	case g.Promoted:
		fmt.Fprintf(&b, ", at least promote.confidence %g %%", 100*g.Confidence)
	case beats(g.Metric, g.Candidate, g.Production):
		fmt.Fprintf(&b, ", less than promote.confidence %g %%: within the holdout's noise", 100*g.Confidence)
	default:
		fmt.Fprintf(&b, " (promote.confidence %g %%)", 100*g.Confidence)
	}
	return b.String()
}

// digits is the number of decimals that tell a and b apart: 4, or up to
// 10 when they agree to 4 decimals but differ.
func digits(a, b float64) int {
	for d := 4; d < 10; d++ {
		if fmt.Sprintf("%.*f", d, a) != fmt.Sprintf("%.*f", d, b) {
			return d
		}
	}
	if a == b {
		return 4
	}
	return 10
}
