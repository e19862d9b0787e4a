package e2e

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestScore scores a CSV file with `mlserve score`: every row answered in
// input order with the input's columns first, bad rows with their error
// instead of failing the file, the same bytes on stdout as in -o, and the
// same probabilities as `mlserve predict`.
func TestScore(t *testing.T) {
	t.Parallel()
	dir := trainedTitanic(t)
	in := filepath.Join(dir, "to_score.csv")
	var b strings.Builder
	b.WriteString("passenger,class,sex,age,embarked\n")
	rows := [][]string{
		{"p1", "1", "female", "22", "S"},
		{"p2", "3", "male", "", ""},
		{"p3", "4", "male", "30", "S"}, // no class 4
		{"p4", "2", "F", "130", "Q"},   // too old
		{"p5", "2", "male", "41.5", "C"},
	}
	for range 300 { // enough rows for several goroutines
		for _, r := range rows {
			b.WriteString(strings.Join(r, ",") + "\n")
		}
	}
	b.WriteString("p6,1,female\n") // ragged
	if err := os.WriteFile(in, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "scored.csv")
	r := mustRun(t, dir, "score", "titanic", "to_score.csv", "-o", "scored.csv")
	if r.stdout != "" {
		t.Errorf("stdout with -o: %q, want nothing", r.stdout)
	}
	if !strings.Contains(r.stderr, "1501 rows") || !strings.Contains(r.stderr, "601 errors") || !strings.Contains(r.stderr, "rows/s") {
		t.Errorf("summary on stderr: %q, want 1501 rows, 601 errors and rows/s", r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatalf("%s is not CSV: %v", out, err)
	}
	wantHeader := []string{"passenger", "class", "sex", "age", "embarked", "label", "p_0", "p_1", "error"}
	if !slices.Equal(recs[0], wantHeader) {
		t.Fatalf("header %v, want %v", recs[0], wantHeader)
	}
	if len(recs) != 1+1501 {
		t.Fatalf("%d rows, want 1501", len(recs)-1)
	}
	probs := map[string]string{} // passenger -> p_1 of the good rows
	for i, rec := range recs[1:1501] {
		want := rows[i%len(rows)]
		if !slices.Equal(rec[:5], want) {
			t.Fatalf("row %d: input %v, want %v (order kept, input copied)", i, rec[:5], want)
		}
		switch want[0] {
		case "p3", "p4":
			if rec[5] != "" || rec[7] != "" || rec[8] == "" {
				t.Errorf("row %d (%s): %v, want no prediction and an error", i, want[0], rec[5:])
			}
		default:
			if rec[5] == "" || rec[8] != "" {
				t.Errorf("row %d (%s): %v, want a prediction and no error", i, want[0], rec[5:])
			}
			if p, ok := probs[want[0]]; ok && p != rec[7] {
				t.Errorf("row %d (%s): p_1 %s, earlier %s", i, want[0], rec[7], p)
			}
			probs[want[0]] = rec[7]
		}
	}
	if e := recs[1501][8]; !strings.Contains(e, "has 3 fields, the header has 5") {
		t.Errorf("ragged row's error %q", e)
	}
	if e := recs[3][8]; !strings.Contains(e, "class: must be one of 1, 2, 3") {
		t.Errorf("p3's error %q, want the class rule", e)
	}

	t.Run("same_as_predict", func(t *testing.T) {
		var got struct {
			Predictions []struct {
				Probabilities map[string]float64 `json:"probabilities"`
			} `json:"predictions"`
		}
		r := mustRun(t, dir, "predict", "titanic", "class=2", "sex=male", "age=41.5", "embarked=C")
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatal(err)
		}
		if want := strconv.FormatFloat(got.Predictions[0].Probabilities["1"], 'f', -1, 64); probs["p5"] != want {
			t.Errorf("p5's p_1 %s, want predict's %s", probs["p5"], want)
		}
	})
	t.Run("stdout_same_bytes", func(t *testing.T) {
		r := mustRun(t, dir, "score", "titanic", "to_score.csv", "--version", "1")
		if r.stdout != string(data) {
			t.Errorf("stdout differs from -o's file (%d vs %d bytes)", len(r.stdout), len(data))
		}
	})
	t.Run("errors", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "no_sex.csv"), []byte("class,age\n1,3\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "all_bad.csv"), []byte("class,sex\n9,male\n8,female\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"score", "titanic", "no_sex.csv", "-o", "x.csv"}, 1, "sex"},
			{[]string{"score", "titanic", "all_bad.csv", "-o", "bad.csv"}, 1, "every row"},
			{[]string{"score", "titanic", "to_score.csv", "--version", "9"}, 1, "version"},
			{[]string{"score", "nope", "to_score.csv"}, 1, "nope"},
			{[]string{"score", "titanic", "missing.csv"}, 1, "missing.csv"},
			{[]string{"score", "titanic", "to_score.csv", "-o", "to_score.csv"}, 2, "input"},
		} {
			r := mlserve(t, dir, c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Errorf("%v: want exit %d naming %q, got %s", c.args, c.code, c.want, r)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "x.csv")); !os.IsNotExist(err) {
			t.Errorf("a failed score left its output file: %v", err)
		}
		if data, err := os.ReadFile(filepath.Join(dir, "bad.csv")); err != nil || strings.Count(string(data), "\n") != 3 {
			t.Errorf("all-bad file: want its answers written anyway, got %q (%v)", data, err)
		}
		if got, _ := os.ReadFile(in); string(got) != b.String() {
			t.Error("the input was changed")
		}
	})
}
