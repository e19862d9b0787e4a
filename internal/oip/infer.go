package oip

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/didyoumean"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/serving"
)

// Tensor data types of the protocol that mlserve uses in its metadata.
const (
	FP64  = "FP64"
	INT64 = "INT64"
	BYTES = "BYTES"
	BOOL  = "BOOL"
)

// Output tensor names.
const (
	OutputLabel         = "label"
	OutputProbabilities = "probabilities"
	OutputValue         = "value"
)

// Datatype is the tensor data type of a column type: number FP64, integer
// INT64, category and timestamp (ISO 8601 text) BYTES, boolean BOOL.
func Datatype(t schema.Type) string {
	switch t {
	case schema.Number:
		return FP64
	case schema.Integer:
		return INT64
	case schema.Boolean:
		return BOOL
	}
	return BYTES
}

// intRange bounds the integer data types.
var intRange = map[string][2]float64{
	"INT8": {math.MinInt8, math.MaxInt8}, "INT16": {math.MinInt16, math.MaxInt16},
	"INT32": {math.MinInt32, math.MaxInt32}, "INT64": {math.MinInt64, math.MaxInt64},
	"UINT8": {0, math.MaxUint8}, "UINT16": {0, math.MaxUint16}, "UINT32": {0, math.MaxUint32}, "UINT64": {0, math.MaxUint64},
}

// Datatypes are the protocol's tensor data types.
var Datatypes = []string{"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"}

func isFloat(dt string) bool { return dt == "FP16" || dt == "FP32" || dt == FP64 }

// Accepts lists the data types an input of a column type may be sent as:
// the column's own (Datatype) first. Numbers take any numeric type,
// categories BYTES or an integer type (for integer labels), booleans BOOL.
// The slice is shared: callers must not change it.
func Accepts(t schema.Type) []string {
	switch t {
	case schema.Number:
		return acceptsNumber
	case schema.Integer:
		return acceptsInteger
	case schema.Boolean:
		return acceptsBoolean
	case schema.Timestamp:
		return acceptsTimestamp
	}
	return acceptsCategory
}

var (
	intTypes         = []string{"INT64", "INT32", "INT16", "INT8", "UINT64", "UINT32", "UINT16", "UINT8"}
	acceptsNumber    = slices.Concat([]string{FP64, "FP32", "FP16"}, intTypes)
	acceptsInteger   = slices.Concat(intTypes, []string{FP64, "FP32", "FP16"})
	acceptsBoolean   = []string{BOOL}
	acceptsTimestamp = []string{BYTES}
	acceptsCategory  = slices.Concat([]string{BYTES}, intTypes)
)

// InferRequest is the body of POST …/infer.
type InferRequest struct {
	ID         json.RawMessage            `json:"id,omitempty"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
	Inputs     []RequestInput             `json:"inputs"`
	Outputs    []RequestOutput            `json:"outputs,omitempty"`
}

// RequestInput is one input tensor of an inference request.
type RequestInput struct {
	Name       string                     `json:"name"`
	Shape      []int64                    `json:"shape"`
	Datatype   string                     `json:"datatype"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
	Data       json.RawMessage            `json:"data"`

	// dataText is Data as text, when decodeEnvelope has it: a substring
	// of its copy of the body, which element texts can share.
	dataText string
}

// RequestOutput names an output the caller wants.
type RequestOutput struct {
	Name       string                     `json:"name"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
}

// InferResponse is the answer of POST …/infer.
type InferResponse struct {
	ModelName    string           `json:"model_name"`
	ModelVersion string           `json:"model_version"`
	ID           string           `json:"id,omitempty"`
	Outputs      []ResponseOutput `json:"outputs"`
}

// ResponseOutput is one output tensor of an inference response.
type ResponseOutput struct {
	Name       string         `json:"name"`
	Datatype   string         `json:"datatype"`
	Shape      []int          `json:"shape"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       any            `json:"data"`
}

func bad(format string, args ...any) *Error { return errorf(http.StatusBadRequest, format, args...) }

// headerBinary marks a request in the binary tensor data extension.
const headerBinary = "Inference-Header-Content-Length"

// InferCall is one inference request: what the route's path, headers and
// body say.
type InferCall struct {
	// Name is the model; Version is a version's number as the path gives
	// it, or "" for the production version.
	Name, Version string
	Body          []byte
	// RequestID is the request's id: the response's "id" when the request
	// has none.
	RequestID string
	// BinaryExtension is set when the request has an
	// Inference-Header-Content-Length header (refused: not supported).
	BinaryExtension bool
}

