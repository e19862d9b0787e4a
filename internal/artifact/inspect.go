package artifact

import "github.com/mlserve/mlserve/internal/ml"

// Coefficients is one block of a linear model's weights: the class it
// scores ("" for regression; the positive class for binary
// classification) with its intercept and a weight per encoded feature.
// Features are standardised ((x - mean) / scale over the training rows)
// before the weights apply, so their sizes compare across features;
// a category's levels are one feature each ("sex=female").
type Coefficients struct {
	Class     string
	Intercept float64
	Weights   map[string]float64
}

// Importance returns each input column's share of a model's split gain
// (the per-feature importance summed over a column's encoded features),
// or nil when the algorithm does not report importances.
func (m *Model) Importance() map[string]float64 {
	im, ok := m.model.(interface{ Importance() []float64 })
	if !ok {
		return nil
	}
	vals := im.Importance()
	enc := m.Artifact.Encoder
	out := map[string]float64{}
	for i, c := range enc.Columns { // columns are in offset order
		end := enc.Width()
		if i+1 < len(enc.Columns) {
			end = enc.Columns[i+1].Offset
		}
		for j := c.Offset; j < end && j < len(vals); j++ {
			out[c.Name] += vals[j]
		}
	}
	return out
}

// Coefficients returns a linear model's weights by encoded feature name,
// one block per scored class, or nil for other algorithms.
func (m *Model) Coefficients() []Coefficients {
	lm, ok := m.model.(interface {
		Coefficients() ([][]float64, []float64)
	})
	if !ok {
		return nil
	}
	weights, intercepts := lm.Coefficients()
	names := m.Artifact.Encoder.Features()
	classes := m.Classes()
	out := make([]Coefficients, len(weights))
	for k, w := range weights {
		c := Coefficients{Intercept: intercepts[k], Weights: make(map[string]float64, len(w))}
		switch {
		case m.Task() == ml.Binary && len(classes) == 2:
			c.Class = classes[1]
		case m.Task() == ml.Multiclass && k < len(classes):
			c.Class = classes[k]
		}
		for j, x := range w {
			if j < len(names) {
				c.Weights[names[j].Name] = x
			}
		}
		out[k] = c
	}
	return out
}
