package oip

import (
	"encoding/json"
	"strconv"
	"strings"
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
	d := envDecoder{s: string(body)}
	req = &InferRequest{}
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
				if !d.object(func(key string) bool { return d.input(key, &in, body) }) {
					return false
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

// input decodes one key of an input tensor.
func (d *envDecoder) input(key string, in *RequestInput, body []byte) bool {
	var ok bool
	switch key {
	case "name":
		in.Name, ok = d.str()
	case "datatype":
		in.Datatype, ok = d.str()
	case "shape":
		return d.array(func() bool {
			n, ok := d.int64()
			in.Shape = append(in.Shape, n)
			return ok
		}, func() { in.Shape = []int64{} })
	case "data":
		if d.peek() == 'n' { // null
			return false
		}
		start := d.i
		d.skipValue()
		in.Data = json.RawMessage(body[start:d.i])
		return true
	}
	return ok
}

// envDecoder walks JSON already checked to be valid.
type envDecoder struct {
	s string
	i int
}

func (d *envDecoder) skipSpace() int {
	for d.i < len(d.s) && isSpace(d.s[d.i]) {
		d.i++
	}
	return d.i
}

// peek returns the next value's first byte.
func (d *envDecoder) peek() byte {
	if d.skipSpace() < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

// object walks an object, calling field for each key with d before the
// key's value; field returns false to give up. A key seen twice gives up.
func (d *envDecoder) object(field func(key string) bool) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	var seenBuf [8]string
	seen := seenBuf[:0]
	if d.peek() == '}' {
		d.i++
		return true
	}
	for {
		key, ok := d.str()
		if !ok {
			return false
		}
		for _, k := range seen {
			if k == key {
				return false
			}
		}
		seen = append(seen, key)
		if d.peek() != ':' {
			return false
		}
		d.i++
		if d.peek() == 'n' || !field(key) { // a null value, or one field cannot take
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// array walks an array, calling elem before each element; empty is called
// for an empty array.
func (d *envDecoder) array(elem func() bool, empty func()) bool {
	if d.peek() != '[' {
		return false
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		empty()
		return true
	}
	for {
		if d.peek() == 'n' || !elem() {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

// str decodes a string without escapes; others give up.
func (d *envDecoder) str() (string, bool) {
	if d.peek() != '"' {
		return "", false
	}
	end := strings.IndexByte(d.s[d.i+1:], '"')
	if end < 0 {
		return "", false
	}
	s := d.s[d.i+1 : d.i+1+end]
	for j := 0; j < len(s); j++ {
		if c := s[j]; c == '\\' || c < 0x20 || c >= 0x80 {
			return "", false // escapes or non-ASCII: encoding/json decides
		}
	}
	d.i += end + 2
	return s, true
}

// int64 decodes a whole number written without fraction or exponent.
func (d *envDecoder) int64() (int64, bool) {
	d.skipSpace()
	start := d.i
	for d.i < len(d.s) && (d.s[d.i] == '-' || '0' <= d.s[d.i] && d.s[d.i] <= '9') {
		d.i++
	}
	n, err := strconv.ParseInt(d.s[start:d.i], 10, 64)
	return n, err == nil
}

// skipValue moves past one value.
func (d *envDecoder) skipValue() {
	d.skipSpace()
	depth := 0
	for d.i < len(d.s) {
		switch c := d.s[d.i]; c {
		case '"':
			d.i = stringEnd(d.s, d.i)
			if depth == 0 {
				return
			}
			continue
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return // the end of the container around a scalar
			}
			depth--
			if depth == 0 {
				d.i++
				return
			}
		case ',':
			if depth == 0 {
				return
			}
		default:
			if depth == 0 && isSpace(c) {
				return
			}
		}
		d.i++
	}
}
