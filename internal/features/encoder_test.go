package features_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlserve/mlserve/internal/features"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/sampledata"
	"github.com/mlserve/mlserve/internal/schema"
)

func ptr(f float64) *float64 { return &f }

// The schemas the parity golden files were made with
// (internal/ml/linear/testdata/parity/make_golden.py).
var parity = map[string]struct {
	file   string
	schema schema.Schema
}{
	"seed_titanic": {"seed_titanic.csv", schema.Schema{Target: "survived", Columns: []schema.Column{
		{Name: "survived", Type: schema.Category, Values: []string{"0", "1"}},
		{Name: "class", Type: schema.Category, Values: []string{"1", "2", "3"}},
		{Name: "sex", Type: schema.Category, Values: []string{"male", "female"}, Aliases: map[string]string{"M": "male", "F": "female"}},
		{Name: "age", Type: schema.Number, Min: ptr(0), Max: ptr(120), Nullable: true},
		{Name: "embarked", Type: schema.Category, Values: []string{"C", "S", "Q"}, Nullable: true},
	}}},
	"iris": {"iris.csv", schema.Schema{Target: "species", Columns: []schema.Column{
		{Name: "sepal_length", Type: schema.Number}, {Name: "sepal_width", Type: schema.Number},
		{Name: "petal_length", Type: schema.Number}, {Name: "petal_width", Type: schema.Number},
		{Name: "species", Type: schema.Category},
	}}},
	"tips": {"tips.csv", schema.Schema{Target: "tip", Columns: []schema.Column{
		{Name: "total_bill", Type: schema.Number}, {Name: "tip", Type: schema.Number},
		{Name: "sex", Type: schema.Category, Values: []string{"Female", "Male"}},
		{Name: "smoker", Type: schema.Category, Values: []string{"No", "Yes"}},
		{Name: "day", Type: schema.Category, Values: []string{"Fri", "Sat", "Sun", "Thur"}},
		{Name: "time", Type: schema.Category, Values: []string{"Dinner", "Lunch"}},
		{Name: "size", Type: schema.Integer},
	}}},
}

