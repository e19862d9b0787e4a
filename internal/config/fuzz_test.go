package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse feeds pipeline files a fuzzer makes to Parse: it never panics,
// a rejected file gets an error that names the file, and an accepted one
// survives Marshal and Parse again unchanged. `go test` runs the seeds;
// search for more with
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 2m ./internal/config
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, p := range append(seeds, bad...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("pipelines:\n  - name: x\n    schema: {target: y, columns: [{name: y, type: number}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		out, err := Marshal(file)
		if err != nil {
			t.Fatalf("Marshal of an accepted file: %v", err)
		}
		again, err := Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("Parse of Marshal's output: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(normalize(again), normalize(file)) {
			t.Fatalf("round trip changed the file:\n%+v\n%+v\n%s", file, again, out)
		}
	})
}
