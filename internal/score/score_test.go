package score_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/sampledata"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/score"
	"github.com/mlserve/mlserve/internal/train"
)

// titanic is a logistic model of the titanic example fitted on the seed
// data.
var titanic = sync.OnceValues(func() (*artifact.Model, error) {
	f, err := config.Example("titanic")
	if err != nil {
		return nil, err
	}
	p := f.Pipelines[0]
	return fit(p.Schema, p.Model.Algorithm, sampledata.Path(sampledata.SeedTitanic))
})

// fit trains a model on a CSV file.
func fit(s schema.Schema, algorithm, path string) (*artifact.Model, error) {
	return fitParams(s, algorithm, path)
}

// fitParams trains a model on a CSV file; gbdt gets the XGBoost peer's
// 100 trees of depth 6.
func fitParams(s schema.Schema, algorithm, path string) (*artifact.Model, error) {
	c, err := schema.Compile(s)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, err
	}
	h, err := c.Header(recs[0])
	if err != nil {
		return nil, err
	}
	var rows []schema.Row
	for _, rec := range recs[1:] {
		row, fe := h.Row(rec, nil)
		if fe != nil {
			return nil, fe
		}
		rows = append(rows, row)
	}
	var params ml.Params
	if algorithm == "gbdt" {
		params = ml.Params{"n_trees": 100, "max_depth": 6, "learning_rate": 0.3}
	}
	res, err := train.Fit(context.Background(), &train.FitParams{
		Pipeline: "p", Schema: c, Rows: rows, Algorithm: algorithm, Params: params, Seed: 42, Holdout: 0.2,
	})
	if err != nil {
		return nil, err
	}
	return res.Model, nil
}

