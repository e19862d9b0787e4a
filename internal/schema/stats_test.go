package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// coerceAll turns records into rows, failing on any field error.
func coerceAll(t testing.TB, c *Compiled, header []string, recs [][]string) []Row {
	t.Helper()
	h, err := c.Header(header)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]Row, len(recs))
	for i, r := range recs {
		row, fe := h.Row(r, nil)
		if fe != nil {
			t.Fatalf("record %d %q: %v", i, r, fe)
		}
		rows[i] = row
	}
	return rows
}

func TestComputeStats(t *testing.T) {
	t.Parallel()
	c, err := Compile(Schema{Target: "y", Columns: []Column{
		{Name: "y", Type: Category, Values: []string{"a", "b", "c"}},
		{Name: "x", Type: Number, Nullable: true},
		{Name: "n", Type: Integer},
		{Name: "ok", Type: Boolean, Nullable: true},
		{Name: "city", Type: Category, Nullable: true},
		{Name: "id", Type: Integer, Ignore: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rows := coerceAll(t, c, []string{"y", "x", "n", "ok", "city", "id"}, rowsOf(
		"a,1,10,true,Oslo,1;"+
			"A,2,20,false,Rome,2;"+
			"b,3,-30,yes,Oslo,3;"+
			"a,,0,,,4"))

	// Hand-computed: x is 1,2,3 (mean 2, population variance 2/3); n is
	// 10,20,-30,0 (mean 0, variance (100+400+900)/4 = 350); ok is 1,0,1
	// (mean 2/3, variance ((1/3)²·2 + (2/3)²)/3 = 2/9).
	want := []ColumnStats{
		{Name: "y", Type: Category, Count: 4, Distinct: 2,
			Frequencies: []LabelCount{{"a", 3}, {"b", 1}, {"c", 0}}},
		{Name: "x", Type: Number, Count: 4, Missing: 1, MissingRate: 0.25,
			Mean: fp(2), Std: fp(math.Sqrt(2.0 / 3)), Min: fp(1), Max: fp(3),
			Quantiles: []float64{1, 2}, BinCounts: []int{1, 1, 1}},
		{Name: "n", Type: Integer, Count: 4,
			Mean: fp(0), Std: fp(math.Sqrt(350)), Min: fp(-30), Max: fp(20),
			Quantiles: []float64{-30, 0, 10}, BinCounts: []int{1, 1, 1, 1}},
		{Name: "ok", Type: Boolean, Count: 4, Missing: 1, MissingRate: 0.25,
			Mean: fp(2.0 / 3), Std: fp(math.Sqrt(2.0 / 9)), Distinct: 2,
			Frequencies: []LabelCount{{"false", 1}, {"true", 2}}},
		{Name: "city", Type: Category, Count: 4, Missing: 1, MissingRate: 0.25, Distinct: 2,
			Frequencies: []LabelCount{{"Oslo", 2}, {"Rome", 1}}},
	}
	got := ComputeStats(c, rows)
	if len(got) != len(want) {
		t.Fatalf("got %d columns, want %d (ignored columns have no stats)", len(got), len(want))
	}
	for i := range want {
		if !statsClose(got[i], want[i]) {
			t.Errorf("column %s:\n got %s\nwant %s", want[i].Name, jsonOf(got[i]), jsonOf(want[i]))
		}
	}
}

func TestComputeStatsEdges(t *testing.T) {
	t.Parallel()
	c, err := Compile(Schema{Target: "y", Columns: []Column{
		{Name: "y", Type: Number},
		{Name: "x", Type: Number, Nullable: true},
		{Name: "label", Type: Category},
	}})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("NoRows", func(t *testing.T) {
		t.Parallel()
		got := ComputeStats(c, nil)
		want := []ColumnStats{{Name: "y", Type: Number}, {Name: "x", Type: Number}, {Name: "label", Type: Category}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %s, want %s", jsonOf(got), jsonOf(want))
		}
	})
	t.Run("AllMissing", func(t *testing.T) {
		t.Parallel()
		rows := coerceAll(t, c, []string{"y", "x", "label"}, rowsOf("1,,a;2,NA,a"))
		got := ComputeStats(c, rows)[1]
		want := ColumnStats{Name: "x", Type: Number, Count: 2, Missing: 2, MissingRate: 1}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %s, want %s", jsonOf(got), jsonOf(want))
		}
	})
	t.Run("OpenCategoryCapped", func(t *testing.T) {
		t.Parallel()
		// Label Lk occurs k+1 times for k < 150: the 100 most frequent are
		// L149..L50, the other 50 labels hold 1+2+…+50 = 1275 values.
		var recs [][]string
		for k := range 150 {
			for range k + 1 {
				recs = append(recs, []string{"1", "2", fmt.Sprintf("L%d", k)})
			}
		}
		got := ComputeStats(c, coerceAll(t, c, []string{"y", "x", "label"}, recs))[2]
		if len(got.Frequencies) != MaxStatsLabels || got.Other != 1275 || got.Distinct != 150 ||
			got.Frequencies[0] != (LabelCount{"L149", 150}) || got.Frequencies[99] != (LabelCount{"L50", 51}) {
			t.Errorf("got %d labels, first %v, last %v, other %d, distinct %d",
				len(got.Frequencies), got.Frequencies[0], got.Frequencies[len(got.Frequencies)-1], got.Other, got.Distinct)
		}
	})
	t.Run("Ties", func(t *testing.T) {
		t.Parallel()
		rows := coerceAll(t, c, []string{"y", "x", "label"}, rowsOf("1,1,b;1,1,c;1,1,a;1,1,c"))
		got := ComputeStats(c, rows)[2].Frequencies
		want := []LabelCount{{"c", 2}, {"a", 1}, {"b", 1}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}

// TestComputeStatsTitanic checks against figures computed independently
// (Python's statistics.pstdev over the same CSV).
func TestComputeStatsTitanic(t *testing.T) {
	t.Parallel()
	header, recs := loadCSV(t, "titanic")
	s, _, err := Infer(header, seq(recs), InferOptions{Target: "survived"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	st := ComputeStats(c, coerceAll(t, c, header, recs))
	by := map[string]ColumnStats{}
	for _, cs := range st {
		by[cs.Name] = cs
	}
	near := func(name string, got *float64, want float64) {
		if got == nil || math.Abs(*got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	age, fare := by["age"], by["fare"]
	if age.Count != 891 || age.Missing != 177 || math.Abs(age.MissingRate-177.0/891) > 1e-15 {
		t.Errorf("age counts: %+v", age)
	}
	near("age mean", age.Mean, 29.69911764705882)
	near("age std", age.Std, 14.516321150817316)
	near("fare mean", fare.Mean, 32.204207968574636)
	near("fare std", fare.Std, 49.66553444477411)
	checkFreq := func(name string, want []LabelCount) {
		if got := by[name].Frequencies; !reflect.DeepEqual(got, want) {
			t.Errorf("%s frequencies: got %v, want %v", name, got, want)
		}
	}
	checkFreq("embarked", []LabelCount{{"C", 168}, {"Q", 77}, {"S", 644}})
	checkFreq("deck", []LabelCount{{"A", 15}, {"B", 47}, {"C", 59}, {"D", 33}, {"E", 32}, {"F", 13}, {"G", 4}})
	checkFreq("survived", []LabelCount{{"0", 549}, {"1", 342}})
	checkFreq("adult_male", []LabelCount{{"false", 354}, {"true", 537}})
	near("adult_male mean", by["adult_male"].Mean, 537.0/891)

	// Deterministic and JSON-clean (no NaN).
	again := ComputeStats(c, coerceAll(t, c, header, recs))
	if !reflect.DeepEqual(st, again) {
		t.Errorf("second run differs")
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `{"name":"embarked","type":"category","count":891,"missing":2,"missing_rate":0.002244668911335578,"distinct":3,"frequencies":[{"label":"C","count":168}`) {
		t.Errorf("JSON shape: %s", b)
	}
}

func statsClose(a, b ColumnStats) bool {
	for _, p := range [][2]**float64{{&a.Mean, &b.Mean}, {&a.Std, &b.Std}} {
		x, y := *p[0], *p[1]
		if (x == nil) != (y == nil) || (x != nil && math.Abs(*x-*y) > 1e-12) {
			return false
		}
		*p[0], *p[1] = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func BenchmarkComputeStats(b *testing.B) {
	header, recs := loadCSV(b, "titanic")
	s, _, err := Infer(header, seq(recs), InferOptions{Target: "survived"})
	if err != nil {
		b.Fatal(err)
	}
	c, err := Compile(s)
	if err != nil {
		b.Fatal(err)
	}
	base := coerceAll(b, c, header, recs)
	rows := make([]Row, 0, 1_000_000)
	for len(rows) < cap(rows) {
		rows = append(rows, base[len(rows)%len(base)])
	}
	// Give every row its own backing array, as rows read from a store have.
	for i := range rows {
		rows[i] = append(Row(nil), rows[i]...)
	}
	b.ResetTimer()
	for b.Loop() {
		ComputeStats(c, rows)
	}
}

// TestComputeStatsTimestamp: a timestamp has the moments and range of its
// Unix seconds (it once had none, and its infinite range broke the JSON of
// every training run); other labels of a category are counted in Other.
func TestComputeStatsTimestamp(t *testing.T) {
	t.Parallel()
	c, err := Compile(Schema{Target: "y", Columns: []Column{
		{Name: "y", Type: Number},
		{Name: "at", Type: Timestamp, Nullable: true},
		{Name: "color", Type: Category, Values: []string{"red"}, Unknown: UnknownOther},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rows := coerceAll(t, c, []string{"y", "at", "color"}, rowsOf("1,1970-01-01T00:00:10Z,red;2,1970-01-01 00:00:20,blue;3,,green"))
	got := ComputeStats(c, rows)
	want := ColumnStats{Name: "at", Type: Timestamp, Count: 3, Missing: 1, MissingRate: 1.0 / 3, Mean: fp(15), Std: fp(5), Min: fp(10), Max: fp(20),
		Quantiles: []float64{10}, BinCounts: []int{1, 1}}
	if !statsClose(got[1], want) {
		t.Errorf("at:\n got %s\nwant %s", jsonOf(got[1]), jsonOf(want))
	}
	if got[2].Other != 2 || got[2].Frequencies[0] != (LabelCount{"red", 1}) {
		t.Errorf("color: %s, want red 1 and 2 other", jsonOf(got[2]))
	}
	if _, err := json.Marshal(got); err != nil {
		t.Errorf("stats do not encode: %v", err)
	}
}

func TestComputeStatsQuantiles(t *testing.T) {
	c, err := Compile(Schema{Target: "y", Columns: []Column{{Name: "x", Type: Number}, {Name: "y", Type: Number}}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for i := 100; i >= 1; i-- { // descending: the cut points must not depend on row order
		rows = append(rows, Row{{Num: float64(i)}, {Num: 7}})
	}
	st := ComputeStats(c, rows)
	if want := []float64{10, 20, 30, 40, 50, 60, 70, 80, 90}; !slices.Equal(st[0].Quantiles, want) {
		t.Errorf("quantiles of 1..100 = %v, want %v", st[0].Quantiles, want)
	}
	if want := []int{10, 10, 10, 10, 10, 10, 10, 10, 10, 10}; !slices.Equal(st[0].BinCounts, want) {
		t.Errorf("bin counts of 1..100 = %v, want %v", st[0].BinCounts, want)
	}
	// A constant column has one cut point and all values in its first bin.
	if !slices.Equal(st[1].Quantiles, []float64{7}) || !slices.Equal(st[1].BinCounts, []int{100, 0}) {
		t.Errorf("constant column: quantiles %v, bin counts %v; want [7], [100 0]", st[1].Quantiles, st[1].BinCounts)
	}
	if Bin([]float64{1, 2}, 0.5) != 0 || Bin([]float64{1, 2}, 1) != 0 || Bin([]float64{1, 2}, 1.5) != 1 || Bin([]float64{1, 2}, 3) != 2 {
		t.Error("Bin puts x in the first bin whose cut point is >= x")
	}
}
