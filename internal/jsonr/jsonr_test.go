package jsonr_test

import (
	"encoding/json"
	"testing"

	"github.com/mlserve/mlserve/internal/jsonr"
)

var texts = []string{
	`{"a": [1, -2.5e3, "x\u00e9\ud83d\ude00", true, false, null], "b": {}}`,
	`"\ud800 lone"`, "\"bad \xff byte\"", `"tab\t"`, `01`, `-`, `1.`, `1e`, `[1,]`, `{"a" 1}`,
	`{"a":1,}`, `[1 2]`, `tru`, `"\x"`, `""`, `0`, `[[[]]]`, `{"k":"v"}`,
}

// TestScannerAgreesWithEncodingJSON checks that the Scanner accepts what
// encoding/json accepts and unquotes strings as it does.
func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	for _, text := range texts {
		d := jsonr.NewScanner(text)
		err := d.SkipValue(0)
		d.Space()
		ok := err == nil && d.EOF()
		if ok != json.Valid([]byte(text)) {
			t.Errorf("%q: Scanner ok=%v (%v), json.Valid %v", text, ok, err, !ok)
		}
		var want string
		if json.Unmarshal([]byte(text), &want) == nil {
			d := jsonr.NewScanner(text)
			got, err := d.ReadString()
			if err != nil || got != want {
				t.Errorf("%q: ReadString %q, %v; encoding/json %q", text, got, err, want)
			}
		}
	}
}

// TestWalkerGivesUp checks that the Walker reads plain keys and strings
// and gives up at what it leaves to encoding/json.
func TestWalkerGivesUp(t *testing.T) {
	d := jsonr.NewWalker(` {"name": "x", "n": [1, 2]} `)
	var name string
	var ns []int64
	ok := d.Object(func(key string) bool {
		switch key {
		case "name":
			var ok bool
			name, ok = d.Str()
			return ok
		case "n":
			return d.Array(func() bool { n, ok := d.Int64(); ns = append(ns, n); return ok }, func() {})
		}
		return false
	})
	if !ok || !d.Done() || name != "x" || len(ns) != 2 || ns[1] != 2 {
		t.Errorf("walk: ok %v done %v name %q ns %v", ok, d.Done(), name, ns)
	}
	for _, text := range []string{`{"a":1,"a":2}`, `{"a":null}`, `{"a\n":1}`, `{"é":1}`} {
		d := jsonr.NewWalker(text)
		if d.Object(func(string) bool { d.SkipValue(); return true }) {
			t.Errorf("%q: Walker did not give up", text)
		}
	}
}
