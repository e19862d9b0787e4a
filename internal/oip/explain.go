package oip

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/jsonw"
	"github.com/mlserve/mlserve/internal/schema"
)

// OutputContributions is the output an infer request with parameters
// {"explain": true} gets besides the predictions: each row's contribution
// of each input column to its raw score(s).
const OutputContributions = "contributions"

// explainParam reads the request's "explain" parameter: a JSON boolean.
func explainParam(ps map[string]json.RawMessage) (bool, error) {
	raw, ok := ps["explain"]
	if !ok {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, bad("parameters.explain must be true or false")
	}
	return b, nil
}

// explained is the contributions output of an answer.
type explained struct {
	shape   []int     // [n, columns], or [n, classes, columns] for multiclass
	data    []float64 // row-major in shape
	columns []string
	base    []float64 // one per raw score
	link    string
}

// explainRows explains every row (out is scratch of the model's outputs).
func explainRows(m *artifact.Model, rows []schema.Row) (*explained, error) {
	ex := &explained{}
	out := make([]float64, m.Outputs())
	for _, row := range rows {
		e, err := m.Explain(row, out)
		if err != nil {
			return nil, errorf(http.StatusUnprocessableEntity, "%v", err)
		}
		if ex.columns == nil {
			ex.columns, ex.base, ex.link = e.Columns, e.Base, e.Link
		}
		for _, cs := range e.Contributions {
			ex.data = append(ex.data, cs...)
		}
	}
	ex.shape = []int{len(rows), len(ex.columns)}
	if len(ex.base) > 1 {
		ex.shape = []int{len(rows), len(ex.base), len(ex.columns)}
	}
	return ex, nil
}

// appendContributions appends the contributions output tensor: FP64 data
// in shape, with parameters columns (a JSON array, as a string), base
// (the base of each raw score, likewise) and link.
func appendContributions(b []byte, ex *explained) (_ []byte, ok bool) {
	b = append(b, `{"name":"contributions","datatype":"FP64","shape":[`...)
	for i, d := range ex.shape {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	cols, err := json.Marshal(ex.columns)
	if err != nil {
		return b, false
	}
	base, err := json.Marshal(ex.base)
	if err != nil {
		return b, false
	}
	b = append(b, `],"parameters":{"base":`...)
	b = jsonw.String(b, string(base))
	b = append(b, `,"columns":`...)
	b = jsonw.String(b, string(cols))
	b = append(b, `,"link":`...)
	b = jsonw.String(b, ex.link)
	b = append(b, `},"data":[`...)
	for j, f := range ex.data {
		if j > 0 {
			b = append(b, ',')
		}
		if b, ok = jsonw.Float(b, f); !ok {
			return b, false
		}
	}
	return append(b, "]}"...), true
}
