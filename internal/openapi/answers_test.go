package openapi_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/mlserve/mlserve/internal/apitest"
	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/openapi"
)

// TestComponentsMatchAnswers checks that the document's registry and
// ingest components describe the answers' Go types (package apitypes)
// field for field: the same names, JSON types and nullability, and no
// omitted-when-empty field required.
func TestComponentsMatchAnswers(t *testing.T) {
	t.Parallel()
	data, err := openapi.Generate(&openapi.Options{Pipelines: []openapi.Pipeline{{Name: "sensors", Schema: apitest.Sensors}}, API: true, Ingest: true})
	if err != nil {
		t.Fatal(err)
	}
	doc := load(t, data)
	for comp, v := range map[string]any{
		"Version":        apitypes.Version{},
		"Run":            apitypes.Run{},
		"Promotion":      apitypes.Promotion{},
		"IngestResult":   apitypes.IngestAnswer{},
		"DatasetInfo":    apitypes.Dataset{},
		"QuarantinePage": apitypes.QuarantinePage{},
		"QuarantinedRow": apitypes.QuarantinedRow{},
		"ReplayAnswer":   apitypes.ReplayAnswer{},
		"VersionDetail":  apitypes.VersionDetail{},
	} {
		c := doc.Components.Schemas[comp]
		if c == nil {
			t.Errorf("component %s is missing", comp)
			continue
		}
		props := c.Value.Properties
		rt := reflect.TypeOf(v)
		var names []string
		for _, f := range fields(rt) {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			names = append(names, name)
			p := props[name]
			if p == nil {
				t.Errorf("%s: field %q of %s is not in the document", comp, name, rt)
				continue
			}
			if got, want := kind(p.Value), goKind(f.Type); got != want {
				t.Errorf("%s.%s: document says %s, the answer is %s", comp, name, got, want)
			}
			nullable := f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Slice
			if p.Value.Nullable != nullable {
				t.Errorf("%s.%s: nullable %v in the document, the answer's %s can be null: %v", comp, name, p.Value.Nullable, f.Type, nullable)
			}
			if opts == "omitempty" && slices.Contains(c.Value.Required, name) {
				t.Errorf("%s.%s is required but omitted when empty", comp, name)
			}
		}
		for name := range props {
			if !slices.Contains(names, name) {
				t.Errorf("%s: property %q is in no answer (%s)", comp, name, rt)
			}
		}
	}
}

// fields lists a struct's fields as encoding/json sees them: the fields
// of an embedded struct in its place.
func fields(rt reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range rt.NumField() {
		f := rt.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			t := f.Type
			if t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			out = append(out, fields(t)...)
			continue
		}
		out = append(out, f)
	}
	return out
}

// kind names a property's JSON type, with date-time apart.
func kind(s *openapi3.Schema) string {
	if len(s.AllOf) == 1 {
		return kind(s.AllOf[0].Value)
	}
	if s.Type.Is("string") && s.Format == "date-time" {
		return "date-time"
	}
	return strings.Join(s.Type.Slice(), "|")
}

// goKind names the JSON type a Go field encodes as.
func goKind(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "date-time"
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "integer"
	case t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.Map || t.Kind() == reflect.Struct:
		return "object"
	case t.Kind() == reflect.Slice:
		return "array"
	}
	return t.String()
}
