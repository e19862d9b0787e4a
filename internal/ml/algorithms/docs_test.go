package algorithms_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/ml/algorithms"
)

// docRows returns the param table of an algorithm's section of
// docs/algorithms.md: param name to its "default" cell.
func docRows(t *testing.T, doc, alg string) map[string]string {
	t.Helper()
	_, sec, ok := strings.Cut(doc, "\n## "+alg+"\n")
	if !ok {
		t.Fatalf("docs/algorithms.md has no section \"## %s\"", alg)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	rows := map[string]string{}
	for _, line := range strings.Split(sec, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[2])
	}
	return rows
}

// knownParams asks an algorithm which params it reads: the error for an
// unknown one lists them.
func knownParams(t *testing.T, alg ml.Algorithm, task ml.Task) []string {
	t.Helper()
	_, _, err := alg.NewTrainer(task, ml.Params{"zz_unknown": 1}, 1)
	var pe *ml.ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("%s: unknown param: %v, want a ParamError", alg.Name(), err)
	}
	_, list, ok := strings.Cut(pe.Msg, "known params are ")
	if !ok {
		t.Fatalf("%s: %q lists no known params", alg.Name(), pe.Msg)
	}
	return strings.Split(list, ", ")
}

// TestDocumentedParams checks docs/algorithms.md against the code: every
// algorithm has a section whose table lists exactly the params it reads,
// each with the default it resolves to.
func TestDocumentedParams(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../../docs/algorithms.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	// Configurations whose resolved params together cover every param.
	configs := map[string][]struct {
		task   ml.Task
		params ml.Params
	}{
		"logistic": {{ml.Binary, nil}, {ml.Multiclass, ml.Params{"cv": 5}}},
		"linear":   {{ml.Regression, nil}},
		"gbdt":     {{ml.Regression, nil}, {ml.Binary, nil}, {ml.Multiclass, nil}},
	}
	for _, name := range algorithms.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			alg, err := algorithms.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			rows := docRows(t, doc, name)
			cfgs, ok := configs[name]
			if !ok {
				t.Fatalf("no test configuration for algorithm %s", name)
			}
			known := knownParams(t, alg, cfgs[0].task)
			documented := make([]string, 0, len(rows))
			for k := range rows {
				documented = append(documented, k)
			}
			slices.Sort(documented)
			slices.Sort(known)
			if !slices.Equal(documented, known) {
				t.Errorf("documented params %v, the code reads %v", documented, known)
			}
			for _, c := range cfgs {
				_, resolved, err := alg.NewTrainer(c.task, c.params, 1)
				if err != nil {
					t.Fatalf("%s %v: %v", c.task, c.params, err)
				}
				for k, v := range resolved {
					if _, given := c.params[k]; given || k == "C_chosen" {
						continue
					}
					cell, ok := rows[k]
					if !ok {
						t.Errorf("resolved param %s is not documented", k)
						continue
					}
					if msg := defaultMatches(cell, v); msg != "" {
						t.Errorf("%s (%s): documented default %q, the code resolves %v: %s", k, c.task, cell, v, msg)
					}
				}
			}
		})
	}
}

// defaultMatches reports why a documented default cell does not state v
// ("" when it does): a number must be the cell's first token, a string must
// appear in it in backquotes, a list must have the documented count.
func defaultMatches(cell string, v any) string {
	first := strings.Trim(strings.Fields(cell + " x")[0], "`")
	switch x := v.(type) {
	case string:
		if !strings.Contains(cell, "`"+x+"`") && first != x {
			return "value not in the cell"
		}
		return ""
	case []float64:
		n, err := strconv.Atoi(first)
		if err != nil || n != len(x) {
			return fmt.Sprintf("want the grid size %d", len(x))
		}
		return ""
	}
	var want float64
	switch x := v.(type) {
	case int:
		want = float64(x)
	case float64:
		want = x
	default:
		return fmt.Sprintf("unexpected type %T", v)
	}
	got, err := strconv.ParseFloat(first, 64)
	if err != nil || got != want {
		return "first token is not the default"
	}
	return ""
}
