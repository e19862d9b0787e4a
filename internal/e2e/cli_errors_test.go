package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// copyTestdata copies files from testdata/cli_errors into dir.
func copyTestdata(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", "cli_errors", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// failure checks a command failed with exit code want and a message on
// stderr: one line for failures (exit 1), the problem plus a pointer to
// help for bad usage (exit 2). It returns the first line.
func failure(t *testing.T, r *result, want int) string {
	t.Helper()
	if r.code != want {
		t.Fatalf("want exit %d, got %s", want, r)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "mlserve: ") || strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Errorf("stderr should be a message starting \"mlserve: \", got:\n%s", r.stderr)
	}
	switch want {
	case 1:
		if len(lines) != 1 {
			t.Errorf("a failure's message should be one line, got %d:\n%s", len(lines), r.stderr)
		}
	case 2:
		if len(lines) > 2 {
			t.Errorf("a usage error's message should be at most two lines, got %d:\n%s", len(lines), r.stderr)
		}
	}
	return lines[0]
}

// TestCLIErrors checks exit codes and messages of commands that cannot do
// what they were asked: 1 with one line saying what to do, 2 for bad usage.
func TestCLIErrors(t *testing.T) {
	t.Parallel()

	t.Run("malformed config", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ file, at, says string }{
			{"malformed.yaml", "malformed.yaml:3:", "never closed"},
			{"unknown_field.yaml", "unknown_field.yaml:5:", "colums"},
			{"param_typo.yaml", "param_typo.yaml:10:", "n_tree: did you mean n_trees?"},
		} {
			dir := t.TempDir()
			copyTestdata(t, dir, tc.file)
			for _, args := range [][]string{{"models"}, {"up", "--addr", "127.0.0.1:0"}} {
				r := mlserve(t, dir, append(args, "--config", tc.file, "--data-dir", "data")...)
				msg := failure(t, r, 1)
				if !strings.Contains(msg, tc.at) || !strings.Contains(msg, tc.says) {
					t.Errorf("mlserve %s with %s: %q, want it to name %s and say %q", args[0], tc.file, msg, tc.at, tc.says)
				}
			}
		}
	})

	t.Run("missing config", func(t *testing.T) {
		t.Parallel()
		r := mlserve(t, t.TempDir(), "runs", "--data-dir", "data")
		if msg := failure(t, r, 1); !strings.Contains(msg, "mlserve.yaml") || !strings.Contains(msg, "mlserve init") {
			t.Errorf("runs without a pipeline file: %q, want it to name mlserve.yaml and suggest mlserve init", msg)
		}
	})

	t.Run("bad usage", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			args []string
			says string
		}{
			{[]string{"frobnicate"}, `unknown command "frobnicate"`},
			{[]string{"models", "--bogus"}, "unknown flag: --bogus"},
			{[]string{"up", "--demo=maybe"}, "--demo"},
			{[]string{"promote", "titanic"}, "2 arg"},
			{[]string{"promote", "titanic", "latest"}, "VERSION"},
			{[]string{"fit", "x.csv"}, "--target"},
		} {
			r := mlserve(t, t.TempDir(), tc.args...)
			if msg := failure(t, r, 2); !strings.Contains(msg, tc.says) {
				t.Errorf("mlserve %s: %q, want it to say %q", strings.Join(tc.args, " "), msg, tc.says)
			}
		}
	})

	t.Run("titanic", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		flags := []string{"--config", "mlserve.yaml", "--data-dir", "data"}
		mustRun(t, dir, "init", "--example", "titanic")
		seed, err := filepath.Abs(filepath.Join(dataDir, "seed_titanic.csv"))
		if err != nil {
			t.Fatal(err)
		}
		var a ingestAnswer
		mustJSON(t, &a, dir, append([]string{"ingest-file", "titanic", seed, "--json"}, flags...)...)
		if a.Accepted != 891 || a.Rejected != 0 {
			t.Fatalf("ingest-file seed_titanic.csv: %+v, want 891 accepted", a)
		}
		versions := func() int {
			var vs versionList
			mustJSON(t, &vs, dir, append([]string{"models", "--json"}, flags...)...)
			return len(vs.Versions)
		}
		nVersions := versions()

		t.Run("promote a missing version", func(t *testing.T) {
			r := mlserve(t, dir, append([]string{"promote", "titanic", "99"}, flags...)...)
			if msg := failure(t, r, 1); !strings.Contains(msg, "99") || !strings.Contains(msg, "mlserve models") {
				t.Errorf("promote titanic 99: %q, want it to name version 99 and hint at `mlserve models`", msg)
			}
			r = mlserve(t, dir, append([]string{"rollback", "titanic"}, flags...)...)
			failure(t, r, 1)
		})

		t.Run("unknown pipeline", func(t *testing.T) {
			r := mlserve(t, dir, append([]string{"train", "nosuch", "--wait"}, flags...)...)
			if msg := failure(t, r, 1); !strings.Contains(msg, "nosuch") || !strings.Contains(msg, "titanic") {
				t.Errorf("train nosuch: %q, want it to name nosuch and list titanic", msg)
			}
		})

		t.Run("predict before any model", func(t *testing.T) {
			r := mlserve(t, dir, append([]string{"predict", "titanic", "class=1", "sex=female"}, flags...)...)
			if msg := failure(t, r, 1); !strings.Contains(msg, "mlserve train titanic") {
				t.Errorf("predict without a model: %q, want it to say how to train one", msg)
			}
		})

		t.Run("ingest a file missing a column", func(t *testing.T) {
			copyTestdata(t, dir, "missing_column.csv")
			r := mlserve(t, dir, append([]string{"ingest-file", "titanic", "missing_column.csv"}, flags...)...)
			if msg := failure(t, r, 1); !strings.Contains(msg, "sex") || !strings.Contains(msg, "nothing was stored") {
				t.Errorf("ingest-file without the sex column: %q, want it to name sex and say nothing was stored", msg)
			}
			if r.stdout != "" {
				t.Errorf("a refused ingest-file printed on stdout: %q", r.stdout)
			}
			if n := versions(); n != nVersions {
				t.Errorf("model versions: %d before, %d after", nVersions, n)
			}
			// The ingest role reports what the dataset holds.
			srv := startServer(t, dir, append([]string{"ingest"}, flags...)...)
			var info datasetInfo
			srv.getJSON(t, "/v1/datasets/titanic", http.StatusOK, &info)
			if info.Rows != 891 || info.Batches != 1 || info.Quarantined != 0 {
				t.Errorf("dataset after the refused file: %+v, want the seed's 891 rows in 1 batch, nothing quarantined", info)
			}
			srv.stop(t, 15*time.Second)
		})

		t.Run("schema check", func(t *testing.T) {
			copyTestdata(t, dir, "check.csv")
			r := mustRun(t, dir, append([]string{"schema", "check", "titanic", "check.csv"}, flags...)...)
			for _, want := range []string{"2 rows would be accepted, 2 rejected", "line 3: class: must be one of 1, 2, 3", "line 4: age: must be a number between 0 and 120", "embarked: must be one of C, S, Q"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("schema check: stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			var rep struct {
				Accepted int64 `json:"accepted"`
				Rejected int64 `json:"rejected"`
				Errors   []struct {
					Row    int               `json:"row"`
					Line   int               `json:"line"`
					Fields map[string]string `json:"fields"`
				} `json:"errors"`
			}
			mustJSON(t, &rep, dir, append([]string{"schema", "check", "titanic", "check.csv", "--json"}, flags...)...)
			got, _ := json.Marshal(rep)
			want := `{"accepted":2,"rejected":2,"errors":[{"row":1,"line":3,"fields":{"class":"must be one of 1, 2, 3"}},` +
				`{"row":2,"line":4,"fields":{"age":"must be a number between 0 and 120","embarked":"must be one of C, S, Q"}}]}`
			if string(got) != want {
				t.Errorf("schema check --json:\ngot  %s\nwant %s", got, want)
			}
			// A check stores nothing.
			srv := startServer(t, dir, append([]string{"ingest"}, flags...)...)
			var info datasetInfo
			srv.getJSON(t, "/v1/datasets/titanic", http.StatusOK, &info)
			if info.Rows != 891 || info.Quarantined != 0 {
				t.Errorf("dataset after schema check: %+v, want it unchanged (891 rows, nothing quarantined)", info)
			}
			srv.stop(t, 15*time.Second)
		})
	})
}
