package didyoumean_test

import (
	"testing"

	"github.com/mlserve/mlserve/internal/didyoumean"
)

func TestClosest(t *testing.T) {
	t.Parallel()
	wine := []string{"alcohol", "malic_acid", "od280/od315_of_diluted_wines"}
	for _, tc := range []struct {
		s    string
		cand []string
		want string
	}{
		{"alcohl", wine, "alcohol"},
		{"Malic-Acid", wine, "malic_acid"},
		{"n_tree", []string{"n_trees", "max_depth"}, "n_trees"},
		{"auc", []string{"roc_auc", "accuracy"}, "roc_auc"},
		{"colour", wine, ""},
		{"x", nil, ""},
	} {
		if got := didyoumean.Closest(tc.s, tc.cand); got != tc.want {
			t.Errorf("Closest(%q) = %q; want %q", tc.s, got, tc.want)
		}
	}
	if got := didyoumean.Suffix("alcohl", wine); got != "; did you mean alcohol?" {
		t.Errorf("Suffix = %q", got)
	}
	if got := didyoumean.Distance("ab", "ba"); got != 1 {
		t.Errorf("Distance(ab, ba) = %d; want 1 (a transposition)", got)
	}
}