// Infer answers an inference request into rp, which it resets first (the
// inference routes of ServingRoutes).
func (s *Server) Infer(ctx context.Context, call *InferCall, rp *httpx.Reply) {
	rp.Reset()
	if err := s.infer(ctx, call, rp); err != nil {
		path := "/v2/models/" + call.Name + "/infer"
		if call.Version != "" {
			path = "/v2/models/" + call.Name + "/versions/" + call.Version + "/infer"
		}
		s.setError(ctx, rp, err, call.RequestID, path)
	}
}

func (s *Server) infer(ctx context.Context, call *InferCall, rp *httpx.Reply) error {
	md, err := s.resolve(ctx, call.Name, call.Version, rp)
	if err != nil {
		return err
	}
	if call.BinaryExtension {
		return bad("the binary tensor data extension is not supported: send the whole request as JSON (no %s)", headerBinary)
	}
	req, err := decodeRequest(call.Body)
	if err != nil {
		return err
	}
	scr := scratches.Get()
	defer scratches.Put(scr)
	rows, err := s.rows(md, req, scr)
	if err != nil {
		return err
	}
	outputs, err := wantedOutputs(md, req.Outputs)
	if err != nil {
		return err
	}
	explain, err := explainParam(req.Parameters)
	if err != nil {
		return err
	}
	id := call.RequestID
	if len(req.ID) > 0 {
		json.Unmarshal(req.ID, &id) // checked by decodeRequest
	}
	m := md.m
	n, w, k := len(rows), m.Width(), m.Outputs()
	scr.x, scr.out = serving.Grow(scr.x, n*w), serving.Grow(scr.out, n*k)
	artifact.Chunks(n, artifact.ChunkRows, func(lo, hi int) {
		m.PredictRows(rows[lo:hi], scr.x[lo*w:hi*w], scr.out[lo*k:hi*k])
	})
	a := answer{model: md.name, version: md.version, id: id, outputs: outputs, classes: m.Classes(), preds: scr.out, k: k}
	if explain {
		if a.explained, err = explainRows(m, rows); err != nil {
			return err
		}
	}
	body, text, ok := appendAnswer(rp.Body[:0], &a, scr.text)
	scr.text = text
	if !ok { // a NaN or an infinity from a broken model
		return fmt.Errorf("encode the answer of %s version %d: a prediction is not a finite number", md.name, md.version)
	}
	rp.Status, rp.Body, rp.Rows = http.StatusOK, append(body, '\n'), n
	return nil
}

// decodeRequest parses and checks the request's envelope (not its data).
func decodeRequest(body []byte) (*InferRequest, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, bad(`request body is empty: send {"inputs": [{"name": …, "shape": [n], "datatype": …, "data": […]}, …]}`)
	}
	if req, ok := decodeEnvelope(body); ok {
		return checkRequest(req)
	}
	var req InferRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		var ute *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &ute) && ute.Field == "":
			return nil, bad("request body must be a JSON object with \"inputs\"")
		case errors.As(err, &ute):
			return nil, bad("%s: a JSON %s does not fit here (want %s)", ute.Field, ute.Value, jsonKind(ute.Type.String()))
		case errors.As(err, &se):
			return nil, bad("request body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
		}
		return nil, bad("request body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return nil, bad("request body has data after the JSON object")
	}
	return checkRequest(&req)
}

// checkRequest checks a decoded request's id and inputs.
func checkRequest(req *InferRequest) (*InferRequest, error) {
	if len(req.ID) > 0 {
		var id string
		if err := json.Unmarshal(req.ID, &id); err != nil {
			return nil, bad("id must be a string")
		}
	}
	if len(req.Inputs) == 0 {
		return nil, bad(`"inputs" is missing or empty: send one input tensor per feature column`)
	}
	return req, nil
}

