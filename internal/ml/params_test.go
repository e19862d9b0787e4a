package ml_test

import (
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

func TestCheckSuggestsAKnownParam(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		params ml.Params
		want   string
	}{
		{ml.Params{"n_tree": 50}, "param n_tree: unknown (n_tree: did you mean n_trees?); known params are learning_rate, n_trees"},
		{ml.Params{"zz": 1}, "param zz: unknown; known params are learning_rate, n_trees"},
		{ml.Params{"n_tree": 1, "lerning_rate": 0.1}, "param lerning_rate, n_tree: unknown (lerning_rate: did you mean learning_rate?; n_tree: did you mean n_trees?); known params are learning_rate, n_trees"},
	} {
		r := ml.NewReader(tc.params)
		r.Int("n_trees", 100, 1, 1000)
		r.Float("learning_rate", 0.1, 0, 1)
		if err := r.Check(); err == nil || err.Error() != tc.want {
			t.Errorf("Check of %v = %v; want %q", tc.params, err, tc.want)
		}
	}
}
