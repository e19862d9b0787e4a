package oip

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// referenceElems decodes data as flatten's general path does; ok is false
// when data is not a flat array of scalars.
func referenceElems(data []byte) (out []elem, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	list, isList := v.([]any)
	if !isList {
		return nil, false
	}
	out = []elem{}
	for _, e := range list {
		switch e.(type) {
		case []any, map[string]any:
			return nil, false
		}
		out = append(out, elemOf(e))
	}
	return out, true
}

func checkScanFlat(t *testing.T, data []byte) {
	if !json.Valid(data) {
		return // flatten only sees checked values
	}
	want, wantOK := referenceElems(data)
	got, ok := scanFlat(data, nil)
	if ok != wantOK {
		t.Fatalf("%q: scanFlat ok=%v, the decoder says flat=%v", data, ok, wantOK)
	}
	if ok && fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("%q:\n got %q\nwant %q", data, got, want)
	}
}

var scanSeeds = []string{
	`[]`, ` [ ] `, `[1]`, `[1,2.5,-3e-2,0]`, `[ 1 , 2 ]`, "[\n1,\t2\r]",
	`["a","b c",""]`, `["\"quoted\"","back\\slash","\u00e9","\ud83d\ude00","tab\there"]`,
	`["é","日本"]`, "[\"\xff\xfe\"]", `[true,false,null]`, `[null]`, `[1,"a",true,null]`,
	`[[1],[2]]`, `[1,[2]]`, `[{"a":1}]`, `{"a":[1]}`, `"x"`, `1`, `null`, `[1e400]`, `[-0]`,
	`["a,b","c]d","e\"]"]`,
}

func TestScanFlat(t *testing.T) {
	t.Parallel()
	for _, s := range scanSeeds {
		checkScanFlat(t, []byte(s))
	}
	// a flat array must take the fast path
	if _, ok := scanFlat([]byte(`[1, "a", null, true]`), nil); !ok {
		t.Error("a flat array of scalars was not scanned")
	}
}

// FuzzScanFlat compares scanFlat with encoding/json on any valid JSON.
func FuzzScanFlat(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkScanFlat)
}