func model(t *testing.T) *artifact.Model {
	t.Helper()
	m, err := titanic()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// want is m's prediction for raw feature values, as the JSON route gives it.
func want(t *testing.T, m *artifact.Model, kv ...string) artifact.Prediction {
	t.Helper()
	raw := map[string]schema.Raw{}
	for i := 0; i < len(kv); i += 2 {
		raw[kv[i]] = schema.Raw{Text: kv[i+1]}
	}
	p, fe := m.Predict(raw)
	if fe != nil {
		t.Fatalf("predict %v: %v", kv, fe)
	}
	return p
}

func run(t *testing.T, m *artifact.Model, in string, o score.Options) (string, *score.Summary) {
	t.Helper()
	var out bytes.Buffer
	sum, err := score.Stream(context.Background(), m, strings.NewReader(in), &out, o)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	return out.String(), sum
}

func TestCSV(t *testing.T) {
	t.Parallel()
	m := model(t)
	in := "id,class,sex,age,embarked,survived\n" +
		"a,1,female,22,S,1\n" +
		"b,3,male,,,0\n" +
		"c,7,male,30,S,0\n" + // class out of its values
		"\"d,1\",2,F,130,Q,\n" + // age out of range; id quoted
		"e,2,M\n" + // ragged
		"f,1,\"fe\"male,3,S,1\n" + // malformed quote
		"g,2,female,4.5,C,\n"
	got, sum := run(t, m, in, score.Options{Format: score.CSV})
	recs, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("answer is not CSV: %v\n%s", err, got)
	}
	wantHeader := []string{"id", "class", "sex", "age", "embarked", "survived", "label", "p_0", "p_1", "error"}
	if fmt.Sprint(recs[0]) != fmt.Sprint(wantHeader) {
		t.Fatalf("header: got %v, want %v", recs[0], wantHeader)
	}
	if len(recs) != 8 {
		t.Fatalf("got %d records, want header + 7:\n%s", len(recs), got)
	}
	ids := []string{"a", "b", "c", "d,1", "e", "", "g"}
	for i, rec := range recs[1:] {
		if len(rec) != len(wantHeader) {
			t.Errorf("row %d: %d fields, want %d: %v", i, len(rec), len(wantHeader), rec)
			continue
		}
		if rec[0] != ids[i] {
			t.Errorf("row %d: id %q, want %q (order or input columns lost)", i, rec[0], ids[i])
		}
	}
	checkRow := func(i int, p artifact.Prediction) {
		t.Helper()
		rec := recs[i+1]
		if rec[6] != p.Label || rec[7] != ftoa(p.Probabilities["0"]) || rec[8] != ftoa(p.Probabilities["1"]) || rec[9] != "" {
			t.Errorf("row %d: got %v, want label %s, p %v and no error", i, rec[6:], p.Label, p.Probabilities)
		}
	}
	checkRow(0, want(t, m, "class", "1", "sex", "female", "age", "22", "embarked", "S"))
	checkRow(1, want(t, m, "class", "3", "sex", "male"))
	checkRow(6, want(t, m, "class", "2", "sex", "female", "age", "4.5", "embarked", "C"))
	for i, msg := range map[int]string{
		2: "class: must be one of 1, 2, 3",
		3: "age: must be a number between 0 and 120",
		4: "has 3 fields, the header has 6",
		5: "line 7",
	} {
		rec := recs[i+1]
		if rec[6] != "" || rec[7] != "" || rec[8] != "" || !strings.Contains(rec[9], msg) {
			t.Errorf("row %d: got %v, want empty predictions and an error with %q", i, rec[6:], msg)
		}
	}
	if !strings.Contains(recs[5][9], "line 6") {
		t.Errorf("ragged row's error %q does not name its line 6", recs[5][9])
	}
	if sum.Rows != 7 || sum.Errors != 4 || fmt.Sprint(sum.Ignored) != "[id]" {
		t.Errorf("summary: got %+v, want 7 rows, 4 errors, ignored [id]", sum)
	}
	// The input's columns are copied as they were written.
	if !strings.HasPrefix(strings.Split(got, "\n")[4], `"d,1",2,F,130,Q,`) {
		t.Errorf("row d: input not copied verbatim: %q", strings.Split(got, "\n")[4])
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// TestCSVChunksKeepOrder scores many rows in tiny chunks (so over several
// goroutines and chunks in flight) and in one chunk: the bytes are the
// same, and every row's answer is the one it gets alone.
func TestCSVChunksKeepOrder(t *testing.T) {
	t.Parallel()
	m := model(t)
	var b strings.Builder
	b.WriteString("class,sex,age\n")
	const n = 5000
	for i := range n {
		if i%97 == 0 {
			fmt.Fprintf(&b, "%d,male,-%d\n", i%3+1, i+1) // bad age
			continue
		}
		fmt.Fprintf(&b, "%d,%s,%d.5\n", i%3+1, []string{"male", "female"}[i%2], i%80)
	}
	small, s1 := run(t, m, b.String(), score.Options{Format: score.CSV, ChunkRows: 7})
	big, s2 := run(t, m, b.String(), score.Options{Format: score.CSV, ChunkRows: 100000})
	if small != big {
		t.Fatal("answers differ with the chunk size")
	}
	if !reflect.DeepEqual(s1, s2) || s1.Rows != n || s1.Errors != (n+96)/97 {
		t.Errorf("summary: %+v and %+v, want %d rows, %d errors", s1, s2, n, (n+96)/97)
	}
	lines := strings.Split(strings.TrimSuffix(small, "\n"), "\n")
	if len(lines) != n+1 {
		t.Fatalf("got %d lines, want %d", len(lines), n+1)
	}
	for i := 0; i < n; i += 13 {
		f := strings.Split(lines[i+1], ",")
		if i%97 == 0 {
			if f[len(f)-1] == "" {
				t.Errorf("row %d: no error: %s", i, lines[i+1])
			}
			continue
		}
		p := want(t, m, "class", strconv.Itoa(i%3+1), "sex", []string{"male", "female"}[i%2], "age", fmt.Sprintf("%d.5", i%80))
		if f[4] != ftoa(p.Probabilities["0"]) || f[5] != ftoa(p.Probabilities["1"]) {
			t.Errorf("row %d: got %v, want %v", i, f, p.Probabilities)
		}
	}
}

func TestCSVBadInput(t *testing.T) {
	t.Parallel()
	m := model(t)
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", "empty"},
		{"missing_required", "class,age\n1,3\n", "sex"},
		{"duplicate", "class,sex,sex\n1,male,male\n", "sex"},
		{"bad_header", "class,\"sex\n", "header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := score.Stream(context.Background(), m, strings.NewReader(c.in), &out, score.Options{Format: score.CSV})
			var bad *score.BadInputError
			if !errors.As(err, &bad) || !strings.Contains(bad.Msg, c.want) {
				t.Fatalf("got %v, want a BadInputError naming %q", err, c.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %q before failing", out.String())
			}
		})
	}
}

func TestMaxRows(t *testing.T) {
	t.Parallel()
	m := model(t)
	in := "class,sex\n1,male\n2,male\n3,male\n"
	var out bytes.Buffer
	_, err := score.Stream(context.Background(), m, strings.NewReader(in), &out, score.Options{Format: score.CSV, MaxRows: 2})
	var tm *score.TooManyRowsError
	if !errors.As(err, &tm) || tm.Max != 2 {
		t.Fatalf("got %v, want TooManyRowsError{2}", err)
	}
	if _, err := score.Stream(context.Background(), m, strings.NewReader(in), &out, score.Options{Format: score.CSV, MaxRows: 3}); err != nil {
		t.Fatalf("3 rows with MaxRows 3: %v", err)
	}
}

func TestNDJSON(t *testing.T) {
	t.Parallel()
	m := model(t)
	in := `{"class": 1, "sex": "female", "age": 22, "embarked": "S", "id": 7, "survived": 1}` + "\n" +
		"\n" +
		`{"class": 3, "sex": "male", "age": null}` + "\n" +
		`{"class": 9, "sex": "male"}` + "\n" +
		`{"class": 1, "sex": ` + "\n" +
		`[1, 2]` + "\n" +
		`{"class": 2, "sex": {"a": 1}}` + "\n" +
		`{"class": "2", "sex": "F", "age": 4.5}`
	got, sum := run(t, m, in, score.Options{Format: score.NDJSON})
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("got %d lines, want 7 (one per non-blank line):\n%s", len(lines), got)
	}
	type answer struct {
		artifact.Prediction
		Error  string            `json:"error"`
		Fields map[string]string `json:"fields"`
	}
	answers := make([]answer, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &answers[i]); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, l)
		}
	}
	good := map[int]artifact.Prediction{
		0: want(t, m, "class", "1", "sex", "female", "age", "22", "embarked", "S"),
		1: want(t, m, "class", "3", "sex", "male"),
		6: want(t, m, "class", "2", "sex", "F", "age", "4.5"),
	}
	for i, p := range good {
		a := answers[i]
		if a.Error != "" || a.Label != p.Label || math.Abs(a.Probabilities["1"]-p.Probabilities["1"]) > 0 {
			t.Errorf("line %d: got %s, want %+v", i, lines[i], p)
		}
		if !strings.HasPrefix(lines[i], `{"label":`) {
			t.Errorf("line %d: %s, want the JSON route's prediction object", i, lines[i])
		}
	}
	for i, w := range map[int]string{2: "class", 3: "JSON", 4: "object", 5: "sex"} {
		a := answers[i]
		if a.Error == "" || !strings.Contains(a.Error, w) || a.Label != "" {
			t.Errorf("line %d: got %s, want an error naming %q", i, lines[i], w)
		}
	}
	if answers[2].Fields["class"] == "" {
		t.Errorf("line 2: fields %v, want class", answers[2].Fields)
	}
	if sum.Rows != 7 || sum.Errors != 4 || fmt.Sprint(sum.Ignored) != "[id]" {
		t.Errorf("summary: got %+v, want 7 rows, 4 errors, ignored [id]", sum)
	}
}

