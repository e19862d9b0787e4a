package schema

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestParseDecimal: the fast path gives strconv.ParseFloat's bits and
// errors, on hand-picked edges and on random decimals of every length.
func TestParseDecimal(t *testing.T) {
	t.Parallel()
	cases := []string{
		"0", "-0", "0.0", "-0.0", "1", "-1", "42", "1.5", "-1.2345", "0.1", "0.3", "123456789012345",
		"1234567890123456", "0.000000000000001", "9.99999999999999", "999999999999999.9", "1.", ".5", "-.5",
		"+1", "1e3", "1E-3", "0x10", "1_000", "inf", "NaN", "", "-", ".", "1.2.3", "--1", "1-", " 1", "١",
		"00012.5000", "3.14159265358979", "0.30000000000000004",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		digits := 1 + r.IntN(18)
		b := make([]byte, 0, digits+2)
		if r.IntN(2) == 0 {
			b = append(b, '-')
		}
		point := r.IntN(digits + 1)
		for d := range digits {
			if d == point && d > 0 {
				b = append(b, '.')
			}
			b = append(b, byte('0'+r.IntN(10)))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		got, gerr := parseDecimal(s)
		want, werr := strconv.ParseFloat(s, 64)
		if math.Float64bits(got) != math.Float64bits(want) || (gerr == nil) != (werr == nil) {
			t.Errorf("parseDecimal(%q) = %v, %v; ParseFloat: %v, %v", s, got, gerr, want, werr)
		}
	}
}

func BenchmarkParseDecimal(b *testing.B) {
	for _, s := range []string{"-1.2345", "42", "0.30000000000000004"} {
		b.Run(s, func(b *testing.B) {
			b.Run("fast", func(b *testing.B) {
				for b.Loop() {
					parseDecimal(s)
				}
			})
			b.Run("strconv", func(b *testing.B) {
				for b.Loop() {
					strconv.ParseFloat(s, 64)
				}
			})
		})
	}
}
