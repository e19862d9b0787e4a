package oip

import (
	"strconv"
	"unsafe"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/jsonw"
)

// answer is what an inference answer says: the model, the response's id,
// the outputs wanted (names out of OutputLabel, OutputProbabilities,
// OutputValue) and the predictions, k values per row.
type answer struct {
	model   string
	version int
	id      string
	outputs []string
	classes []string // a classifier's, in the order of each row's k probabilities
	preds   []float64
	k       int
	// explained is the contributions output, with parameters.explain.
	explained *explained
}

// appendAnswer appends a's InferResponse as JSON, the bytes encoding/json
// writes for it, without building the response or reflection. tmp is
// scratch memory for the classes parameter, returned for reuse. ok is false
// when a prediction is NaN or infinite (JSON has no such numbers).
func appendAnswer(b []byte, a *answer, tmp []byte) (_, _ []byte, ok bool) {
	n := len(a.preds) / max(a.k, 1)
	b = append(b, `{"model_name":`...)
	b = jsonw.String(b, a.model)
	b = append(b, `,"model_version":"`...)
	b = strconv.AppendInt(b, int64(a.version), 10)
	b = append(b, '"')
	if a.id != "" {
		b = append(b, `,"id":`...)
		b = jsonw.String(b, a.id)
	}
	b = append(b, `,"outputs":[`...)
	for i, name := range a.outputs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = jsonw.String(b, name)
		switch name {
		case OutputValue, OutputProbabilities:
			b = append(b, `,"datatype":"FP64","shape":[`...)
			b = strconv.AppendInt(b, int64(n), 10)
			if name == OutputProbabilities {
				b = append(b, ',')
				b = strconv.AppendInt(b, int64(a.k), 10)
				// The classes as a JSON array, itself quoted as a string.
				tmp = append(tmp[:0], '[')
				for j, c := range a.classes {
					if j > 0 {
						tmp = append(tmp, ',')
					}
					tmp = jsonw.String(tmp, c)
				}
				tmp = append(tmp, ']')
				b = append(b, `],"parameters":{"classes":`...)
				b = jsonw.String(b, unsafe.String(unsafe.SliceData(tmp), len(tmp)))
				b = append(b, '}')
			} else {
				b = append(b, ']')
			}
			b = append(b, `,"data":[`...)
			for j, f := range a.preds {
				if j > 0 {
					b = append(b, ',')
				}
				if b, ok = jsonw.Float(b, f); !ok {
					return b, tmp, false
				}
			}
			b = append(b, "]}"...)
		case OutputLabel:
			b = append(b, `,"datatype":"BYTES","shape":[`...)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, `],"data":[`...)
			for r := range n {
				if r > 0 {
					b = append(b, ',')
				}
				b = jsonw.String(b, a.classes[artifact.Best(a.preds[r*a.k:(r+1)*a.k])])
			}
			b = append(b, "]}"...)
		}
	}
	if a.explained != nil {
		if len(a.outputs) > 0 {
			b = append(b, ',')
		}
		if b, ok = appendContributions(b, a.explained); !ok {
			return b, tmp, false
		}
	}
	return append(b, "]}"...), tmp, true
}
