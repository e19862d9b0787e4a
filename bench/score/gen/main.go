// Command gen writes a synthetic binary classification CSV shaped like the
// training peers' synth1m.csv (shared bench gen_synth.py): header
// x0,…,x16,c0,c1,c2,y; x* standard normal with 4 decimals (x0-x14 carry
// signal, x15-x16 are noise), c0/c1/c2 integers with 5/10/20 levels, y 0/1.
// The draws are its own (a seeded PCG), so the bytes differ from the
// peers' file; the same -rows and -seed always give the same bytes.
//
//	go run ./bench/score/gen -rows 1000000 -o /tmp/synth.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "data rows to write")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	if err := write(*out, *rows, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func write(path string, rows int, seed uint64) error {
	f := os.Stdout
	if path != "" {
		var err error
		if f, err = os.Create(path); err != nil {
			return err
		}
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range 17 {
		fmt.Fprintf(w, "x%d,", i)
	}
	w.WriteString("c0,c1,c2,y\n")
	r := rand.New(rand.NewPCG(seed, 0x5c0e))
	weights := make([]float64, 15)
	for i := range weights {
		weights[i] = r.NormFloat64()
	}
	levels := [3]int{5, 10, 20}
	var effect [3][]float64
	for j, n := range levels {
		effect[j] = make([]float64, n)
		for k := range effect[j] {
			effect[j][k] = r.NormFloat64() / 2
		}
	}
	var b []byte
	for range rows {
		b = b[:0]
		s := 0.0
		for i := range 17 {
			x := math.Round(r.NormFloat64()*1e4) / 1e4
			if i < 15 {
				s += weights[i] * x
			}
			b = strconv.AppendFloat(b, x, 'f', 4, 64)
			b = append(b, ',')
		}
		for j, n := range levels {
			c := r.IntN(n)
			s += effect[j][c]
			b = strconv.AppendInt(b, int64(c), 10)
			b = append(b, ',')
		}
		y := 0
		if r.Float64() < 1/(1+math.Exp(-s/2)) {
			y = 1
		}
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, '\n')
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if path != "" {
		return f.Close()
	}
	return nil
}