func readRows(t *testing.T, c *schema.Compiled, file string) []schema.Row {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(sampledata.Bytes(file))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Header(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	var rows []schema.Row
	for i, rec := range recs[1:] {
		row, fe := h.Row(rec, nil)
		if fe != nil {
			t.Fatalf("%s row %d: %v", file, i, fe)
		}
		rows = append(rows, row)
	}
	return rows
}

// TestOneHotMatchesGolden checks that the fitted one-hot encoding equals, to
// 1e-9, the design matrix the scikit-learn parity script built by the same
// rules (median impute + indicator, one-hot with missing and unseen levels,
// standardisation).
func TestOneHotMatchesGolden(t *testing.T) {
	t.Parallel()
	for name, tc := range parity {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var golden struct {
				FeatureNames []string    `json:"feature_names"`
				X            [][]float64 `json:"X"`
				Y            []float64   `json:"y"`
			}
			data, err := os.ReadFile(filepath.Join("../ml/linear/testdata/parity", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &golden); err != nil {
				t.Fatal(err)
			}
			c, err := schema.Compile(tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			rows := readRows(t, c, tc.file)
			enc, err := features.Fit(c, rows, ml.OneHot)
			if err != nil {
				t.Fatal(err)
			}
			if enc.Width() != len(golden.FeatureNames) {
				t.Fatalf("width = %d, golden has %d features %v", enc.Width(), len(golden.FeatureNames), golden.FeatureNames)
			}
			ds, skipped := enc.Dataset(rows)
			if skipped != 0 || ds.X.Rows != len(golden.X) {
				t.Fatalf("encoded %d rows (%d skipped), golden has %d", ds.X.Rows, skipped, len(golden.X))
			}
			worst := 0.0
			for i := range golden.X {
				for j, want := range golden.X[i] {
					worst = math.Max(worst, math.Abs(ds.X.At(i, j)-want))
				}
				if len(golden.Y) > 0 && ds.Task != ml.Regression && ds.Y[i] != golden.Y[i] {
					t.Fatalf("row %d: y = %v, golden %v", i, ds.Y[i], golden.Y[i])
				}
			}
			if worst > 1e-9 {
				t.Fatalf("max |X - golden| = %g, want <= 1e-9", worst)
			}
		})
	}
}

func titanic(t *testing.T) *schema.Compiled {
	c, err := schema.Compile(parity["seed_titanic"].schema)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEncodeMissingAndUnseen(t *testing.T) {
	t.Parallel()
	c := titanic(t)
	rows := readRows(t, c, "seed_titanic.csv")

	t.Run("OneHot", func(t *testing.T) {
		t.Parallel()
		enc, err := features.Fit(c, rows, ml.OneHot)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float64, enc.Width())
		// A missing embarked lights the missing level; a missing age gets
		// the median and the indicator.
		row := schema.Row{{}, {Num: 0, Str: "1"}, {Num: 1, Str: "female"}, {Missing: true}, {Missing: true}}
		enc.Encode(row, x)
		raw := func(j int) float64 { return x[j]*enc.Scale[j] + enc.Mean[j] }
		names := enc.Features()
		for j, f := range names {
			want := 0.0
			switch f.Name {
			case "class=1", "sex=female", "embarked=(missing)", "age=(missing)":
				want = 1
			case "age":
				want = enc.Columns[2].Median
			}
			if math.Abs(raw(j)-want) > 1e-9 {
				t.Errorf("%s = %v, want %v", f.Name, raw(j), want)
			}
		}
		if enc.Columns[2].Median != 28 {
			t.Errorf("age median = %v, want 28 (numpy's median of seed_titanic ages)", enc.Columns[2].Median)
		}
	})

	t.Run("Native", func(t *testing.T) {
		t.Parallel()
		enc, err := features.Fit(c, rows, ml.Native)
		if err != nil {
			t.Fatal(err)
		}
		if enc.Width() != 4 {
			t.Fatalf("width = %d, want 4 (one per feature column)", enc.Width())
		}
		f := enc.Features()
		if !f[0].Categorical || f[0].Levels != 3 || f[2].Categorical {
			t.Fatalf("features = %+v", f)
		}
		x := make([]float64, 4)
		enc.Encode(schema.Row{{}, {Num: 2, Str: "3"}, {Num: 0, Str: "male"}, {Missing: true}, {Num: -1, Str: "X"}}, x)
		if x[0] != 2 || x[1] != 0 || !math.IsNaN(x[2]) || x[3] != 3 {
			t.Fatalf("encoded %v, want [2 0 NaN 3(unseen)]", x)
		}
	})
}

func TestTargetsAndTasks(t *testing.T) {
	t.Parallel()
	open := schema.Schema{Target: "y", Columns: []schema.Column{{Name: "x", Type: schema.Number}, {Name: "y", Type: schema.Category}}}
	c, err := schema.Compile(open)
	if err != nil {
		t.Fatal(err)
	}
	row := func(x float64, y string) schema.Row { return schema.Row{{Num: x}, {Str: y, Num: -1}} }
	enc, err := features.Fit(c, []schema.Row{row(1, "10"), row(2, "9"), row(3, "10")}, ml.OneHot)
	if err != nil {
		t.Fatal(err)
	}
	if enc.Task() != ml.Binary || enc.Target.Classes[0] != "9" || enc.Target.Classes[1] != "10" {
		t.Fatalf("task %s classes %v, want binary [9 10] (numeric order)", enc.Task(), enc.Target.Classes)
	}
	if _, ok := enc.TargetOf(row(0, "11")); ok {
		t.Fatal("unknown class accepted")
	}
	if _, err := features.Fit(c, []schema.Row{row(1, "a"), row(2, "a")}, ml.OneHot); err == nil {
		t.Fatal("one class: want an error")
	}
}

func BenchmarkEncodeOneHot(b *testing.B) {
	c, err := schema.Compile(parity["seed_titanic"].schema)
	if err != nil {
		b.Fatal(err)
	}
	row := schema.Row{{}, {Num: 0, Str: "1"}, {Num: 1, Str: "female"}, {Num: 22}, {Num: 1, Str: "S"}}
	enc, err := features.Fit(c, []schema.Row{row, {{Str: "1", Num: 1}, {Num: 2, Str: "3"}, {Num: 0, Str: "male"}, {Missing: true}, {Missing: true}}}, ml.OneHot)
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float64, enc.Width())
	b.ReportAllocs()
	for b.Loop() {
		enc.Encode(row, x)
	}
}
