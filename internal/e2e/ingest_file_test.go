package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestFileFirstHour checks what `ingest-file` tells a new user about
// a CSV that is not quite what the pipeline expects: counts in words ("1
// row"), a file whose every row is rejected fails the command, a file with
// a header and no rows stores nothing and says so, an extra column is
// ignored with a warning (or refused under schema.unknown_columns:
// reject), and the delimiter is detected or given with --delimiter.
func TestIngestFileFirstHour(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T, files map[string]string) string {
		t.Helper()
		dir := t.TempDir()
		mustRun(t, dir, "init", "--example", "titanic")
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	const header = "survived,class,sex,age,embarked\n"

	t.Run("OneRowInWords", func(t *testing.T) {
		t.Parallel()
		dir := setup(t, map[string]string{"one.csv": header + "1,1,female,38,C\n"})
		r := mustRun(t, dir, "--data-dir", "data", "ingest-file", "titanic", "one.csv")
		if !strings.Contains(r.stdout, ": 1 row accepted, 0 rejected") {
			t.Errorf("stdout %q; want it to say \"1 row accepted, 0 rejected\"", r.stdout)
		}
	})

	t.Run("EveryRowRejectedFails", func(t *testing.T) {
		t.Parallel()
		dir := setup(t, map[string]string{"bad.csv": header + "1,9,female,38,C\n0,3,alien,22,S\n"})
		r := mlserve(t, dir, "--data-dir", "data", "ingest-file", "titanic", "bad.csv")
		if r.code != 1 {
			t.Fatalf("want exit 1 when every row is rejected, got %s", r)
		}
		if !strings.Contains(r.stdout, "0 rows accepted, 2 rejected") || !strings.Contains(r.stderr, "every row (2) was rejected") {
			t.Errorf("want the counts on stdout and \"every row (2) was rejected\" on stderr, got %s", r)
		}
	})

	t.Run("HeaderOnlyStoresNothing", func(t *testing.T) {
		t.Parallel()
		dir := setup(t, map[string]string{"empty.csv": header})
		r := mlserve(t, dir, "--data-dir", "data", "ingest-file", "titanic", "empty.csv")
		if msg := failure(t, r, 1); !strings.Contains(msg, "no rows") || !strings.Contains(msg, "nothing was stored") {
			t.Errorf("header-only CSV: %q; want it to say the file has no rows and nothing was stored", msg)
		}
	})

	t.Run("ExtraColumnIgnoredWithAWarning", func(t *testing.T) {
		t.Parallel()
		dir := setup(t, map[string]string{"extra.csv": "survived,class,cabin,sex,age,embarked,fare\n1,1,C85,female,38,C,71.3\n"})
		r := mustRun(t, dir, "--data-dir", "data", "ingest-file", "titanic", "extra.csv")
		if !strings.Contains(r.stdout, "1 row accepted") || !strings.Contains(r.stdout, "ignored column(s) not in the schema: cabin, fare") {
			t.Errorf("stdout %q; want 1 row accepted and the ignored columns cabin, fare", r.stdout)
		}
		r = mustRun(t, dir, "--data-dir", "data", "ingest-file", "titanic", "extra.csv", "--json")
		var a struct {
			Accepted int      `json:"accepted"`
			Ignored  []string `json:"ignored_columns"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &a); err != nil {
			t.Fatalf("--json: %v\n%s", err, r.stdout)
		}
		if a.Accepted != 1 || strings.Join(a.Ignored, ",") != "cabin,fare" {
			t.Errorf("--json: %+v; want accepted 1, ignored_columns [cabin fare]", a)
		}
	})

	t.Run("ExtraColumnRejectedWhenTheSchemaSaysSo", func(t *testing.T) {
		t.Parallel()
		dir := setup(t, map[string]string{"extra.csv": "survived,class,cabin,sex,age,embarked\n1,1,C85,female,38,C\n"})
		yaml, err := os.ReadFile(filepath.Join(dir, "mlserve.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		strict := strings.Replace(string(yaml), "    schema:\n", "    schema:\n      unknown_columns: reject\n", 1)
		if strict == string(yaml) {
			t.Fatal("the example has no \"schema:\" line to add unknown_columns under")
		}
		if err := os.WriteFile(filepath.Join(dir, "mlserve.yaml"), []byte(strict), 0o644); err != nil {
			t.Fatal(err)
		}
		r := mlserve(t, dir, "--data-dir", "data", "ingest-file", "titanic", "extra.csv")
		if msg := failure(t, r, 1); !strings.Contains(msg, "unknown column(s) cabin") {
			t.Errorf("unknown_columns: reject: %q; want the unknown column cabin refused", msg)
		}
	})

	t.Run("DelimiterDetectedOrGiven", func(t *testing.T) {
		t.Parallel()
		rows := "1;1;female;38;C\n0;3;male;22,5;S\n"
		dir := setup(t, map[string]string{
			"semi.csv": strings.ReplaceAll(header, ",", ";") + rows,
			"tab.csv":  strings.ReplaceAll(header, ",", "\t") + "1\t1\tfemale\t38\tC\n",
			"pipe.txt": strings.ReplaceAll(header, ",", "|") + "1|1|female|38|C\n",
		})
		for _, c := range []struct {
			file  string
			extra []string
			want  string
		}{
			{"semi.csv", nil, "1 row accepted, 1 rejected"}, // 22,5 is no number: the ';' split is right
			{"tab.csv", nil, "1 row accepted, 0 rejected"},
			{"pipe.txt", []string{"--format", "csv", "--delimiter", "|"}, "1 row accepted, 0 rejected"},
		} {
			r := mustRun(t, dir, append([]string{"--data-dir", "data", "ingest-file", "titanic", c.file}, c.extra...)...)
			if !strings.Contains(r.stdout, c.want) {
				t.Errorf("%s: stdout %q; want %q", c.file, r.stdout, c.want)
			}
		}
		r := mlserve(t, dir, "--data-dir", "data", "ingest-file", "titanic", "semi.csv", "--delimiter", "ab")
		failure(t, r, 2)
	})
}
