package oip

import (
	"encoding/json"

	"github.com/mlserve/mlserve/internal/jsonr"
)

// decodeEnvelope decodes the usual inference request without reflection:
// an object with "id" (a string), "inputs" (objects with "name",
// "shape", "datatype" and "data") and "outputs" (objects with "name"),
// keys spelled as the protocol spells them, each once, no nulls, no
// "parameters". ok is false for anything else (and for invalid JSON):
// the caller decodes it with encoding/json then, which also says what is
// wrong. When ok, req is what encoding/json would have decoded.
func decodeEnvelope(body []byte) (req *InferRequest, ok bool) {
	if !json.Valid(body) {
		return nil, false
	}
	d := jsonr.NewWalker(string(body))
	req = &InferRequest{}
	var shapes []int64 // every input's shape, in one array
	if !d.Object(func(key string) bool {
		switch key {
		case "id":
			if d.Peek() != '"' {
				return false
			}
			start := d.Pos()
			d.SkipValue()
			req.ID = json.RawMessage(body[start:d.Pos()])
			return true
		case "inputs":
			return d.Array(func() bool {
				var in RequestInput
				if !d.Object(func(key string) bool { return input(&d, key, &in, body, &shapes) }) {
					return false
				}
				if req.Inputs == nil {
					req.Inputs = make([]RequestInput, 0, 8)
				}
				req.Inputs = append(req.Inputs, in)
				return true
			}, func() { req.Inputs = []RequestInput{} })
		case "outputs":
			return d.Array(func() bool {
				var out RequestOutput
				if !d.Object(func(key string) bool {
					if key != "name" {
						return false
					}
					var ok bool
					out.Name, ok = d.Str()
					return ok
				}) {
					return false
				}
				req.Outputs = append(req.Outputs, out)
				return true
			}, func() { req.Outputs = []RequestOutput{} })
		}
		return false
	}) {
		return nil, false
	}
	return req, d.Done()
}

// input decodes one key of an input tensor. A shape's numbers are appended
// to shapes, which in.Shape then slices.
func input(d *jsonr.Walker, key string, in *RequestInput, body []byte, shapes *[]int64) bool {
	var ok bool
	switch key {
	case "name":
		in.Name, ok = d.Str()
	case "datatype":
		in.Datatype, ok = d.Str()
	case "shape":
		if *shapes == nil {
			*shapes = make([]int64, 0, 16)
		}
		start := len(*shapes)
		ok := d.Array(func() bool {
			n, ok := d.Int64()
			*shapes = append(*shapes, n)
			return ok
		}, func() {})
		end := len(*shapes)
		in.Shape = (*shapes)[start:end:end]
		return ok
	case "data":
		if d.Peek() == 'n' { // null
			return false
		}
		start := d.Pos()
		d.SkipValue()
		in.Data, in.dataText = json.RawMessage(body[start:d.Pos()]), d.Since(start)
		return true
	}
	return ok
}
