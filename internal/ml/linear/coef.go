package linear

import "slices"

// Coefficients returns the fitted weights, one row per block (one block
// for binary classification, class 1 against class 0, and for
// regression; one per class for multinomial), each over the model's
// features in order, and the intercept of each block. They are copies.
func (m *Model) Coefficients() (weights [][]float64, intercepts []float64) {
	for k := range m.intercepts {
		weights = append(weights, slices.Clone(m.weights[k*m.p:(k+1)*m.p]))
	}
	return weights, slices.Clone(m.intercepts)
}
