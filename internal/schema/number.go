package schema

import "strconv"

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseDecimal is strconv.ParseFloat(s, 64), with a fast path for the
// plain decimals CSV files are made of ("-1.2345", "42"): with at most 15
// digits, the digits as an integer and the power of ten both are exact
// float64s, and one IEEE division rounds their quotient correctly, so the
// result is ParseFloat's bit for bit. Batch scoring parses millions of
// these; anything else takes ParseFloat.
func parseDecimal(s string) (float64, error) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		i, neg = 1, true
	}
	var mant uint64
	digits, frac := 0, -1 // frac: digits after the point, -1 before it
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0 && digits > 0:
			frac = 0
		default:
			return strconv.ParseFloat(s, 64)
		}
	}
	if digits == 0 || digits > 15 || frac == 0 {
		return strconv.ParseFloat(s, 64)
	}
	f := float64(mant)
	if frac > 0 {
		f /= pow10[frac]
	}
	if neg {
		f = -f
	}
	return f, nil
}