// TestRegression: a regression model answers a value column.
func TestRegression(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 200 {
		fmt.Fprintf(&b, "%d,%d\n", i, 2*i+1)
	}
	path := dir + "/xy.csv"
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s := schema.Schema{Target: "y", Columns: []schema.Column{{Name: "x", Type: schema.Number}, {Name: "y", Type: schema.Number}}}
	m, err := fit(s, "linear", path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := run(t, m, "x\n10\nten\n", score.Options{Format: score.CSV})
	lines := strings.Split(got, "\n")
	p := want(t, m, "x", "10")
	if lines[0] != "x,value,error" || lines[1] != "10,"+ftoa(*p.Value)+"," || !strings.HasPrefix(lines[2], "ten,,") {
		t.Errorf("got %q, want header x,value,error and value %v", got, *p.Value)
	}
}

// TestNDJSONLongLine: a line over MaxLineBytes is answered with an error
// and the lines after it are scored.
func TestNDJSONLongLine(t *testing.T) {
	t.Parallel()
	m := model(t)
	in := `{"class": 1, "sex": "` + strings.Repeat("x", score.MaxLineBytes+10) + `"}` + "\n" + `{"class": 1, "sex": "F"}` + "\n"
	got, sum := run(t, m, in, score.Options{Format: score.NDJSON})
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "longer than") || !strings.HasPrefix(lines[1], `{"label":`) || sum.Errors != 1 {
		t.Errorf("got %d lines (%.80s…), %+v; want the long line's error, then a prediction", len(lines), got, sum)
	}
}
