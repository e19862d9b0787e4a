package api

import (
	"net/http"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/schema"
)

// explainParam is the query parameter that asks for explanations.
const explainParam = "explain"

// takeExplain finds the explain parameter among ps and removes it, unless
// the model has an input column of that name (then it is that feature and
// explanations are off). It fails on a value other than true/false/1/0.
func takeExplain(ps []param, m *artifact.Model) (_ []param, explain bool, _ *httpx.Error) {
	for i, p := range ps {
		if p.name != explainParam {
			continue
		}
		if m.Schema().Index(explainParam) >= 0 {
			return ps, false, nil
		}
		ps = append(ps[:i], ps[i+1:]...)
		switch {
		case p.count > 1:
			return ps, false, badFields(schema.FieldErrors{explainParam: "is given more than once"})
		case p.value == "true" || p.value == "1":
			return ps, true, nil
		case p.value == "false" || p.value == "0" || p.value == "":
			return ps, false, nil
		}
		return ps, false, badFields(schema.FieldErrors{explainParam: "must be true or false"})
	}
	return ps, false, nil
}

// appendExplained predicts row into out and appends its prediction JSON
// with an "explanation" field. ok is false when a value JSON cannot carry
// it; err when the model cannot explain.
func appendExplained(b []byte, m *artifact.Model, row schema.Row, out []float64) (_ []byte, ok bool, _ *httpx.Error) {
	e, err := m.Explain(row, out)
	if err != nil {
		return b, false, httpx.Errorf(http.StatusUnprocessableEntity, "cannot_explain", "%v", err)
	}
	start := len(b)
	if b, ok = m.AppendPrediction(b, out); !ok {
		return b, false, nil
	}
	b = append(b[:len(b)-1], `,"explanation":`...) // reopen the object
	if b, ok = e.AppendJSON(b); !ok {
		return b[:start], false, nil
	}
	return append(b, '}'), true, nil
}
