package artifact_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/train"
)

// predictAll predicts rows split over cores (Chunks), as the servers do.
func predictAll(m *artifact.Model, rows []schema.Row) []float64 {
	k, w := m.Outputs(), m.Width()
	out, x := make([]float64, len(rows)*k), make([]float64, len(rows)*w)
	artifact.Chunks(len(rows), artifact.ChunkRows, func(lo, hi int) {
		m.PredictRows(rows[lo:hi], x[lo*w:hi*w], out[lo*k:hi*k])
	})
	return out
}

// fit trains a model on synthetic rows: target y of type target (with the
// given class labels), features x (number) and c (category).
func fit(t *testing.T, algorithm string, target schema.Type, classes []string) (*artifact.Model, []schema.Row) {
	t.Helper()
	s := schema.Schema{Target: "y", Columns: []schema.Column{
		{Name: "y", Type: target, Values: classes},
		{Name: "x", Type: schema.Number, Nullable: true},
		{Name: "c", Type: schema.Category, Values: []string{"p", "q", "r"}},
	}}
	c, err := schema.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]schema.Row, 3000)
	for i := range rows {
		x := rng.NormFloat64()
		k := rng.IntN(3)
		y := schema.Value{Num: x*3 + float64(k) + rng.NormFloat64()}
		if target == schema.Category {
			j := min(len(classes)-1, max(0, int(x+float64(k)+rng.NormFloat64())))
			y = schema.Value{Num: float64(j), Str: classes[j]}
		}
		rows[i] = schema.Row{y, {Num: x}, {Num: float64(k), Str: []string{"p", "q", "r"}[k]}}
		if i%9 == 0 {
			rows[i][1] = schema.Value{Missing: true}
		}
	}
	res, err := train.Fit(context.Background(), &train.FitParams{Pipeline: "t", Schema: c, Rows: rows, Algorithm: algorithm, Seed: 1, Holdout: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	return res.Model, rows
}

func TestAppendPredictionAndBatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, algorithm string
		target          schema.Type
		classes         []string
	}{
		{"binary", "logistic", schema.Category, []string{"yes", "no"}},
		{"multiclass_logistic", "logistic", schema.Category, []string{"b", "a", "10", "9"}},
		{"multiclass_gbdt", "gbdt", schema.Category, []string{"<z>", "a\"", "é", "0"}},
		{"regression_linear", "linear", schema.Number, nil},
		{"regression_gbdt", "gbdt", schema.Number, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, rows := fit(t, tc.algorithm, tc.target, tc.classes)
			if (m.Task() == ml.Regression) != (tc.target == schema.Number) {
				t.Fatalf("task %v", m.Task())
			}
			// every row's answer in a parallel batch equals the row alone
			batch := predictAll(m, rows)
			k := m.Outputs()
			for i, r := range rows {
				one := make([]float64, k)
				m.PredictRow(r, one)
				if !slices.Equal(one, batch[i*k:(i+1)*k]) {
					t.Fatalf("row %d: batch %v, alone %v", i, batch[i*k:(i+1)*k], one)
				}
				want, err := json.Marshal(m.Format(one))
				if err != nil {
					t.Fatal(err)
				}
				got, ok := m.AppendPrediction([]byte("x"), one)
				if !ok || string(got) != "x"+string(want) {
					t.Fatalf("row %d: AppendPrediction %s %v, encoding/json %s", i, got, ok, want)
				}
			}
			bad := slices.Repeat([]float64{math.NaN()}, k)
			if got, ok := m.AppendPrediction([]byte("x"), bad); ok || string(got) != "x" {
				t.Errorf("NaN output: got %q %v, want not ok and nothing appended", got, ok)
			}
		})
	}
}

func TestChunks(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 255, 256, 511, 512, 513, 10000} {
		seen := make([]int, n)
		calls := 0
		done := make(chan [2]int, n+1)
		artifact.Chunks(n, 256, func(lo, hi int) { done <- [2]int{lo, hi} })
		close(done)
		for r := range done {
			calls++
			if r[1]-r[0] < 256 && calls > 1 && n >= 512 {
				t.Errorf("n=%d: chunk %v shorter than 256", n, r)
			}
			for i := r[0]; i < r[1]; i++ {
				seen[i]++
			}
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: index %d covered %d times", n, i, c)
			}
		}
	}
}

// TestShareCores checks that a batch gets every core alone and its share of
// them under load. Not parallel: it sets GOMAXPROCS, and counts batches.
func TestShareCores(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var dones []func()
	share := func(n int) int {
		p, done := artifact.ShareCores(n, 128)
		dones = append(dones, done)
		return p
	}
	if got := share(10000); got != 4 {
		t.Errorf("alone: %d parts, want 4 (every core)", got)
	}
	if got := share(10000); got != 2 {
		t.Errorf("second batch in flight: %d parts, want 2", got)
	}
	if got := share(10000); got != 1 {
		t.Errorf("third batch in flight: %d parts, want 1", got)
	}
	for _, done := range dones {
		done()
	}
	dones = nil
	if got := share(100); got != 1 {
		t.Errorf("100 rows: %d parts, want 1", got)
	}
	if got := share(600); got != 4 {
		t.Errorf("600 rows, with only a batch too small to split in flight: %d parts, want 4 (it is not counted)", got)
	}
	if got := share(300); got != 2 {
		t.Errorf("300 rows with another batch in flight: %d parts, want 2 (at least 128 rows each)", got)
	}
	for _, done := range dones {
		done()
	}
	if got := share(10000); got != 4 {
		t.Errorf("alone again after the others finished: %d parts, want 4", got)
	}
	dones[len(dones)-1]()
}

// TestSplit checks that Split's parts cover a batch, none of them empty.
func TestSplit(t *testing.T) {
	for _, n := range []int{0, 1, 255, 512, 1000, 4097} {
		parts, size, done := artifact.Split(n, 256)
		if parts < 1 || n > 0 && (parts*size < n || (parts-1)*size >= n) {
			t.Errorf("Split(%d): %d parts of %d", n, parts, size)
		}
		done()
	}
}
