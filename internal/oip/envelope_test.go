package oip

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

var envelopeSeeds = []string{
	`{"inputs":[{"name":"class","shape":[1],"datatype":"INT64","data":[1]}]}`,
	`{"id":"r1","inputs":[{"name":"age","shape":[2,1],"datatype":"FP64","data":[[22],[null]]},{"name":"sex","shape":[2],"datatype":"BYTES","data":["male","female"]}],"outputs":[{"name":"label"}]}`,
	` { "inputs" : [ { "name" : "a" , "shape" : [ 3 ] , "datatype" : "FP64" , "data" : [ 1 , 2.5 , -3e2 ] } ] } `,
	`{"inputs":[]}`, `{"inputs":[{"shape":[]}]}`, `{"outputs":[]}`, `{}`, `[]`, `"x"`, ``,
	`{"inputs":null}`, `{"inputs":[null]}`, `{"outputs":[null],"inputs":[]}`, `{"inputs":[{"name":"a","shape":[null],"data":[1]}]}`, `{"id":null,"inputs":[]}`, `{"id":5,"inputs":[]}`, `{"Inputs":[]}`,
	`{"inputs":[],"inputs":[{"name":"a"}]}`, `{"inputs":[{"name":"a\u0062","shape":[1],"data":[1]}]}`,
	`{"inputs":[{"name":"é","shape":[1],"data":[1]}]}`, `{"inputs":[{"name":"a","shape":[1.0],"data":[1]}]}`,
	`{"inputs":[{"name":"a","shape":[1e2],"data":[1]}]}`, `{"inputs":[{"name":"a","shape":[-1],"data":[1]}]}`,
	`{"inputs":[{"name":"a","shape":[99999999999999999999],"data":[1]}]}`,
	`{"inputs":[{"name":"a","shape":[1],"data":{"b":[1,"]}"]}}]}`, `{"inputs":[{"name":"a","data":"x"}]}`,
	`{"inputs":[{"name":"a","data":true}],"parameters":{"k":1}}`, `{"inputs":[{"name":"a","parameters":{}}]}`,
	`{"inputs":[{"name":"a","data":[1]}]} x`, `{"inputs":[{"name":"a","data":[1]}]}{}`,
	`{"outputs":[{"name":"label","parameters":{"binary_data":true}}],"inputs":[]}`, `{"outputs":[{}]}`,
	`{"inputs":[{"name":"a","shape":[1],"datatype":"FP64","data":[1],"extra":2}]}`,
}

// checkEnvelope compares decodeEnvelope with encoding/json on body.
func checkEnvelope(t *testing.T, body []byte) {
	got, ok := decodeEnvelope(body)
	if !ok {
		return // encoding/json decodes it
	}
	var want InferRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&want); err != nil || dec.More() {
		t.Fatalf("%q: decodeEnvelope took it, encoding/json says %v (more: %v)", body, err, dec.More())
	}
	for i := range got.Inputs {
		in := &got.Inputs[i]
		if in.dataText != string(in.Data) {
			t.Fatalf("%q: input %d: data text %q, data %q", body, i, in.dataText, in.Data)
		}
		in.dataText = "" // encoding/json does not set it
	}
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", body, got, &want)
	}
}

func TestDecodeEnvelope(t *testing.T) {
	t.Parallel()
	for _, s := range envelopeSeeds {
		checkEnvelope(t, []byte(s))
	}
	// the usual requests take the fast path
	for _, s := range envelopeSeeds[:3] {
		if _, ok := decodeEnvelope([]byte(s)); !ok {
			t.Errorf("%s: not decoded", s)
		}
	}
}

// FuzzDecodeEnvelope compares decodeEnvelope with encoding/json.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkEnvelope)
}
