package artifact

import (
	"github.com/mlserve/mlserve/internal/jsonw"
	"github.com/mlserve/mlserve/internal/ml"
)

// AppendPrediction appends the JSON of Format(out) to dst, the same bytes
// encoding/json writes for it, without building the Prediction. ok is false
// when an output is NaN or infinite (JSON cannot carry it); dst is then
// returned unchanged.
func (m *Model) AppendPrediction(dst []byte, out []float64) (_ []byte, ok bool) {
	start := len(dst)
	if m.Task() == ml.Regression {
		dst = append(dst, `{"value":`...)
		if dst, ok = jsonw.Float(dst, out[0]); !ok {
			return dst[:start], false
		}
		return append(dst, '}'), true
	}
	classes := m.Classes()
	best := Best(out[:len(classes)])
	dst = append(dst, '{')
	if len(classes) > 0 && classes[best] != "" { // omitempty
		dst = append(dst, `"label":`...)
		dst = jsonw.String(dst, classes[best])
	}
	if len(classes) > 0 {
		if len(dst) > start+1 {
			dst = append(dst, ',')
		}
		dst = append(dst, `"probabilities":{`...)
		for n, j := range m.byName {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = jsonw.String(dst, classes[j])
			dst = append(dst, ':')
			if dst, ok = jsonw.Float(dst, out[j]); !ok {
				return dst[:start], false
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, '}'), true
}
