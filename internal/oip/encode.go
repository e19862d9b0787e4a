package oip

import (
	"slices"

	"github.com/mlserve/mlserve/internal/jsonw"
)

// appendResponse appends res as JSON, the bytes encoding/json writes for
// it, without reflection. ok is false when res holds something it does not
// encode (data other than []float64 or []string, a parameter that is not a
// string, a NaN): the caller encodes it with encoding/json then.
func appendResponse(b []byte, res *InferResponse) (_ []byte, ok bool) {
	b = append(b, `{"model_name":`...)
	b = jsonw.String(b, res.ModelName)
	b = append(b, `,"model_version":`...)
	b = jsonw.String(b, res.ModelVersion)
	if res.ID != "" {
		b = append(b, `,"id":`...)
		b = jsonw.String(b, res.ID)
	}
	b = append(b, `,"outputs":`...)
	if res.Outputs == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range res.Outputs {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendOutput(b, &res.Outputs[i]); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

func appendOutput(b []byte, o *ResponseOutput) (_ []byte, ok bool) {
	b = append(b, `{"name":`...)
	b = jsonw.String(b, o.Name)
	b = append(b, `,"datatype":`...)
	b = jsonw.String(b, o.Datatype)
	b = append(b, `,"shape":`...)
	if o.Shape == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, d := range o.Shape {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.Int(b, int64(d))
		}
		b = append(b, ']')
	}
	if len(o.Parameters) > 0 {
		b = append(b, `,"parameters":{`...)
		keys := make([]string, 0, len(o.Parameters))
		for k := range o.Parameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			v, isString := o.Parameters[k].(string)
			if !isString {
				return b, false
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.String(b, k)
			b = append(b, ':')
			b = jsonw.String(b, v)
		}
		b = append(b, '}')
	}
	b = append(b, `,"data":`...)
	switch data := o.Data.(type) {
	case []float64:
		if data == nil {
			return append(b, "null}"...), true
		}
		b = append(b, '[')
		for i, f := range data {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = jsonw.Float(b, f); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	case []string:
		if data == nil {
			return append(b, "null}"...), true
		}
		b = append(b, '[')
		for i, s := range data {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.String(b, s)
		}
		b = append(b, ']')
	default:
		return b, false
	}
	return append(b, '}'), true
}
