package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/schema"
)

// wantErr is one expected problem: its line and words its message holds.
type wantErr struct {
	line  int
	words []string
}

// checkErrors checks that err is an ErrorList with exactly the wanted
// problems, in line order.
func checkErrors(t *testing.T, err error, want []wantErr) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %d problems", len(want))
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %T %v, want an ErrorList", err, err)
	}
	if len(list) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		got := list[i]
		if got.Line != w.line {
			t.Errorf("problem %d: got line %d, want %d: %v", i, got.Line, w.line, got)
		}
		msg := got.Error()
		for _, word := range w.words {
			if !strings.Contains(msg, word) {
				t.Errorf("problem %d: got %q, want it to contain %q", i, msg, word)
			}
		}
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != len(want) {
		t.Errorf("Error() has %d lines, want %d", len(lines), len(want))
	}
}

// pipeline returns a valid file whose single pipeline has the given model,
// train and promote sections (each indented by 4 spaces); lines 1-9 are
// fixed, so a section starts at line 10.
func pipeline(sections string) string {
	return `pipelines:
  - name: titanic
    schema:
      target: survived
      columns:
        - {name: survived, type: category, values: [0, 1]}
        - {name: sex, type: category, values: [male, female], aliases: {M: male, F: female}}
        - {name: age, type: number, min: 0, max: 120, nullable: true}
        - {name: ticket, type: category, ignore: true}
` + sections
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []wantErr
	}{
		{"tab indentation", "pipelines:\n  - name: a\n\tschema: {}\n",
			[]wantErr{{3, []string{"mlserve.yaml:3:", "tab", "spaces"}}}},
		{"tab inside block", "pipelines:\n  - name: a\n    model:\n    \talgorithm: gbdt\n",
			[]wantErr{{4, []string{"tab", "spaces"}}}},
		{"unclosed bracket", "pipelines:\n  - name: a\n    schema:\n      columns: [{name: a, type: number}\n      target: a\n",
			[]wantErr{{4, []string{"[", "never closed", "add ]"}}}},
		{"unclosed brace", "pipelines:\n  - name: a\n    schema:\n      target: a\n      columns:\n        - {name: a, type: number\n",
			[]wantErr{{6, []string{"{", "never closed", "add }"}}}},
		{"mismatched bracket", "pipelines:\n  - name: a\n    schema:\n      columns: [{name: a, type: number]]\n",
			[]wantErr{{4, []string{"{", "closed by ]"}}}},
		{"misaligned item", "pipelines:\n  - name: a\n  - name: b\n   schema: {}\n",
			[]wantErr{{4, []string{"indentation does not line up", "same column"}}}},
		{"misaligned field", "pipelines:\n  - name: a\n    schema:\n      target: y\n    columns: []\n   model: {}\n",
			[]wantErr{{6, []string{"indentation does not line up"}}}},
		{"multi-line flow list closed wrongly", "pipelines:\n  - name: a\n    schema: {target: a, columns: [\n      {name: a, type: number},\n      {name: b, type: number}\n    }\n",
			[]wantErr{{3, []string{"[ opened on this line is closed by }", "close it with ]"}}}},
		{"reserved character", "pipelines:\n  - name: a\n    model:\n      algorithm: `x`\n",
			[]wantErr{{4, []string{"reserves", "quotes"}}}},
		{"unquoted star", "pipelines:\n  - name: a\n    train:\n      schedule: * * * * *\n",
			[]wantErr{{4, []string{"quotes", `"* * * * *"`}}}},
		{"colon in value", "pipelines:\n  - name: a\n    model:\n      algorithm: a: b\n",
			[]wantErr{{4, []string{`": "`, "quotes"}}}},
		{"unclosed quote", "pipelines:\n  - name: a\n    train:\n      schedule: \"0 3 * * *\n      min_rows: 5\n",
			[]wantErr{{4, []string{"quoted value is not closed"}}}},
		{"second document", "pipelines: []\n---\npipelines: []\n",
			[]wantErr{{2, []string{"second YAML document", "one document"}}}},
		{"empty file", "", []wantErr{{0, []string{"mlserve.yaml: ", "no pipelines"}}}},
		{"checks typo", pipeline("    checks:\n      missing_rat: {threshold: 0.1}\n"),
			[]wantErr{{11, []string{`unknown field "missing_rat"`, `did you mean "missing_rate"?`}}}},
		{"checks bad severity", pipeline("    checks:\n      psi: {severity: blok}\n"),
			[]wantErr{{11, []string{"checks.psi.severity", `"blok"`, "block, warn, off", `did you mean "block"?`}}}},
		{"checks threshold out of range", pipeline("    checks:\n      levels: {threshold: 5}\n"),
			[]wantErr{{11, []string{"checks.levels.threshold 5", "from 0 to 1"}}}},
		{"checks row_count threshold", pipeline("    checks:\n      row_count: {threshold: 3}\n"),
			[]wantErr{{11, []string{"row_count has no threshold"}}}},
		{"no pipelines", "pipelines: []\n", []wantErr{{1, []string{"no pipelines", "mlserve init"}}}},
		{"pipelines not a list", "pipelines: {name: a}\n",
			[]wantErr{{1, []string{"pipelines must be a list", "not a mapping"}}}},
		{"pipeline not a mapping", "pipelines: [a]\n",
			[]wantErr{{1, []string{"pipeline 1 must be a mapping", `not "a"`}}}},
		{"top level not a mapping", "- pipelines\n",
			[]wantErr{{1, []string{"the top level must be a mapping", "not a list"}}}},
		{"section set twice", "pipelines:\n  - name: a\n    schema: {target: y, columns: [{name: y, type: number}, {name: x, type: number}]}\n    model: {seed: 12}\n    model: {seed: 13}\n",
			[]wantErr{{5, []string{"model is set twice", "first at line 4", "keep one"}}}},
		{"unknown top-level field", "pipelines: []\npipeline: x\n", []wantErr{
			{1, []string{"no pipelines"}},
			{2, []string{`unknown field "pipeline" at the top level`, `did you mean "pipelines"?`}},
		}},
		{"unknown field in model", pipeline("    model:\n      holdut: 0.3\n"),
			[]wantErr{{11, []string{"mlserve.yaml:11:", `unknown field "holdut" in model; did you mean "holdout"?`}}}},
		{"unknown field in pipeline", pipeline("    modle: {}\n"),
			[]wantErr{{10, []string{`unknown field "modle" in pipeline "titanic"`, `did you mean "model"?`}}}},
		{"unknown field in column", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: number}\n        - {name: x, typ: number}\n",
			[]wantErr{{7, []string{`unknown field "typ" in column "x"`, `did you mean "type"?`}}}},
		{"unknown field in schema", "pipelines:\n  - name: a\n    schema:\n      targets: y\n      columns: [{name: y, type: number}, {name: x, type: number}]\n",
			[]wantErr{{4, []string{`unknown field "targets" in schema`, `did you mean "target"?`}}}},
		{"unknown field in train, camel case", pipeline("    train:\n      onNewRows: 10\n"),
			[]wantErr{{11, []string{`"onNewRows" in train`, `did you mean "on_new_rows"?`}}}},
		{"unknown field without suggestion", pipeline("    promote:\n      colour: red\n"),
			[]wantErr{{11, []string{`unknown field "colour" in promote`, "metric, min, must_beat_production"}}}},
		{"field set twice", pipeline("    model:\n      seed: 1\n      seed: 2\n"),
			[]wantErr{{12, []string{"seed is set twice", "first at line 11"}}}},
		{"string for holdout", pipeline("    model:\n      holdout: abc\n"),
			[]wantErr{{11, []string{"model.holdout must be a number", `not "abc"`, "0.2"}}}},
		{"quoted number for holdout", pipeline("    model:\n      holdout: \"0.3\"\n"),
			[]wantErr{{11, []string{"model.holdout must be a number", `not "0.3"`}}}},
		{"list for params", pipeline("    model:\n      params: [1, 2]\n"),
			[]wantErr{{11, []string{"model.params must be a mapping", "not a list", "{max_depth: 3}"}}}},
		{"fraction for min_rows", pipeline("    train:\n      min_rows: 50.5\n"),
			[]wantErr{{11, []string{"train.min_rows must be a whole number", "50.5"}}}},
		{"confidence out of range", pipeline("    promote:\n      confidence: 1.5\n"),
			[]wantErr{{11, []string{"promote.confidence 1.5 is out of range", "below 1", "0 compares"}}}},
		{"negative min_category_rows", pipeline("    model:\n      min_category_rows: -1\n"),
			[]wantErr{{11, []string{"model.min_category_rows -1 is negative", "0 to turn the rule off"}}}},
		{"yes for a boolean", pipeline("    promote:\n      must_beat_production: yes\n"),
			[]wantErr{{11, []string{"must_beat_production must be true or false", `"yes"`}}}},
		{"duration without unit", pipeline("    train:\n      debounce: 30\n"),
			[]wantErr{{11, []string{"train.debounce", "not a duration", "30s"}}}},
		{"mapping for a column type", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - name: y\n          type: {a: b}\n        - {name: x, type: number}\n",
			[]wantErr{{7, []string{`type of column "y" must be a single value`, "not a mapping"}}}},
		{"null list item", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: category, values: [a, ~]}\n        - {name: x, type: number}\n",
			[]wantErr{{6, []string{`item 2 of values of column "y" is empty`}}}},
		{"bad cron", pipeline("    train:\n      schedule: \"0 3 * *\"\n"),
			[]wantErr{{11, []string{`train.schedule "0 3 * *" is not a valid cron schedule`, "found 4", "minute hour day-of-month month day-of-week", `"0 3 * * *"`}}}},
		{"cron out of range", pipeline("    train:\n      schedule: \"0 25 * * *\"\n"),
			[]wantErr{{11, []string{"not a valid cron schedule", "above maximum", "5 fields"}}}},
		{"cron time zone", pipeline("    train:\n      schedule: \"TZ=Europe/Paris\"\n"),
			[]wantErr{{11, []string{"not a valid cron schedule", "UTC"}}}},
		{"bad pipeline name", strings.Replace(pipeline(""), "titanic", "Titanic-2", 1),
			[]wantErr{{2, []string{`pipeline name "Titanic-2" is not valid`, "lowercase letter", `try "titanic_2"`}}}},
		{"name starting with a digit", strings.Replace(pipeline(""), "titanic", "2nd run", 1),
			[]wantErr{{2, []string{`"2nd run" is not valid`, `try "p_2nd_run"`}}}},
		{"missing name", strings.Replace(pipeline(""), "- name: titanic\n    schema", "- schema", 1),
			[]wantErr{{2, []string{"pipeline 1 has no name", "add name:"}}}},
		{"duplicate name", pipeline("") + "  - name: titanic\n    schema: {target: y, columns: [{name: y, type: number}, {name: x, type: number}]}\n",
			[]wantErr{{10, []string{`pipeline name "titanic" is used twice`, "first at line 2"}}}},
		{"no schema", "pipelines:\n  - name: a\n    model: {seed: 1}\n",
			[]wantErr{{2, []string{"no schema", "target: and columns:"}}}},
		{"unknown column type", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: number}\n        - {name: x, type: numbr}\n",
			[]wantErr{{7, []string{`schema: column "x": type "numbr" is unknown`, "number, integer, category, boolean"}}}},
		{"alias to non-value", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: number}\n        - name: sex\n          type: category\n          values: [male, female]\n          aliases: {M: mal}\n",
			[]wantErr{{10, []string{`column "sex"`, `alias "M" maps to "mal"`, "not in values"}}}},
		{"target missing", "pipelines:\n  - name: a\n    schema:\n      target: survivd\n      columns: [{name: survived, type: boolean}, {name: x, type: number}]\n",
			[]wantErr{{4, []string{`target "survivd" is not one of the columns`, `did you mean "survived"?`}}}},
		{"target unset", "pipelines:\n  - name: a\n    schema:\n      columns: [{name: y, type: boolean}, {name: x, type: number}]\n",
			[]wantErr{{3, []string{"target is empty"}}}},
		{"every bad column", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: number}\n        - {name: x, type: text}\n        - {name: x, type: number}\n        - {name: z, type: number, values: [a]}\n",
			[]wantErr{
				{7, []string{`column "x": type "text" is unknown`}},
				{9, []string{`column "z": values and aliases apply to category columns only`}},
			}},
		{"unknown policy", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: number}\n        - {name: c, type: category, values: [a, b], unknown: keep}\n",
			[]wantErr{{7, []string{`column "c": unknown "keep" is not a policy`, "reject or other"}}}},
		{"unknown other on a number", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: number}\n        - {name: x, type: number, unknown: other}\n",
			[]wantErr{{7, []string{`column "x": unknown: other applies to category columns with values only`}}}},
		{"timestamp target", "pipelines:\n  - name: a\n    schema:\n      target: t\n      columns:\n        - {name: t, type: timestamp}\n        - {name: x, type: number}\n",
			[]wantErr{{4, []string{`target "t" is a timestamp`, "number, integer, category or boolean"}}}},
		{"timestamp with a range", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: number}\n        - {name: t, type: timestamp, min: 0}\n",
			[]wantErr{{7, []string{`column "t": timestamp columns take no values, aliases, min or max`}}}},
		{"unprintable column name", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: number}\n        - {name: \"a\\tb\", type: number}\n",
			[]wantErr{{7, []string{`unprintable character U+0009`}}}},
		{"duplicate column", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: number}\n        - {name: x, type: number}\n        - {name: x, type: number}\n",
			[]wantErr{{8, []string{`column "x" is declared twice`}}}},
		{"single-valued target", "pipelines:\n  - name: a\n    schema:\n      target: y\n      columns:\n        - {name: y, type: category, values: [a]}\n        - {name: x, type: number}\n",
			[]wantErr{{6, []string{`target "y" has a single value`, "at least two"}}}},
		{"unknown algorithm", pipeline("    model:\n      algorithm: gbtd\n"),
			[]wantErr{{11, []string{`model.algorithm "gbtd" is unknown`, `did you mean "gbdt"?`}}}},
		{"algorithm does not fit task", "pipelines:\n  - name: a\n    schema: {target: y, columns: [{name: y, type: number}, {name: x, type: number}]}\n    model: {algorithm: logistic}\n",
			[]wantErr{{4, []string{"logistic is a classifier", "regression", "linear or gbdt"}}}},
		{"holdout out of range", pipeline("    model:\n      holdout: 0.95\n"),
			[]wantErr{{11, []string{"model.holdout 0.95 is out of range", "at most 0.9"}}}},
		{"holdout zero", pipeline("    model:\n      holdout: 0\n"),
			[]wantErr{{11, []string{"model.holdout 0 is out of range", "more than 0"}}}},
		{"seed zero", pipeline("    model:\n      seed: 0\n"),
			[]wantErr{{11, []string{"model.seed 0", "default seed 42", "non-zero"}}}},
		{"negative on_new_rows", pipeline("    train:\n      on_new_rows: -5\n"),
			[]wantErr{{11, []string{"train.on_new_rows -5 is negative", "0 to turn the trigger off"}}}},
		{"negative debounce", pipeline("    train:\n      debounce: -1s\n"),
			[]wantErr{{11, []string{"train.debounce -1s is negative"}}}},
		{"zero debounce", pipeline("    train:\n      debounce: 0s\n"),
			[]wantErr{{11, []string{"train.debounce 0", "default 30s", "1s"}}}},
		{"zero min_rows", pipeline("    train:\n      min_rows: 0\n"),
			[]wantErr{{11, []string{"train.min_rows 0 is too small", "at least 1"}}}},
		{"metric for regression on a classifier", pipeline("    promote:\n      metric: rmse\n"),
			[]wantErr{{11, []string{`promote.metric "rmse" does not fit the task`, `"survived" is a category with 2 values`, "binary classification", "roc_auc"}}}},
		{"metric for classification on a regressor", "pipelines:\n  - name: a\n    schema: {target: y, columns: [{name: y, type: integer}, {name: x, type: number}]}\n    promote: {metric: accuracy}\n",
			[]wantErr{{4, []string{`promote.metric "accuracy" does not fit the task`, `"y" is a integer column`, "regression", "rmse, mae, r2"}}}},
		{"f1 on multiclass", "pipelines:\n  - name: a\n    schema: {target: y, columns: [{name: y, type: category, values: [a, b, c]}, {name: x, type: number}]}\n    promote: {metric: f1}\n",
			[]wantErr{{4, []string{`"f1" does not fit`, "3 values", "multiclass classification", "macro_f1"}}}},
		{"f1 on open category", "pipelines:\n  - name: a\n    schema: {target: y, columns: [{name: y, type: category}, {name: x, type: number}]}\n    promote: {metric: f1}\n",
			[]wantErr{{4, []string{"f1 needs a binary target", "without a values list", "macro_f1"}}}},
		{"unknown metric", pipeline("    promote:\n      metric: auc\n"),
			[]wantErr{{11, []string{`promote.metric "auc" is unknown`, `did you mean "roc_auc"?`}}}},
		{"min out of range", pipeline("    promote:\n      metric: accuracy\n      min: 70\n"),
			[]wantErr{{12, []string{"promote.min 70 is outside the range of accuracy", "0 to 1"}}}},
		{"many at once, sorted by line", `pipelines:
  - name: Sales
    schema:
      target: amount
      columns:
        - {name: amount, type: number}
        - {name: region, type: category, values: [north, south]}
    model:
      algorithm: gbdt
      holdout: 1.5
      sed: 7
    train:
      schedule: "every day"
      min_rows: fifty
    promote:
      metric: roc_auc
  - name: sales
    schema: {target: y, columns: [{name: y, type: bool}, {name: x, type: number}]}
`, []wantErr{
			{2, []string{"Sales", `try "sales"`}},
			{10, []string{"model.holdout 1.5"}},
			{11, []string{`unknown field "sed" in model`, `did you mean "seed"?`}},
			{13, []string{`train.schedule "every day"`}},
			{14, []string{"train.min_rows must be a whole number", `"fifty"`}},
			{16, []string{`promote.metric "roc_auc" does not fit the task`, "regression"}},
			{18, []string{`column "y": type "bool" is unknown`}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse("mlserve.yaml", []byte(tt.src))
			if f != nil {
				t.Errorf("got a file with the error")
			}
			checkErrors(t, err, tt.want)
		})
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	src := pipeline("    model:\n      algorithm: forest\n      params: {trees: 0}\n")

	t.Run("DefaultRejects", func(t *testing.T) {
		t.Parallel()
		_, err := Parse("p.yaml", []byte(src))
		checkErrors(t, err, []wantErr{{11, []string{"p.yaml:11:", `"forest" is unknown`, "logistic, linear, gbdt"}}})
	})
	t.Run("InjectedAlgorithms", func(t *testing.T) {
		t.Parallel()
		f, err := ParseOptions{Algorithms: []string{"forest", "gbdt"}}.Parse("p.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Pipelines[0].Model.Algorithm; got != "forest" {
			t.Errorf("got algorithm %q, want forest", got)
		}
	})
	t.Run("CheckModel", func(t *testing.T) {
		t.Parallel()
		var gotAlg string
		var gotTask Task
		opts := ParseOptions{
			Algorithms: []string{"forest"},
			CheckModel: func(alg string, task Task, params map[string]any) error {
				gotAlg, gotTask = alg, task
				if params["trees"] == 0 {
					return errors.New("param trees: must be at least 1")
				}
				return nil
			},
		}
		_, err := opts.Parse("p.yaml", []byte(src))
		checkErrors(t, err, []wantErr{{12, []string{"model: param trees: must be at least 1"}}})
		if gotAlg != "forest" || gotTask != Binary {
			t.Errorf("CheckModel got (%q, %q), want (forest, binary)", gotAlg, gotTask)
		}
	})
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		src    string
		check  func(t *testing.T, p Pipeline)
		target string
	}{
		{"binary, nothing set", pipeline(""), func(t *testing.T, p Pipeline) {
			want := Pipeline{
				Model:   Model{Algorithm: "logistic", Holdout: 0.2, Seed: 42},
				Train:   Train{OnNewRows: Ptr(100), Debounce: Duration(30 * time.Second), MinRows: 50},
				Promote: Promote{Metric: "roc_auc", MustBeatProduction: Ptr(true)},
			}
			checkSettings(t, p, want)
			if p.Task() != Binary {
				t.Errorf("got task %q, want binary", p.Task())
			}
			if p.Promote.Min != nil {
				t.Errorf("got min %v, want none", *p.Promote.Min)
			}
		}, ""},
		{"explicit zero and false kept", pipeline("    train:\n      on_new_rows: 0\n      schedule: \"\"\n    promote:\n      min: 0\n      must_beat_production: false\n"), func(t *testing.T, p Pipeline) {
			if p.Train.NewRows() != 0 || p.Train.OnNewRows == nil {
				t.Errorf("got on_new_rows %v, want explicit 0", p.Train.OnNewRows)
			}
			if p.Promote.MustBeat() {
				t.Errorf("got must_beat_production true, want false")
			}
			if p.Promote.Min == nil || *p.Promote.Min != 0 {
				t.Errorf("got min %v, want 0", p.Promote.Min)
			}
		}, ""},
		{"empty values mean defaults", pipeline("    model:\n      holdout:\n      params:\n    train: {debounce: ~}\n    promote: {}\n"), func(t *testing.T, p Pipeline) {
			checkSettings(t, p, Pipeline{
				Model:   Model{Algorithm: "logistic", Holdout: 0.2, Seed: 42},
				Train:   Train{OnNewRows: Ptr(100), Debounce: Duration(30 * time.Second), MinRows: 50},
				Promote: Promote{Metric: "roc_auc", MustBeatProduction: Ptr(true)},
			})
		}, ""},
		{"everything set", pipeline(`    model:
      algorithm: gbdt
      params: {max_depth: 3, learning_rate: 0.1, features: [a, b]}
      holdout: 0.25
      seed: -7
    train:
      schedule: "@daily"
      on_new_rows: 1000
      debounce: 5m
      min_rows: 1
    promote:
      metric: log_loss
      min: 0.5
      must_beat_production: true
`), func(t *testing.T, p Pipeline) {
			checkSettings(t, p, Pipeline{
				Model:   Model{Algorithm: "gbdt", Holdout: 0.25, Seed: -7},
				Train:   Train{Schedule: "@daily", OnNewRows: Ptr(1000), Debounce: Duration(5 * time.Minute), MinRows: 1},
				Promote: Promote{Metric: "log_loss", Min: Ptr(0.5), MustBeatProduction: Ptr(true)},
			})
			if got := p.Model.Params["max_depth"]; got != 3 {
				t.Errorf("got max_depth %#v, want 3", got)
			}
			if got := p.Model.Params["features"].([]any); len(got) != 2 {
				t.Errorf("got features %#v", got)
			}
		}, ""},
		{"multiclass", "pipelines:\n  - name: m\n    schema: {target: y, columns: [{name: y, type: category, values: [a, b, c]}, {name: x, type: number}]}\n", func(t *testing.T, p Pipeline) {
			if p.Task() != Multiclass || p.Promote.Metric != "accuracy" || p.Model.Algorithm != "logistic" {
				t.Errorf("got task %q metric %q algorithm %q, want multiclass accuracy logistic", p.Task(), p.Promote.Metric, p.Model.Algorithm)
			}
		}, ""},
		{"open category", "pipelines:\n  - name: m\n    schema: {target: y, columns: [{name: y, type: category}, {name: x, type: number}]}\n", func(t *testing.T, p Pipeline) {
			if p.Task() != Classification || p.Promote.Metric != "accuracy" {
				t.Errorf("got task %q metric %q, want classification accuracy", p.Task(), p.Promote.Metric)
			}
		}, ""},
		{"boolean target", "pipelines:\n  - name: m\n    schema: {target: y, columns: [{name: y, type: boolean}, {name: x, type: number}]}\n", func(t *testing.T, p Pipeline) {
			if p.Task() != Binary || p.Promote.Metric != "roc_auc" {
				t.Errorf("got task %q metric %q, want binary roc_auc", p.Task(), p.Promote.Metric)
			}
		}, ""},
		{"regression", "pipelines:\n  - name: r\n    schema: {target: y, columns: [{name: y, type: number}, {name: x, type: integer}]}\n", func(t *testing.T, p Pipeline) {
			if p.Task() != Regression || p.Promote.Metric != "rmse" || p.Model.Algorithm != "linear" {
				t.Errorf("got task %q metric %q algorithm %q, want regression rmse linear", p.Task(), p.Promote.Metric, p.Model.Algorithm)
			}
		}, ""},
		{"anchors and aliases", "x-model: &m {algorithm: gbdt, seed: 3}\npipelines:\n  - name: a\n    schema: {target: y, columns: [{name: y, type: number}, {name: x, type: number}]}\n    model: *m\n", nil, "x-model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse("mlserve.yaml", []byte(tt.src))
			if tt.target != "" {
				// Only the top-level field is unknown; the alias itself decodes.
				checkErrors(t, err, []wantErr{{1, []string{`unknown field "x-model"`}}})
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Pipelines) != 1 {
				t.Fatalf("got %d pipelines, want 1", len(f.Pipelines))
			}
			tt.check(t, f.Pipelines[0])
		})
	}
}

