package features_test

import (
	"context"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/mlserve/mlserve/internal/features"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/ml/algorithms"
	"github.com/mlserve/mlserve/internal/schema"
)

// coerceRows types raw rows (column name -> text) by the schema.
func coerceRows(t *testing.T, c *schema.Compiled, raws []map[string]string) []schema.Row {
	t.Helper()
	rows := make([]schema.Row, len(raws))
	for i, r := range raws {
		m := make(map[string]schema.Raw, len(r))
		for k, v := range r {
			m[k] = schema.Raw{Text: v}
		}
		row, fe := c.RowFromMap(m)
		if fe != nil {
			t.Fatalf("row %d %v: %v", i, r, fe)
		}
		rows[i] = row
	}
	return rows
}

// TestTimestampFeatures checks the five features of a timestamp: hour,
// weekday, month, day of year (UTC) and Unix seconds; a missing one is NaN
// for trees and the median timestamp plus an indicator for linear models.
func TestTimestampFeatures(t *testing.T) {
	t.Parallel()
	c, err := schema.Compile(schema.Schema{Target: "y", Columns: []schema.Column{
		{Name: "y", Type: schema.Number},
		{Name: "at", Type: schema.Timestamp, Nullable: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rows := coerceRows(t, c, []map[string]string{
		{"y": "1", "at": "2024-03-01T13:45:00+02:00"}, // Friday 11:45 UTC, day 61
		{"y": "2", "at": "2023-12-31"},                // Sunday, day 365
		{"y": "3", "at": "2024-03-02T00:00:00Z"},
		{"y": "4", "at": ""},
	})
	native, err := features.Fit(c, rows, ml.Native)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range native.Features() {
		names = append(names, f.Name)
	}
	if want := []string{"at:hour", "at:weekday", "at:month", "at:day_of_year", "at:unix"}; !slices.Equal(names, want) {
		t.Fatalf("features %q, want %q", names, want)
	}
	x := make([]float64, native.Width())
	for i, want := range [][]float64{
		{11, 5, 3, 61, 1709293500},
		{0, 0, 12, 365, 1703980800},
	} {
		native.Encode(rows[i], x)
		if !slices.Equal(x, want) {
			t.Errorf("row %d: %v, want %v", i, x, want)
		}
	}
	native.Encode(rows[3], x)
	for j, v := range x {
		if !math.IsNaN(v) {
			t.Errorf("missing timestamp, feature %d: %v, want NaN", j, v)
		}
	}

	onehot, err := features.Fit(c, rows, ml.OneHot)
	if err != nil {
		t.Fatal(err)
	}
	if got := onehot.Width(); got != 6 {
		t.Fatalf("one-hot width %d, want 5 features and a missing indicator", got)
	}
	// The missing row encodes as the median timestamp (row 0's) with the
	// indicator set: before scaling, its first five values equal row 0's.
	a, b := make([]float64, 6), make([]float64, 6)
	onehot.Encode(rows[0], a)
	onehot.Encode(rows[3], b)
	if !slices.Equal(a[:5], b[:5]) || a[5] == b[5] {
		t.Errorf("missing timestamp %v, want row 0's features %v with the indicator set", b, a[:5])
	}
}

// TestOtherSlot checks that a category with unknown: other gives "other"
// a slot learned at training: rare levels and labels outside the values
// train it, and a label never seen gets its prediction, the same every
// time, with trees and linear models.
func TestOtherSlot(t *testing.T) {
	t.Parallel()
	c, err := schema.Compile(schema.Schema{Target: "y", Columns: []schema.Column{
		{Name: "y", Type: schema.Number},
		{Name: "color", Type: schema.Category, Values: []string{"red", "blue", "green", "rare"}, Unknown: schema.UnknownOther},
		{Name: "x", Type: schema.Number},
	}})
	if err != nil {
		t.Fatal(err)
	}
	level := map[string]float64{"red": 1, "blue": 2, "green": 3, "purple": 10, "rare": 10}
	var raws []map[string]string
	for i := range 120 {
		color := []string{"red", "blue", "green", "purple"}[i%4]
		raws = append(raws, map[string]string{"y": strconv.FormatFloat(level[color], 'g', -1, 64), "color": color, "x": strconv.Itoa(i % 7)})
	}
	for i := range features.OtherMinRows - 1 { // too rare for a slot of its own
		raws = append(raws, map[string]string{"y": "10", "color": "rare", "x": strconv.Itoa(i)})
	}
	rows := coerceRows(t, c, raws)
	probe := coerceRows(t, c, []map[string]string{
		{"y": "0", "color": "red", "x": "3"}, {"y": "0", "color": "never-seen", "x": "3"}, {"y": "0", "color": "rare", "x": "3"}, {"y": "0", "color": "purple", "x": "3"},
	})

	for _, alg := range []string{"gbdt", "linear"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			a, err := algorithms.Lookup(alg)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := features.Fit(c, rows, a.Input())
			if err != nil {
				t.Fatal(err)
			}
			if a.Input() == ml.Native {
				if f := enc.Features()[0]; !f.Categorical || f.Levels != 4 {
					t.Errorf("color feature %+v, want 3 kept levels and other (4)", f)
				}
			}
			d, skipped := enc.Dataset(rows)
			if skipped != 0 {
				t.Fatalf("%d rows skipped", skipped)
			}
			tr, _, err := a.NewTrainer(ml.Regression, nil, 42)
			if err != nil {
				t.Fatal(err)
			}
			m, err := tr.Fit(context.Background(), d, nil)
			if err != nil {
				t.Fatal(err)
			}
			predict := func(r schema.Row) float64 {
				x := make([]float64, enc.Width())
				out := make([]float64, m.Outputs())
				enc.Encode(r, x)
				m.Predict(x, out)
				return out[0]
			}
			red, unseen, rare, purple := predict(probe[0]), predict(probe[1]), predict(probe[2]), predict(probe[3])
			if math.Abs(unseen-10) > 1.5 || math.Abs(red-1) > 1.5 {
				t.Errorf("predictions: red %v (want about 1), never-seen %v (want about 10, the other rows' value)", red, unseen)
			}
			if unseen != rare || unseen != purple || unseen != predict(probe[1]) {
				t.Errorf("never-seen %v, rare %v, purple %v: want one other slot, deterministic", unseen, rare, purple)
			}
		})
	}
}
