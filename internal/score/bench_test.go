package score_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/score"
)

// synth writes n rows shaped like bench/score/gen's (17 numbers, 3
// categories, a 0/1 target) as CSV.
func synth(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for i := range 17 {
		fmt.Fprintf(&b, "x%d,", i)
	}
	b.WriteString("c0,c1,c2,y\n")
	var line []byte
	for range n {
		line = line[:0]
		s := 0.0
		for i := range 17 {
			x := r.NormFloat64()
			if i < 15 {
				s += x * float64(i%5-2)
			}
			line = strconv.AppendFloat(line, x, 'f', 4, 64)
			line = append(line, ',')
		}
		for _, lv := range []int{5, 10, 20} {
			c := r.IntN(lv)
			s += float64(c%3) - 1
			line = strconv.AppendInt(line, int64(c), 10)
			line = append(line, ',')
		}
		y := 0
		if r.Float64() < 1/(1+math.Exp(-s/3)) {
			y = 1
		}
		line = strconv.AppendInt(line, int64(y), 10)
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func synthSchema() schema.Schema {
	var s schema.Schema
	s.Target = "y"
	for i := range 17 {
		s.Columns = append(s.Columns, schema.Column{Name: "x" + strconv.Itoa(i), Type: schema.Number})
	}
	for j, lv := range []int{5, 10, 20} {
		var vals []string
		for k := range lv {
			vals = append(vals, strconv.Itoa(k))
		}
		s.Columns = append(s.Columns, schema.Column{Name: "c" + strconv.Itoa(j), Type: schema.Category, Values: vals})
	}
	s.Columns = append(s.Columns, schema.Column{Name: "y", Type: schema.Category, Values: []string{"0", "1"}})
	return s
}

// benchRows is the size of the benchmarks' input.
const benchRows = 200_000

// BenchmarkStream scores 200,000 synthetic rows CSV to CSV with a logistic
// model and a 100-tree gbdt, against Copy of the same rows (reading and
// writing without a model). rows/s is per wall second on every core;
// cpu-ns/row is the CPU time of all cores per row (on a quiet machine,
// rows/s is about cores × 1e9 / cpu-ns/row).
func BenchmarkStream(b *testing.B) {
	path := filepath.Join(b.TempDir(), "train.csv")
	if err := os.WriteFile(path, synth(20000, 1), 0o600); err != nil {
		b.Fatal(err)
	}
	in := synth(benchRows, 2)
	run := func(b *testing.B, f func(r io.Reader) error) {
		b.SetBytes(int64(len(in)))
		cpu0 := cpuTime(b)
		for b.Loop() {
			if err := f(bytes.NewReader(in)); err != nil {
				b.Fatal(err)
			}
		}
		rows := float64(benchRows * b.N)
		b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
		// CPU time per row: what a busy machine cannot hide.
		b.ReportMetric(float64(cpuTime(b)-cpu0)/rows, "cpu-ns/row")
	}
	b.Run("copy", func(b *testing.B) {
		run(b, func(r io.Reader) error {
			_, err := score.Copy(context.Background(), r, io.Discard, score.Options{})
			return err
		})
	})
	for _, alg := range []string{"logistic", "gbdt"} {
		var m *artifact.Model
		b.Run(alg, func(b *testing.B) {
			if m == nil {
				var err error
				if m, err = fitParams(synthSchema(), alg, path); err != nil {
					b.Fatal(err)
				}
			}
			run(b, func(r io.Reader) error {
				_, err := score.Stream(context.Background(), m, r, io.Discard, score.Options{Format: score.CSV})
				return err
			})
		})
	}
}