// rows checks the input tensors against the model's schema and coerces
// them into typed rows. Every problem names its input.
func (s *Server) rows(md *model, req *InferRequest, scr *scratch) ([]schema.Row, error) {
	c := md.m.Schema()
	sc := c.Schema()
	target := sc.TargetIndex()
	byCol := slices.Grow(scr.byCol[:0], c.Len())[:c.Len()]
	clear(byCol)
	scr.byCol = byCol
	n := -1
	var nFrom string
	for idx := range req.Inputs {
		in := &req.Inputs[idx]
		if in.Name == "" {
			return nil, bad("inputs[%d] has no name", idx)
		}
		i := c.Index(in.Name)
		switch {
		case i < 0:
			names := featureNames(sc)
			return nil, bad("input %q is not an input of model %s%s; inputs: %s", in.Name, md.name, didyoumean.Suffix(in.Name, names), strings.Join(names, ", "))
		case i == target:
			return nil, bad("input %q is the target of model %s; leave it out of an inference request", in.Name, md.name)
		case byCol[i] != nil:
			return nil, bad("input %q is given more than once", in.Name)
		}
		byCol[i] = in
		rows, err := batchSize(in)
		if err != nil {
			return nil, err
		}
		if n >= 0 && rows != n {
			return nil, bad("input %q has %d rows but input %q has %d; every input needs one element per row", in.Name, rows, nFrom, n)
		}
		n, nFrom = rows, in.Name
	}
	if n == 0 {
		return nil, bad("input %q has no rows (shape [0])", nFrom)
	}
	if n > s.cfg.MaxBatch {
		return nil, errorf(http.StatusRequestEntityTooLarge, "%d rows is over the limit of %d per request; split the batch", n, s.cfg.MaxBatch)
	}
	width := c.Len()
	slab := slices.Grow(scr.slab[:0], n*width)[:n*width]
	clear(slab)
	rows := slices.Grow(scr.rows[:0], n)[:n]
	scr.slab, scr.rows = slab, rows
	for r := range rows {
		rows[r] = slab[r*width : (r+1)*width]
		if target >= 0 {
			rows[r][target].Missing = true
		}
	}
	var msgs []string
	for i := range width {
		col := c.Column(i)
		if i == target || col.Ignore {
			for r := range rows {
				rows[r][i] = schema.Value{Missing: true}
			}
			continue
		}
		in := byCol[i]
		if in == nil {
			if !col.Nullable {
				return nil, bad("input %q is missing (datatype %s, shape [n]): %s", col.Name, Datatype(col.Type), c.Rule(i))
			}
			for r := range rows {
				rows[r][i] = schema.Value{Missing: true}
			}
			continue
		}
		if !slices.Contains(Datatypes, in.Datatype) {
			return nil, bad("input %q: datatype %q is not a tensor data type (%s)", in.Name, in.Datatype, strings.Join(Datatypes, ", "))
		}
		if !slices.Contains(Accepts(col.Type), in.Datatype) {
			return nil, bad("input %q: datatype %s does not fit its %s column; send %s", in.Name, in.Datatype, col.Type, strings.Join(Accepts(col.Type), " or "))
		}
		elems, err := flatten(in, scr.elems[:0])
		if err != nil {
			return nil, err
		}
		scr.elems = elems
		for r, e := range elems {
			text, missing, msg := elemText(e, in.Datatype)
			if msg == "" {
				var v schema.Value
				v, msg = c.Coerce(i, text, missing)
				rows[r][i] = v
			}
			if msg != "" {
				msgs = append(msgs, fmt.Sprintf("input %q element %d: %s", in.Name, r, msg))
			}
		}
	}
	if len(msgs) > 0 {
		const show = 10
		more := ""
		if len(msgs) > show {
			more = fmt.Sprintf(" (and %d more)", len(msgs)-show)
			msgs = msgs[:show]
		}
		return nil, bad("invalid input: %s%s", strings.Join(msgs, "; "), more)
	}
	return rows, nil
}

// featureNames lists a schema's feature columns, for error messages.
func featureNames(sc schema.Schema) []string {
	var names []string
	for _, i := range sc.Features() {
		names = append(names, sc.Columns[i].Name)
	}
	return names
}

// batchSize checks an input's shape, which must be [n] or [n, 1], and
// returns n.
func batchSize(in *RequestInput) (int, error) {
	for _, d := range in.Shape {
		if d < 0 {
			return 0, bad("input %q: shape %v has a negative dimension", in.Name, in.Shape)
		}
	}
	switch {
	case len(in.Shape) == 1, len(in.Shape) == 2 && in.Shape[1] == 1:
		if in.Shape[0] > math.MaxInt32 {
			return 0, bad("input %q: shape %v is too large", in.Name, in.Shape)
		}
		return int(in.Shape[0]), nil
	case len(in.Shape) == 0:
		return 0, bad("input %q has no shape: send \"shape\": [n] for n rows", in.Name)
	}
	return 0, bad("input %q: shape %v is not [n] (one element per row)", in.Name, in.Shape)
}

