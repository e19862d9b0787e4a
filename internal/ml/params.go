package ml

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mlserve/mlserve/internal/didyoumean"
)

// Params are an algorithm's settings as a pipeline file (YAML numbers,
// booleans, lists) or the command line (strings) gives them.
type Params map[string]any

// ParamError names a parameter and what is wrong with it.
type ParamError struct {
	Name, Msg string
}

func (e *ParamError) Error() string { return fmt.Sprintf("param %s: %s", e.Name, e.Msg) }

// Reader reads typed values out of Params and remembers which names it was
// asked for, so that Check can report the unknown ones.
type Reader struct {
	p     Params
	known []string
	err   error
}

// NewReader returns a Reader over p (which may be nil).
func NewReader(p Params) *Reader { return &Reader{p: p} }

func (r *Reader) fail(name, msg string) {
	if r.err == nil {
		r.err = &ParamError{Name: name, Msg: msg}
	}
}

// Float reads a number in [lo, hi], def when absent.
func (r *Reader) Float(name string, def, lo, hi float64) float64 {
	r.known = append(r.known, name)
	v, ok := r.p[name]
	if !ok {
		return def
	}
	f, err := toFloat(v)
	if err != nil {
		r.fail(name, err.Error())
		return def
	}
	if f < lo || f > hi || math.IsNaN(f) {
		r.fail(name, fmt.Sprintf("must be between %v and %v, got %v", lo, hi, f))
		return def
	}
	return f
}

// Int reads a whole number in [lo, hi], def when absent.
func (r *Reader) Int(name string, def, lo, hi int) int {
	r.known = append(r.known, name)
	v, ok := r.p[name]
	if !ok {
		return def
	}
	f, err := toFloat(v)
	if err != nil || f != math.Trunc(f) {
		r.fail(name, fmt.Sprintf("must be a whole number, got %v", v))
		return def
	}
	if f < float64(lo) || f > float64(hi) {
		r.fail(name, fmt.Sprintf("must be between %d and %d, got %v", lo, hi, f))
		return def
	}
	return int(f)
}

// Bool reads a boolean, def when absent.
func (r *Reader) Bool(name string, def bool) bool {
	r.known = append(r.known, name)
	v, ok := r.p[name]
	if !ok {
		return def
	}
	switch b := v.(type) {
	case bool:
		return b
	case string:
		if pb, err := strconv.ParseBool(b); err == nil {
			return pb
		}
	}
	r.fail(name, fmt.Sprintf("must be true or false, got %v", v))
	return def
}

// String reads one of the allowed strings, def when absent.
func (r *Reader) String(name, def string, allowed ...string) string {
	r.known = append(r.known, name)
	v, ok := r.p[name]
	if !ok {
		return def
	}
	s, isStr := v.(string)
	if !isStr || (len(allowed) > 0 && !slices.Contains(allowed, s)) {
		r.fail(name, fmt.Sprintf("must be one of %s, got %v", strings.Join(allowed, ", "), v))
		return def
	}
	return s
}

// Floats reads a list of numbers, def when absent. A string is split on
// commas ("0.1,1,10").
func (r *Reader) Floats(name string, def []float64) []float64 {
	r.known = append(r.known, name)
	v, ok := r.p[name]
	if !ok {
		return def
	}
	var items []any
	switch t := v.(type) {
	case []any:
		items = t
	case []float64:
		return t
	case string:
		for _, s := range strings.Split(t, ",") {
			items = append(items, strings.TrimSpace(s))
		}
	default:
		items = []any{v}
	}
	out := make([]float64, 0, len(items))
	for _, it := range items {
		f, err := toFloat(it)
		if err != nil {
			r.fail(name, "must be a list of numbers: "+err.Error())
			return def
		}
		out = append(out, f)
	}
	return out
}

// Check returns the first bad value, or an error naming every unknown
// parameter and the known ones.
func (r *Reader) Check() error {
	if r.err != nil {
		return r.err
	}
	var unknown []string
	for k := range r.p {
		if !slices.Contains(r.known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		known := slices.Clone(r.known)
		slices.Sort(known)
		var hints []string
		for _, k := range unknown {
			if c := didyoumean.Closest(k, known); c != "" {
				hints = append(hints, k+": did you mean "+c+"?")
			}
		}
		msg := "unknown"
		if len(hints) > 0 {
			msg += " (" + strings.Join(hints, "; ") + ")"
		}
		return &ParamError{Name: strings.Join(unknown, ", "), Msg: msg + "; known params are " + strings.Join(known, ", ")}
	}
	return nil
}

func toFloat(v any) (float64, error) {
	switch t := v.(type) {
	case float64:
		return t, nil
	case float32:
		return float64(t), nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", t)
		}
		return f, nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}
