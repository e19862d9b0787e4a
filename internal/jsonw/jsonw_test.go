package jsonw_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlserve/mlserve/internal/jsonw"
)

func TestString(t *testing.T) {
	t.Parallel()
	cases := []string{
		"", "OK", "male", `a"b\c`, "<script>&amp;</script>", "tab\tnl\nret\rbs\bff\f", "\x00\x01\x1f\x7f",
		"é ü 🙂 日本", "\xff\xfe", "a\xc3", "\u2028\u2029", "%zz", "\ud7ff", "caf\xe9",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonw.String(nil, s); string(got) != string(want) {
			t.Errorf("String(%q): got %s, want %s", s, got, want)
		}
	}
}

func TestFloat(t *testing.T) {
	t.Parallel()
	cases := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1.5e300, -2.5e-10, 0.1 + 0.2,
		math.SmallestNonzeroFloat64, math.MaxFloat64, 0.12345678901234568, 123456789, 1e-9}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		cases = append(cases, math.Float64frombits(rng.Uint64()), rng.Float64(), rng.NormFloat64()*math.Pow(10, float64(rng.IntN(60)-30)))
	}
	for _, f := range cases {
		want, err := json.Marshal(f)
		got, ok := jsonw.Float(nil, f)
		if err != nil {
			if ok {
				t.Errorf("Float(%v): got %s, want not ok", f, got)
			}
			continue
		}
		if !ok || string(got) != string(want) {
			t.Errorf("Float(%v): got %s %v, want %s", f, got, ok, want)
		}
	}
	if got, ok := jsonw.Float([]byte("x"), math.Inf(1)); ok || string(got) != "x" {
		t.Errorf("Float(+Inf): got %q %v", got, ok)
	}
	if got := jsonw.Int(nil, -42); string(got) != "-42" {
		t.Errorf("Int: got %s", got)
	}
}