// flatten decodes an input's data and returns its elements in row order,
// in buf's memory when it is large enough.
// Data may be flat or nested as the shape says ([[x], [y]] for [2, 1]).
func flatten(in *RequestInput, buf []elem) ([]elem, error) {
	if len(in.Data) == 0 {
		return nil, bad("input %q has no data", in.Name)
	}
	want := 1
	for _, d := range in.Shape {
		want *= int(d)
	}
	if cap(buf) < want {
		buf = make([]elem, 0, min(want, 1<<16))
	}
	text := in.dataText
	if text == "" {
		text = string(in.Data) // one copy: every element's text is a substring of it
	}
	if elems, ok := scanFlatText(text, buf[:0]); ok {
		if len(elems) != want {
			return nil, bad("input %q: data has %d elements, shape %v needs %d", in.Name, len(elems), in.Shape, want)
		}
		return elems, nil
	}
	dec := json.NewDecoder(bytes.NewReader(in.Data))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return nil, bad("input %q: data is not valid JSON: %v", in.Name, err)
	}
	list, ok := data.([]any)
	if !ok {
		return nil, bad("input %q: data must be an array", in.Name)
	}
	nested := slices.ContainsFunc(list, func(e any) bool { _, ok := e.([]any); return ok })
	if !nested {
		if len(list) != want {
			return nil, bad("input %q: data has %d elements, shape %v needs %d", in.Name, len(list), in.Shape, want)
		}
		out := make([]elem, len(list))
		for i, v := range list {
			out[i] = elemOf(v)
		}
		return out, nil
	}
	// Natural form: one level per dimension.
	out := make([]elem, 0, want)
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		if depth == len(in.Shape) {
			if _, isList := v.([]any); isList {
				return bad("input %q: data is nested deeper than shape %v", in.Name, in.Shape)
			}
			out = append(out, elemOf(v))
			return nil
		}
		l, ok := v.([]any)
		if !ok || int64(len(l)) != in.Shape[depth] {
			return bad("input %q: data does not match shape %v (flat, or nested one level per dimension)", in.Name, in.Shape)
		}
		for _, e := range l {
			if err := walk(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(list, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// elemText checks one element against its data type and returns its text
// for schema coercion; null is a missing value.
func elemText(e elem, dt string) (text string, missing bool, msg string) {
	if e.kind == elemNull {
		return "", true, ""
	}
	switch dt {
	case BOOL:
		switch e.kind {
		case elemTrue:
			return "true", false, ""
		case elemFalse:
			return "false", false, ""
		}
		return "", false, "BOOL elements must be true or false"
	case BYTES:
		if e.kind == elemString {
			return e.text, false, ""
		}
		return "", false, "BYTES elements must be strings"
	}
	if e.kind != elemNumber {
		return "", false, dt + " elements must be numbers"
	}
	if isFloat(dt) {
		return e.text, false, ""
	}
	f, err := strconv.ParseFloat(e.text, 64)
	if err != nil || f != math.Trunc(f) {
		return "", false, dt + " elements must be whole numbers"
	}
	if rg := intRange[dt]; f < rg[0] || f > rg[1] {
		return "", false, fmt.Sprintf("%s is out of the range of %s", e.text, dt)
	}
	return e.text, false, ""
}

// The outputs of each kind of model, in the order an answer lists them
// when the request names none. Shared: callers must not change them.
var (
	classifierOutputs = []string{OutputLabel, OutputProbabilities}
	regressorOutputs  = []string{OutputValue}
)

// wantedOutputs returns the names of the outputs to send: those requested,
// in their order, or all of the model's (a shared slice).
func wantedOutputs(md *model, req []RequestOutput) ([]string, error) {
	all := classifierOutputs
	if md.m.Task() == ml.Regression {
		all = regressorOutputs
	}
	if len(req) == 0 {
		return all, nil
	}
	var out []string
	for _, o := range req {
		if !slices.Contains(all, o.Name) {
			return nil, bad("output %q is not an output of model %s; outputs: %s", o.Name, md.name, strings.Join(all, ", "))
		}
		if !slices.Contains(out, o.Name) {
			out = append(out, o.Name)
		}
	}
	return out, nil
}

// jsonKind names the JSON a Go field type takes.
func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "oip."):
		return "an object"
	case strings.HasPrefix(goType, "int"):
		return "a whole number"
	}
	return "a " + goType
}
