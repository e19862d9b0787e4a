package linear

import (
	"fmt"

	"github.com/mlserve/mlserve/internal/ml"
)

var _ ml.Explainer = (*Model)(nil)

// Scores is the number of raw scores of a row: 1 for binary (the log-odds
// of class 1) and regression, the number of classes for multinomial.
func (m *Model) Scores() int { return len(m.intercepts) }

// Explain writes row x's exact contributions: weight × (x − training
// mean) for every feature, and the base, intercept + weight · training
// mean. The features are standardised over the training rows (the OneHot
// encoding), so their training mean is 0: the base is the intercept and
// a contribution is weight × x.
func (m *Model) Explain(x []float64, base, contrib []float64) error {
	p, k := m.p, len(m.intercepts)
	if len(x) < p || len(base) < k || len(contrib) < k*p {
		return fmt.Errorf("explain: row has %d values, want %d", len(x), p)
	}
	copy(base, m.intercepts)
	for c := range k {
		w := m.weights[c*p : (c+1)*p]
		for j, v := range x[:p] {
			contrib[c*p+j] = w[j] * v
		}
	}
	return nil
}

// RawScores writes row x's raw scores (Scores() values): intercept plus
// weights · x for each block, as Predict computes them.
func (m *Model) RawScores(x []float64, raw []float64) {
	p := m.p
	for c, b := range m.intercepts {
		raw[c] = b + dot(m.weights[c*p:(c+1)*p], x[:p])
	}
}
