package store

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// EncodeMetrics writes a version's metrics as the JSON object every backend
// stores; NaN and ±Inf, which JSON numbers cannot hold, are written as the
// strings "NaN", "+Inf", "-Inf".
func EncodeMetrics(m map[string]float64) (string, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch {
		case math.IsNaN(v):
			out[k] = "NaN"
		case math.IsInf(v, 1):
			out[k] = "+Inf"
		case math.IsInf(v, -1):
			out[k] = "-Inf"
		default:
			out[k] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode metrics: %w", err)
	}
	return string(b), nil
}

// DecodeMetrics reads what EncodeMetrics wrote.
func DecodeMetrics(s string) (map[string]float64, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("decode metrics: %w", err)
	}
	out := make(map[string]float64, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case float64:
			out[k] = x
		case string:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return nil, fmt.Errorf("decode metric %s: %w", k, err)
			}
			out[k] = f
		default:
			return nil, fmt.Errorf("decode metric %s: unexpected %T", k, v)
		}
	}
	return out, nil
}
