package linear

import (
	"context"
	"math"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

func TestLinearParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		task    ml.Task
		params  ml.Params
		want    ml.Params
		wantErr bool
	}{
		{name: "default", task: ml.Regression, want: ml.Params{"alpha": 1.0}},
		{name: "given", task: ml.Regression, params: ml.Params{"alpha": "0.25"}, want: ml.Params{"alpha": 0.25}},
		{name: "zero", task: ml.Regression, params: ml.Params{"alpha": 0}, want: ml.Params{"alpha": 0.0}},
		{name: "negative", task: ml.Regression, params: ml.Params{"alpha": -1}, wantErr: true},
		{name: "unknown", task: ml.Regression, params: ml.Params{"C": 1}, wantErr: true},
		{name: "classification", task: ml.Binary, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, got, err := Linear.NewTrainer(tt.task, tt.params, 1)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error; resolved %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkParams(t, got, tt.want)
		})
	}
	if Linear.Name() != "linear" || Linear.Input() != ml.OneHot || !Linear.Supports(ml.Regression) || Linear.Supports(ml.Binary) {
		t.Error("linear algorithm description")
	}
}

func fitRidge(t *testing.T, d *ml.Dataset, alpha float64) *Model {
	t.Helper()
	tr, _, err := Linear.NewTrainer(ml.Regression, ml.Params{"alpha": alpha}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tr.Fit(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*Model)
}

func TestRidge(t *testing.T) {
	t.Parallel()
	// y = 2 + 3·x exactly: alpha 0 recovers it; the intercept is never shrunk.
	d := &ml.Dataset{X: ml.Matrix{Rows: 4, Cols: 1, Data: []float64{10, 11, 12, 13}},
		Y: []float64{32, 35, 38, 41}, Features: []ml.Feature{{Name: "x"}}, Task: ml.Regression, Classes: 1}
	t.Run("exact fit", func(t *testing.T) {
		t.Parallel()
		m := fitRidge(t, d, 0)
		if math.Abs(m.weights[0]-3) > 1e-12 || math.Abs(m.intercepts[0]-2) > 1e-10 {
			t.Errorf("w %v b %v, want 3 and 2", m.weights, m.intercepts)
		}
	})
	t.Run("shrunk", func(t *testing.T) {
		t.Parallel()
		// Centred x is -1.5..1.5 (Σx² = 5), Σxy = 15: w = 15/(5+alpha).
		m := fitRidge(t, d, 5)
		if math.Abs(m.weights[0]-1.5) > 1e-12 || math.Abs(m.intercepts[0]-(36.5-1.5*11.5)) > 1e-10 {
			t.Errorf("w %v b %v, want 1.5 and %v", m.weights, m.intercepts, 36.5-1.5*11.5)
		}
	})
	t.Run("collinear without penalty", func(t *testing.T) {
		t.Parallel()
		// Two copies of x: the minimum-norm solution splits the weight.
		c := &ml.Dataset{X: ml.Matrix{Rows: 4, Cols: 2, Data: []float64{10, 10, 11, 11, 12, 12, 13, 13}},
			Y: d.Y, Features: []ml.Feature{{Name: "x"}, {Name: "x2"}}, Task: ml.Regression, Classes: 1}
		m := fitRidge(t, c, 0)
		if math.Abs(m.weights[0]-1.5) > 1e-9 || math.Abs(m.weights[1]-1.5) > 1e-9 || math.Abs(m.intercepts[0]-2) > 1e-8 {
			t.Errorf("w %v b %v, want 1.5, 1.5 and 2", m.weights, m.intercepts)
		}
	})
	t.Run("constant feature", func(t *testing.T) {
		t.Parallel()
		c := &ml.Dataset{X: ml.Matrix{Rows: 4, Cols: 2, Data: []float64{10, 0, 11, 0, 12, 0, 13, 0}},
			Y: d.Y, Features: []ml.Feature{{Name: "x"}, {Name: "unseen"}}, Task: ml.Regression, Classes: 1}
		m := fitRidge(t, c, 0)
		if math.Abs(m.weights[0]-3) > 1e-9 || m.weights[1] != 0 {
			t.Errorf("w %v, want 3 and 0", m.weights)
		}
	})
	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		tr, _, _ := Linear.NewTrainer(ml.Regression, nil, 1)
		bad := *d
		bad.X = ml.Matrix{Rows: 4, Cols: 1, Data: []float64{10, math.Inf(1), 12, 13}}
		if _, err := tr.Fit(context.Background(), &bad, nil); err == nil {
			t.Error("infinite feature: no error")
		}
		bin := synthetic(50, 2, 2, 1)
		if _, err := tr.Fit(context.Background(), bin, nil); err == nil {
			t.Error("binary dataset: no error")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := tr.Fit(ctx, d, nil); err == nil {
			t.Error("cancelled: no error")
		}
	})
}