// checkSettings compares the model, train and promote settings of p with
// want's (params, pointers by value).
func checkSettings(t *testing.T, p, want Pipeline) {
	t.Helper()
	if p.Model.Algorithm != want.Model.Algorithm || p.Model.Holdout != want.Model.Holdout || p.Model.Seed != want.Model.Seed {
		t.Errorf("got model %+v, want %+v", p.Model, want.Model)
	}
	if p.Train.Schedule != want.Train.Schedule || p.Train.NewRows() != want.Train.NewRows() || p.Train.OnNewRows == nil ||
		p.Train.Debounce != want.Train.Debounce || p.Train.MinRows != want.Train.MinRows {
		t.Errorf("got train %+v (on_new_rows %d), want %+v (%d)", p.Train, p.Train.NewRows(), want.Train, want.Train.NewRows())
	}
	if p.Promote.Metric != want.Promote.Metric || p.Promote.MustBeat() != want.Promote.MustBeat() || p.Promote.MustBeatProduction == nil ||
		(p.Promote.Min == nil) != (want.Promote.Min == nil) || (p.Promote.Min != nil && *p.Promote.Min != *want.Promote.Min) {
		t.Errorf("got promote %+v, want %+v", p.Promote, want.Promote)
	}
}

func TestParseIgnoredColumn(t *testing.T) {
	t.Parallel()
	f, err := Parse("mlserve.yaml", []byte(pipeline("")))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Pipelines[0].Schema
	if i := s.Index("ticket"); i < 0 || !s.Columns[i].Ignore {
		t.Fatalf("got columns %+v, want ticket ignored", s.Columns)
	}
	if _, err := schema.Compile(s); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	t.Run("Missing", func(t *testing.T) {
		t.Parallel()
		_, err := Load(t.TempDir() + "/mlserve.yaml")
		if err == nil || !strings.Contains(err.Error(), "mlserve init") {
			t.Fatalf("got %v, want a hint to run mlserve init", err)
		}
	})
	t.Run("NamesTheFile", func(t *testing.T) {
		t.Parallel()
		_, err := Load("testdata/bad/holdout.yaml")
		checkErrors(t, err, []wantErr{{12, []string{"testdata/bad/holdout.yaml:12:", `unknown field "holdut" in model; did you mean "holdout"?`}}})
	})
}
