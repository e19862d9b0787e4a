package store

import (
	"math"
	"testing"
)

func TestMetricsRoundTrip(t *testing.T) {
	in := map[string]float64{"accuracy": 0.8125, "r2": -3.5, "nan": math.NaN(), "pos": math.Inf(1), "neg": math.Inf(-1)}
	s, err := EncodeMetrics(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"accuracy":0.8125,"nan":"NaN","neg":"-Inf","pos":"+Inf","r2":-3.5}`
	if s != want {
		t.Fatalf("EncodeMetrics = %s, want %s", s, want)
	}
	out, err := DecodeMetrics(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) || out["accuracy"] != 0.8125 || out["r2"] != -3.5 ||
		!math.IsNaN(out["nan"]) || !math.IsInf(out["pos"], 1) || !math.IsInf(out["neg"], -1) {
		t.Fatalf("DecodeMetrics = %v, want %v", out, in)
	}
}

func TestDecodeMetricsErrors(t *testing.T) {
	for _, s := range []string{`not json`, `{"a":"high"}`, `{"a":[1]}`, `{"a":true}`} {
		if m, err := DecodeMetrics(s); err == nil {
			t.Errorf("DecodeMetrics(%s) = %v, nil; want an error", s, m)
		}
	}
}
