package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/schema"
)

// PredictResponse is the answer of /v1/models/{name}/predict.
type PredictResponse struct {
	Model       string                `json:"model"`
	Version     int                   `json:"version"`
	Predictions []artifact.Prediction `json:"predictions"`
}

// queryRaw turns query parameters into raw values; a repeated parameter is
// an error.
func queryRaw(q url.Values) (map[string]schema.Raw, schema.FieldErrors) {
	raw := make(map[string]schema.Raw, len(q))
	var fe schema.FieldErrors
	for k, vs := range q {
		if len(vs) > 1 {
			if fe == nil {
				fe = schema.FieldErrors{}
			}
			fe[k] = "is given more than once"
			continue
		}
		raw[k] = schema.Raw{Text: vs[0]}
	}
	return raw, fe
}

func badFields(fe schema.FieldErrors) error {
	return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_input", Message: "invalid input: " + fe.Error(), Fields: fe}
}

// handlePrototype serves the prototype's route: GET /?class=1&sex=F&age=22
// on the first pipeline, answering the probability of the positive class in
// the prototype's envelope.
func (s *Server) handlePrototype(w http.ResponseWriter, r *http.Request) {
	if len(s.pipelines) == 0 {
		httpx.WriteError(w, r, s.logger, httpx.Errorf(http.StatusNotFound, "not_found", "no pipeline is configured"))
		return
	}
	p := &s.pipelines[0]
	q := r.URL.Query()
	args := map[string]any{}
	for _, i := range p.Schema.Features() {
		name := p.Schema.Columns[i].Name
		if vs, ok := q[name]; ok {
			args[name] = vs[0]
		} else {
			args[name] = nil
		}
	}
	for k, vs := range q {
		if _, ok := args[k]; !ok {
			args[k] = vs[0]
		}
	}
	sv, err := s.served(p.Name)
	if err != nil {
		var he *httpx.Error
		errors.As(err, &he)
		writePrototype(w, he.Status, he.Message, args, 0)
		return
	}
	raw, fe := queryRaw(q)
	var pred []float64
	if fe == nil {
		pred, fe = predictOne(sv.Model, raw)
	}
	if fe != nil {
		writePrototype(w, http.StatusBadRequest, map[string]string(fe), args, 0)
		return
	}
	writePrototype(w, http.StatusOK, "OK", args, sv.Model.PositiveProbability(pred))
}

func writePrototype(w http.ResponseWriter, status int, msg any, args map[string]any, result float64) {
	httpx.WriteJSON(w, status, map[string]any{
		"data":    map[string]any{"result": result},
		"message": map[string]any{"status_code": status, "status_message": msg, "args": args},
	})
}

// predictOne coerces and predicts one instance, returning the raw output.
func predictOne(m *artifact.Model, raw map[string]schema.Raw) ([]float64, schema.FieldErrors) {
	row := make(schema.Row, m.Schema().Len())
	if fe := m.CoerceFeatures(raw, row); fe != nil {
		return nil, fe
	}
	out := make([]float64, m.Outputs())
	m.PredictRow(row, out)
	return out, nil
}

func (s *Server) handlePredictGet(w http.ResponseWriter, r *http.Request) {
	sv, err := s.served(r.PathValue("name"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	raw, fe := queryRaw(r.URL.Query())
	if fe != nil {
		s.writeErr(w, r, badFields(fe))
		return
	}
	pred, fe := sv.Model.Predict(raw)
	if fe != nil {
		s.writeErr(w, r, badFields(fe))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, &PredictResponse{Model: sv.Pipeline, Version: sv.Version.Version, Predictions: []artifact.Prediction{pred}})
}

func (s *Server) handlePredictPost(w http.ResponseWriter, r *http.Request) {
	sv, err := s.served(r.PathValue("name"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.LimitBody(w, r, s.maxBody)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	instances, err := decodeInstances(body)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if len(instances) > s.maxBatch {
		s.writeErr(w, r, httpx.Errorf(http.StatusRequestEntityTooLarge, "batch_too_large",
			"%d instances is over the limit of %d per request; split the batch", len(instances), s.maxBatch))
		return
	}
	m := sv.Model
	rows := make([]schema.Row, len(instances))
	slab := make([]schema.Value, len(instances)*m.Schema().Len())
	all := schema.FieldErrors{}
	for i, inst := range instances {
		raw, fe := schema.RawFromJSON(inst)
		rows[i] = slab[i*m.Schema().Len() : (i+1)*m.Schema().Len()]
		if fe == nil {
			fe = m.CoerceFeatures(raw, rows[i])
		}
		for k, msg := range fe {
			if len(instances) == 1 {
				all[k] = msg
			} else {
				all[fmt.Sprintf("instances[%d].%s", i, k)] = msg
			}
		}
	}
	if len(all) > 0 {
		s.writeErr(w, r, badFields(all))
		return
	}
	outs := m.PredictRows(rows)
	k := m.Outputs()
	preds := make([]artifact.Prediction, len(rows))
	for i := range rows {
		preds[i] = m.Format(outs[i*k : (i+1)*k])
	}
	httpx.WriteJSON(w, http.StatusOK, &PredictResponse{Model: sv.Pipeline, Version: sv.Version.Version, Predictions: preds})
}

// decodeInstances reads {"instances": [{…}, …]} or a single {…}.
func decodeInstances(body []byte) ([]map[string]any, error) {
	bad := func(msg string) error {
		return httpx.Errorf(http.StatusBadRequest, "bad_request", "%s", msg)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, bad(`body is empty: send {"instances": [{"column": value, …}]} or one {"column": value, …} object`)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return nil, bad(`body must be a JSON object: {"instances": [{"column": value, …}]} or one {"column": value, …}`)
		}
		return nil, bad("body is not valid JSON: " + strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return nil, bad("body has data after the JSON object")
	}
	inst, ok := top["instances"]
	if !ok {
		return []map[string]any{top}, nil
	}
	list, ok := inst.([]any)
	if !ok {
		return nil, bad(`"instances" must be an array of objects`)
	}
	if len(list) == 0 {
		return nil, bad(`"instances" is empty`)
	}
	out := make([]map[string]any, len(list))
	for i, it := range list {
		obj, ok := it.(map[string]any)
		if !ok {
			return nil, &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_input",
				Message: fmt.Sprintf("instances[%d] must be an object of column: value", i),
				Fields:  map[string]string{fmt.Sprintf("instances[%d]", i): "must be an object of column: value"}}
		}
		out[i] = obj
	}
	if keys := extraKeys(top); len(keys) > 0 {
		return nil, bad(fmt.Sprintf("unknown top-level key(s) %v next to \"instances\"", keys))
	}
	return out, nil
}

func extraKeys(top map[string]any) []string {
	var out []string
	for k := range top {
		if k != "instances" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
