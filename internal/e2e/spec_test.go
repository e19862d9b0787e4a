package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/sampledata"
)

// specYAML is a titanic pipeline that trains at 50 rows and again 1 s
// after 100 new rows, with the given algorithm.
func specYAML(algorithm string) string {
	return `pipelines:
  - name: titanic
    schema:
      target: survived
      columns:
        - {name: survived, type: category, values: [0, 1]}
        - {name: class, type: category, values: [1, 2, 3]}
        - {name: sex, type: category, values: [male, female]}
        - {name: age, type: number, nullable: true}
        - {name: embarked, type: category, values: [C, S, Q], nullable: true}
    model: {algorithm: ` + algorithm + `}
    train: {min_rows: 50, on_new_rows: 100, debounce: 1s}
`
}

// splitSeed writes the seed titanic CSV's first n rows and the rest as two
// files in dir.
func splitSeed(t *testing.T, dir string, n int) (first, rest string) {
	t.Helper()
	lines := strings.SplitAfter(strings.TrimRight(string(sampledata.Bytes(sampledata.SeedTitanic)), "\n")+"\n", "\n")
	header, rows := lines[0], lines[1:]
	first, rest = filepath.Join(dir, "first.csv"), filepath.Join(dir, "rest.csv")
	for path, part := range map[string][]string{first: rows[:n], rest: rows[n:]} {
		if err := os.WriteFile(path, []byte(header+strings.Join(part, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return first, rest
}

type specRun struct {
	ID          int64  `json:"id"`
	State       string `json:"state"`
	Reason      string `json:"reason"`
	Version     int    `json:"version"`
	SpecVersion int    `json:"spec_version"`
	Message     string `json:"message"`
	SameAs      int    `json:"same_as"`
}

type specVersion struct {
	Version     int    `json:"version"`
	Algorithm   string `json:"algorithm"`
	SpecVersion int    `json:"spec_version"`
	RunID       int64  `json:"run_id"`
}

// TestUpFollowsEditedPipelineFile runs `up` on a logistic pipeline, edits
// the file to gbdt, and checks that up applies the edit within 5 s (saying
// so in its log), that the next run of the server's new-rows trigger and
// of `train --wait` both train gbdt with spec version 2, and that `runs`
// and `models` show the spec version. The data dir defaults to a folder
// beside the pipeline file, not the current directory.
func TestUpFollowsEditedPipelineFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	proj := filepath.Join(dir, "proj")
	if err := os.Mkdir(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(proj, "mlserve.yaml")
	if err := os.WriteFile(cfg, []byte(specYAML("logistic")), 0o644); err != nil {
		t.Fatal(err)
	}
	first, rest := splitSeed(t, dir, 400)
	// Every command runs in dir, one folder above the pipeline file.
	srv := startServer(t, dir, "up", "--config", cfg)
	if _, err := os.Stat(filepath.Join(proj, ".mlserve", "mlserve.db")); err != nil {
		t.Fatalf("up --config proj/mlserve.yaml keeps no database beside the file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".mlserve")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("up --config proj/mlserve.yaml made a data dir in the current folder (stat: %v)", err)
	}

	runs := func() []specRun {
		var l struct{ Runs []specRun }
		mustJSON(t, &l, dir, "runs", "titanic", "--json", "--config", cfg)
		return l.Runs
	}
	versions := func() []specVersion {
		var l struct{ Versions []specVersion }
		mustJSON(t, &l, dir, "models", "titanic", "--json", "--config", cfg)
		return l.Versions
	}
	mustRun(t, dir, "ingest-file", "titanic", first, "--config", cfg)
	eventually(t, 60*time.Second, 100*time.Millisecond, "the first model (trigger at min_rows)", func() bool {
		rs := runs()
		return len(rs) > 0 && rs[0].State == "succeeded" && rs[0].Version == 1
	})
	if v := versions(); len(v) != 1 || v[0].Algorithm != "logistic" || v[0].SpecVersion != 1 {
		t.Fatalf("models after the first run: %+v, want v1 logistic from spec v1", v)
	}

	if err := os.WriteFile(cfg, []byte(specYAML("gbdt")), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = "pipeline titanic: spec v1 → v2: model.algorithm logistic → gbdt"
	took := eventually(t, 5*time.Second, 50*time.Millisecond, "up logs the applied edit", func() bool {
		return strings.Contains(srv.stderr.String(), want)
	})
	t.Logf("up applied the edited file %.2f s after the write", took.Seconds())

	// The server's trigger: 491 new rows, then 1 s of debounce.
	mustRun(t, dir, "ingest-file", "titanic", rest, "--config", cfg)
	var trig specRun
	eventually(t, 60*time.Second, 100*time.Millisecond, "the trigger's run after the edit", func() bool {
		rs := runs()
		if len(rs) < 2 || rs[0].Reason != "new_rows" || rs[0].State != "succeeded" {
			return false
		}
		trig = rs[0]
		return true
	})
	if trig.SpecVersion != 2 || trig.Version == 0 {
		t.Fatalf("the trigger's run after the edit: %+v, want spec_version 2 and a new version", trig)
	}

	var manual specRun
	mustJSON(t, &manual, dir, "train", "titanic", "--wait", "--json", "--config", cfg)
	// On the trigger's rows with the same spec and seed, train --wait makes
	// the trigger's artifact again: no new version, "same as" it.
	if manual.State != "succeeded" || manual.SpecVersion != 2 || (manual.Version == 0) == (manual.SameAs == 0) {
		t.Fatalf("train --wait after the edit: %+v, want succeeded with spec_version 2 and a version or same_as", manual)
	}
	for _, v := range versions() {
		if v.RunID == trig.ID || v.RunID == manual.ID || v.Version == manual.SameAs {
			if v.Algorithm != "gbdt" || v.SpecVersion != 2 {
				t.Errorf("version %d of run %d: algorithm %s, spec v%d; want gbdt from spec v2", v.Version, v.RunID, v.Algorithm, v.SpecVersion)
			}
		}
	}
	table := mustRun(t, dir, "runs", "titanic", "--config", cfg).stdout
	if !strings.Contains(table, "SPEC") || !strings.Contains(table, "v2") {
		t.Errorf("runs table lacks the spec version:\n%s", table)
	}
}

// TestSecondProcessOnDataDirRefused starts `up` and then a second `up` on
// the same embedded data dir: the second must exit 1 at once, naming the
// pid of the first, instead of running a second trainer on the same files.
func TestSecondProcessOnDataDirRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mlserve.yaml")
	if err := os.WriteFile(cfg, []byte(specYAML("logistic")), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, dir, "up")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "up", "--addr", "127.0.0.1:"+strconv.Itoa(freePort(t)))
	cmd.Dir = dir
	cmd.Env = childEnv()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("second up on one data dir: %v (want exit 1)\n%s", err, out)
	}
	pid := strconv.Itoa(srv.cmd.Process.Pid)
	for _, w := range []string{"in use by another mlserve process", "pid " + pid, "--data-dir"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("second up's message lacks %q:\n%s", w, out)
		}
	}
	// One-shot commands still work beside the running up.
	mustRun(t, dir, "runs")
}
