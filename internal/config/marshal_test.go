package config

import (
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// normalize makes empty params nil, as YAML cannot tell them apart.
func normalize(f *File) *File {
	for i := range f.Pipelines {
		if len(f.Pipelines[i].Model.Params) == 0 {
			f.Pipelines[i].Model.Params = nil
		}
	}
	return f
}

func TestExample(t *testing.T) {
	t.Parallel()
	t.Run("MatchesDesign", func(t *testing.T) {
		t.Parallel()
		ex, err := Example("titanic")
		if err != nil {
			t.Fatal(err)
		}
		design, err := Load("testdata/design.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := normalize(ex), normalize(design); !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v\nwant (docs/DESIGN.md) %+v", got.Pipelines[0], want.Pipelines[0])
		}
		p := ex.Pipelines[0]
		if p.Model.Seed != 42 || p.Train.NewRows() != 100 || p.Train.Debounce != Duration(30*time.Second) ||
			p.Train.MinRows != 50 || p.Train.Schedule != "0 3 * * *" || p.Promote.Metric != "roc_auc" {
			t.Errorf("got %+v", p)
		}
		if err := Validate(ex); err != nil {
			t.Error(err)
		}
	})
	t.Run("Golden", func(t *testing.T) {
		t.Parallel()
		ex, _ := Example("titanic")
		got, err := Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		const golden = "testdata/titanic.yaml"
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("got\n%s\nwant (%s)\n%s", got, golden, want)
		}
		for _, s := range []string{"values: [0, 1]", "values: [1, 2, 3]", "aliases: {F: female, M: male}", `schedule: "0 3 * * *"`, "debounce: 30s"} {
			if !strings.Contains(string(got), s) {
				t.Errorf("output lacks %q", s)
			}
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		if _, err := Example("iris"); err == nil || !strings.Contains(err.Error(), "titanic") {
			t.Errorf("got %v, want an error listing titanic", err)
		}
	})
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	long := make([]string, 40)
	for i := range long {
		long[i] = "level_" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	tests := []struct {
		name string
		file *File
	}{
		{"titanic", must(Example("titanic"))},
		{"zero values fill defaults", &File{Pipelines: []Pipeline{{
			Name: "bare",
			Schema: schema.Schema{Target: "y", Columns: []schema.Column{
				{Name: "y", Type: schema.Number}, {Name: "x", Type: schema.Integer, Min: Ptr(-1.5), Max: Ptr(1e6)},
			}},
		}}}},
		{"awkward strings and explicit settings", &File{Pipelines: []Pipeline{{
			Name: "odd_1",
			Schema: schema.Schema{Target: "label", Columns: []schema.Column{
				{Name: "label", Type: schema.Category, Values: []string{"true", "null", "yes", "a: b", "#x", "1.0", "007", "-", "[x]", "it's"},
					Aliases: map[string]string{"1": "true", "~": "null", "Y es": "yes", "*": "#x"}},
				{Name: "first name", Type: schema.Category, Ignore: true},
				{Name: "col.2nd-x", Type: schema.Boolean, Nullable: true},
				{Name: "many", Type: schema.Category, Values: long, Nullable: true},
			}},
			Model: Model{Algorithm: "gbdt", Holdout: 0.9, Seed: -3, Params: map[string]any{
				"max_depth": 3, "rate": 0.05, "features": []any{"a", 2}, "nested": map[string]any{"on": true, "name": "yes"},
			}},
			Train:   Train{Schedule: "", OnNewRows: Ptr(0), Debounce: Duration(90 * time.Minute), MinRows: 1},
			Promote: Promote{Metric: "macro_f1", Min: Ptr(0.0), MustBeatProduction: Ptr(false)},
		}, {
			Name: "tomorrow",
			Schema: schema.Schema{Target: "y", Columns: []schema.Column{
				{Name: "y", Type: schema.Number},
				{Name: "od280/od315_of_diluted_wines", Type: schema.Number},
				{Name: `a"; DROP TABLE x; --`, Type: schema.Number},
				{Name: "when: seen #1", Type: schema.Timestamp, Nullable: true},
				{Name: "color", Type: schema.Category, Values: []string{"red", "blue"}, Unknown: schema.UnknownOther},
				{Name: "größe", Type: schema.Category, Values: []string{"s"}, Unknown: schema.UnknownReject},
			}},
		}, {
			Name:    "second",
			Schema:  schema.Schema{Target: "ok", Columns: []schema.Column{{Name: "ok", Type: schema.Boolean}, {Name: "v", Type: schema.Number}}},
			Train:   Train{Schedule: "*/15 * * * 1-5"},
			Promote: Promote{Metric: "log_loss", Min: Ptr(0.25)},
		}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Validate(tt.file); err != nil {
				t.Fatalf("test file is invalid: %v", err)
			}
			data, err := Marshal(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse("out.yaml", data)
			if err != nil {
				t.Fatalf("parse Marshal output: %v\n%s", err, data)
			}
			want := tt.file.WithDefaults()
			if !reflect.DeepEqual(normalize(got), normalize(want)) {
				t.Errorf("round trip changed the file\ngot  %+v\nwant %+v\nYAML:\n%s", got, want, data)
			}
			again, err := Marshal(got)
			if err != nil || string(again) != string(data) {
				t.Errorf("Marshal is not stable: %v\n%s\n---\n%s", err, data, again)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestValidateBuilt(t *testing.T) {
	t.Parallel()
	f := &File{Pipelines: []Pipeline{{
		Name:   "Bad Name",
		Schema: schema.Schema{Target: "y", Columns: []schema.Column{{Name: "y", Type: schema.Number}, {Name: "x", Type: schema.Number}}},
		Model:  Model{Holdout: 2},
	}}}
	err := Validate(f)
	checkErrors(t, err, []wantErr{
		{0, []string{"mlserve.yaml: ", `"Bad Name" is not valid`, `try "bad_name"`}},
		{0, []string{"model.holdout 2 is out of range"}},
	})
}
