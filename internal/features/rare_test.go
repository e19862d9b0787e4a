package features_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/mlserve/mlserve/internal/features"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/schema"
)

// TestMinCategoryRows: with the rule at 3 rows, a level seen twice and a
// missing value seen once encode as the most frequent level, in both
// encodings and after the artifact's JSON round trip; a level seen 3 times
// keeps its own code.
func TestMinCategoryRows(t *testing.T) {
	t.Parallel()
	s := schema.Schema{Target: "y", Columns: []schema.Column{
		{Name: "port", Type: schema.Category, Nullable: true},
		{Name: "y", Type: schema.Boolean},
	}}
	c, err := schema.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	port := func(p string) schema.Row {
		if p == "" {
			return schema.Row{{Missing: true}, {Num: 0}}
		}
		return schema.Row{{Str: p, Num: -1}, {Num: 1}}
	}
	var rows []schema.Row
	for _, p := range []string{"S", "S", "S", "S", "C", "C", "C", "Q", "Q", ""} {
		rows = append(rows, port(p))
	}
	for _, kind := range []ml.Input{ml.OneHot, ml.Native} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			enc, err := features.FitWith(c, rows, kind, features.Options{MinCategoryRows: 3})
			if err != nil {
				t.Fatal(err)
			}
			col := enc.Columns[0]
			if col.Levels[col.Common] != "S" || !slices.Equal(col.Rare, []string{"Q"}) || !col.MissingAsCommon {
				t.Fatalf("column %+v, want common S, rare [Q], missing as common", *col)
			}
			data, err := json.Marshal(enc)
			if err != nil {
				t.Fatal(err)
			}
			back := &features.Encoder{}
			if err := json.Unmarshal(data, back); err != nil {
				t.Fatal(err)
			}
			if err := back.Validate(s); err != nil {
				t.Fatal(err)
			}
			for _, e := range []*features.Encoder{enc, back} {
				vec := func(p string) []float64 {
					x := make([]float64, e.Width())
					e.Encode(port(p), x)
					return x
				}
				if !slices.Equal(vec("Q"), vec("S")) || !slices.Equal(vec(""), vec("S")) || slices.Equal(vec("C"), vec("S")) {
					t.Errorf("encodings S %v, Q %v, missing %v, C %v; want Q and missing as S, C its own", vec("S"), vec("Q"), vec(""), vec("C"))
				}
			}
			plain, err := features.Fit(c, rows, kind)
			if err != nil {
				t.Fatal(err)
			}
			if p := plain.Columns[0]; len(p.Rare) != 0 || p.MissingAsCommon {
				t.Fatalf("rule off: column %+v folds levels", *p)
			}
		})
	}
}
