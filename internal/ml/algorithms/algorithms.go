// Package algorithms lists the training algorithms mlserve ships, by the
// name a pipeline file uses.
package algorithms

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/ml/gbdt"
	"github.com/mlserve/mlserve/internal/ml/linear"
)

var all = map[string]ml.Algorithm{
	linear.Logistic.Name(): linear.Logistic,
	linear.Linear.Name():   linear.Linear,
	gbdt.Algorithm.Name():  gbdt.Algorithm,
}

// Lookup returns the named algorithm.
func Lookup(name string) (ml.Algorithm, error) {
	a, ok := all[name]
	if !ok {
		return nil, fmt.Errorf("%w %q; known: %s", ml.ErrUnknownAlgorithm, name, strings.Join(Names(), ", "))
	}
	return a, nil
}

// Names lists the algorithm names, sorted.
func Names() []string {
	out := make([]string, 0, len(all))
	for n := range all {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
