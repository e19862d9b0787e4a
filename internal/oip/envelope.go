package oip

import "encoding/json"

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
	d := walker{s: string(body)}
	req = &InferRequest{}
	var shapes []int64 // every input's shape, in one array
	if !d.object(func(key string) bool {
		switch key {
		case "id":
			if d.peek() != '"' {
				return false
			}
			start := d.i
			d.skipValue()
			req.ID = json.RawMessage(body[start:d.i])
			return true
		case "inputs":
			return d.array(func() bool {
				var in RequestInput
				if !d.object(func(key string) bool { return d.input(key, &in, body, &shapes) }) {
					return false
				}
				if req.Inputs == nil {
					req.Inputs = make([]RequestInput, 0, 8)
				}
				req.Inputs = append(req.Inputs, in)
				return true
			}, func() { req.Inputs = []RequestInput{} })
		case "outputs":
			return d.array(func() bool {
				var out RequestOutput
				if !d.object(func(key string) bool {
					if key != "name" {
						return false
					}
					var ok bool
					out.Name, ok = d.str()
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
	return req, d.skipSpace() == len(d.s)
}

// input decodes one key of an input tensor. A shape's numbers are appended
// to shapes, which in.Shape then slices.
func (d *walker) input(key string, in *RequestInput, body []byte, shapes *[]int64) bool {
	var ok bool
	switch key {
	case "name":
		in.Name, ok = d.str()
	case "datatype":
		in.Datatype, ok = d.str()
	case "shape":
		if *shapes == nil {
			*shapes = make([]int64, 0, 16)
		}
		start := len(*shapes)
		ok := d.array(func() bool {
			n, ok := d.int64()
			*shapes = append(*shapes, n)
			return ok
		}, func() {})
		end := len(*shapes)
		in.Shape = (*shapes)[start:end:end]
		return ok
	case "data":
		if d.peek() == 'n' { // null
			return false
		}
		start := d.i
		d.skipValue()
		in.Data, in.dataText = json.RawMessage(body[start:d.i]), d.s[start:d.i]
		return true
	}
	return ok
}
