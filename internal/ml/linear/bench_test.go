package linear

import (
	"context"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

func BenchmarkPredict(b *testing.B) {
	d := loadGolden(b, "seed_titanic").dataset()
	m, _ := fitLogistic(b, d, nil, 1)
	out := make([]float64, 2)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Predict(d.X.Row(i%d.X.Rows), out)
		i++
	}
}

func BenchmarkPredictBatch(b *testing.B) {
	d := loadGolden(b, "seed_titanic").dataset()
	m, _ := fitLogistic(b, d, nil, 1)
	out := make([]float64, 2*d.X.Rows)
	b.ReportAllocs()
	for b.Loop() {
		m.PredictBatch(d.X, out, 0)
	}
}

func BenchmarkFit(b *testing.B) {
	d := loadGolden(b, "seed_titanic").dataset()
	for _, bc := range []struct {
		name   string
		params ml.Params
	}{
		{"titanic", nil},
		{"titanic_cv5", ml.Params{"cv": 5}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tr, _, err := Logistic.NewTrainer(d.Task, bc.params, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.Fit(context.Background(), d, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("synthetic_100k_3class", func(b *testing.B) {
		sd := synthetic(100_000, 20, 3, 1)
		tr, _, err := Logistic.NewTrainer(sd.Task, nil, 1)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tr.Fit(context.Background(), sd, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
