package e2e

import (
	"encoding/csv"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/demo"
)

// slowPipeline is a titanic pipeline whose training takes long enough to
// be killed in the middle (a gbdt of many deep trees, no early stopping).
const slowPipeline = `pipelines:
  - name: titanic
    schema:
      target: survived
      columns:
        - {name: survived, type: category, values: [0, 1]}
        - {name: class,    type: category, values: [1, 2, 3]}
        - {name: sex,      type: category, values: [male, female]}
        - {name: age,      type: number, min: 0, max: 120, nullable: true}
        - {name: embarked, type: category, values: [C, S, Q], nullable: true}
    model:
      algorithm: gbdt
      params: {n_trees: 100000, max_depth: 8, learning_rate: 0.01}
      holdout: 0.2
      seed: 42
    train:
      on_new_rows: 0
      min_rows: 50
    promote:
      metric: roc_auc
      min: 0.5
`

// writeSlowPipeline writes slowPipeline and 2000 synthetic passengers into
// dir and returns the CSV's path.
func writeSlowPipeline(t *testing.T, dir string) string {
	return writePipeline(t, dir, slowPipeline)
}

// writePipeline writes the pipeline file yaml and 2000 synthetic
// passengers into dir and returns the CSV's path.
func writePipeline(t *testing.T, dir, yaml string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "mlserve.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "passengers.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(demo.Columns)
	gen := demo.NewTitanic(7)
	for range 2000 {
		_ = w.Write(gen.Next().Record())
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

// apiRun is a run as GET /v1/runs/{id} answers it.
type apiRun struct {
	ID        int64   `json:"id"`
	State     string  `json:"state"`
	Reason    string  `json:"reason"`
	StartedAt *string `json:"started_at"`
	Error     string  `json:"error"`
	Attempt   int     `json:"attempt"`
}

// trainNow asks s for a manual run and returns it.
func (s *server) trainNow(t *testing.T) apiRun {
	t.Helper()
	var r apiRun
	s.postJSON(t, "/v1/pipelines/titanic/runs", "", nil, http.StatusAccepted, &r)
	return r
}

// run reads one run; ok is false when s did not answer.
func (s *server) run(id int64) (apiRun, bool) {
	var r apiRun
	return r, s.fetch("/v1/runs/"+strconv.FormatInt(id, 10), &r) == nil
}

// runs lists the runs s knows, newest first.
func (s *server) runs() []apiRun {
	var out struct {
		Runs []apiRun `json:"runs"`
	}
	_ = s.fetch("/v1/runs?limit=20", &out)
	return out.Runs
}

// waitFor polls f every 100 ms for up to limit and returns how long it took
// to come true, or false at the limit. Unlike eventually it does not fail:
// a test measures first and judges the time after.
func waitFor(limit time.Duration, f func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if f() {
			return time.Since(start), true
		}
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRestartAfterKill kills `mlserve up` (SIGKILL) while it trains, with a
// second run queued behind, and starts it again on the same data folder.
// Within 10 s of the restart the killed attempt must be noted ("trainer
// gone") and handed back to the queue, and a training must start again.
func TestRestartAfterKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csvPath := writeSlowPipeline(t, dir)
	mustRun(t, dir, "ingest-file", "titanic", csvPath)

	s := startServer(t, dir, "up")
	// The first training starts on its own once there are rows (a new_rows
	// run) or on this request, whichever is first.
	s.trainNow(t)
	var first apiRun
	if _, ok := waitFor(30*time.Second, func() bool {
		for _, r := range s.runs() {
			if r.State == "running" {
				first = r
			}
		}
		return first.ID != 0
	}); !ok {
		t.Fatalf("no run started within 30 s: %+v", s.runs())
	}
	queued := s.trainNow(t)
	if queued.ID == first.ID || queued.State != "queued" {
		t.Fatalf("second train-now: run %d %s, want a new queued run", queued.ID, queued.State)
	}
	s.kill()

	s = startServer(t, dir, "up")
	restarted := time.Now()
	// The killed attempt is noted and handed back (the run records why),
	// and a training starts: a new attempt of the run or the queued run.
	// Both are timed from the restart, in one loop.
	var noted, started time.Duration
	_, _ = waitFor(100*time.Second, func() bool {
		a, okA := s.run(first.ID)
		b, okB := s.run(queued.ID)
		if !okA || !okB {
			return false
		}
		if noted == 0 && (a.State != "running" || strings.Contains(a.Error, "trainer gone")) {
			noted = time.Since(restarted)
		}
		if started == 0 && ((a.State == "running" && a.Attempt > 1) || b.State != "queued") {
			started = time.Since(restarted)
		}
		return noted > 0 && started > 0
	})
	okNoted, okStarted := noted > 0, started > 0
	t.Logf("after the restart: killed run %d noted after %.1f s (%v); a training started after %.1f s (%v)",
		first.ID, noted.Seconds(), okNoted, started.Seconds(), okStarted)
	if !okNoted || noted > 10*time.Second {
		t.Errorf("killed run %d: its dead attempt was not handed back within 10 s of the restart (%.1f s)", first.ID, noted.Seconds())
	}
	if !okStarted || started > 10*time.Second {
		t.Errorf("no training started within 10 s of the restart (%.1f s)", started.Seconds())
	}
	if t.Failed() {
		t.Logf("runs: %+v", s.runs())
	}
}

// TestTrainerKilledTakeover runs two trainers on PostgreSQL and stops the
// one training: the other must take the run over within 20 s. SIGKILL
// leaves a process this machine can see is gone; SIGSTOP one that looks
// alive but renews nothing, as a trainer on another machine that died
// does, so only its lease's expiry tells.
func TestTrainerKilledTakeover(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{{"Killed", syscall.SIGKILL}, {"Frozen", syscall.SIGSTOP}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			takeover(t, tc.sig)
		})
	}
}

func takeover(t *testing.T, sig syscall.Signal) {
	pg := startPostgres(t)
	dir := t.TempDir()
	csvPath := writeSlowPipeline(t, dir)
	env := []string{"MLSERVE_DATABASE_URL=" + pg.URL(), "MLSERVE_ARTIFACTS_URL=file://" + filepath.Join(dir, "artifacts"), "MLSERVE_LOG_FORMAT=json"}
	if r := mlserveEnv(t, dir, env, "ingest-file", "titanic", csvPath); r.code != 0 {
		t.Fatalf("%s", r)
	}
	roles := startRoles(t, dir, filepath.Join(dir, "mlserve.yaml"), env, map[string]string{"api": "api", "t1": "trainer", "t2": "trainer"})
	api := roles["api"]
	api.trainNow(t)
	// The first training starts on its own once there are rows (a new_rows
	// run) or on this request, whichever is first.
	var run int64
	started := func(tr *role, attempt int) bool {
		for _, rec := range tr.logs("training started") {
			if (run == 0 || rec.int("run") == run) && rec.int("attempt") >= int64(attempt) {
				run = rec.int("run")
				return true
			}
		}
		return false
	}
	var holder, other *role
	if _, ok := waitFor(60*time.Second, func() bool {
		switch {
		case started(roles["t1"], 1):
			holder, other = roles["t1"], roles["t2"]
		case started(roles["t2"], 1):
			holder, other = roles["t2"], roles["t1"]
		}
		return holder != nil
	}); !ok {
		t.Fatal("no trainer started a run within 60 s")
	}
	if err := holder.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(holder.kill) // a stopped process still needs its SIGKILL
	// Taken over: the other trainer notes the attempt as lost and queues
	// the run again (it then trains as soon as the pipeline's lease is
	// free: a run queued meanwhile may hold it first), or starts the next
	// attempt itself.
	handedBack := func() bool {
		for _, rec := range other.logs("training run's trainer is gone") {
			if rec.int("run") == run {
				return true
			}
		}
		return false
	}
	took, ok := waitFor(100*time.Second, func() bool { return handedBack() || started(other, 2) })
	t.Logf("run %d: %s of %s; %s took it over after %.1f s (%v)", run, sig, holder.name, other.name, took.Seconds(), ok)
	if !ok || took > 20*time.Second {
		t.Errorf("run %d was not taken over within 20 s of the %s (%.1f s)", run, sig, took.Seconds())
		t.Logf("runs and leases:\n%s\n%s", pg.psql("SELECT id, state, attempt, error FROM runs ORDER BY id"), pg.psql("SELECT * FROM leases"))
	}
	if !handedBack() {
		t.Errorf("run %d: %s did not log that the trainer of the run is gone", run, other.name)
	}
	if _, ok := waitFor(100*time.Second, func() bool { return started(other, 2) }); !ok {
		t.Errorf("run %d: its second attempt did not start on %s", run, other.name)
	}
}

// TestCorruptArtifact changes the bytes of the production artifact in the
// artifacts folder and starts `up`: predict must say that the production
// version cannot be loaded and why (not that there is no model yet), the
// log must not claim a previous version is served, and once the file is
// restored the api serves it within 5 s, without a restart.
func TestCorruptArtifact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csvPath := writePipeline(t, dir, strings.Replace(slowPipeline,
		"algorithm: gbdt\n      params: {n_trees: 100000, max_depth: 8, learning_rate: 0.01}", "algorithm: logistic", 1))
	mustRun(t, dir, "ingest-file", "titanic", csvPath)
	var run struct {
		Version int `json:"version"`
	}
	mustJSON(t, &run, dir, "train", "titanic", "--wait", "--json")
	var models struct {
		Versions []struct {
			Version int    `json:"version"`
			State   string `json:"state"`
			SHA256  string `json:"artifact_sha256"`
		} `json:"versions"`
	}
	mustJSON(t, &models, dir, "models", "titanic", "--json")
	if len(models.Versions) != 1 || models.Versions[0].State != "production" || models.Versions[0].SHA256 == "" {
		t.Fatalf("models after the first training: %+v, want v1 in production", models.Versions)
	}
	// The artifact object is named by its hash (docs/operations.md).
	path := filepath.Join(dir, ".mlserve", "artifacts", "titanic", models.Versions[0].SHA256+".json")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}

	s := startServer(t, dir, "up")
	const predict = "/v1/models/titanic/predict?class=1&sex=female&age=30&embarked=S"
	var e struct {
		Error struct {
			Code, Message string
		} `json:"error"`
	}
	s.getJSON(t, predict, http.StatusServiceUnavailable, &e)
	for _, want := range []string{"v1 cannot be loaded", "hash mismatch", "restore", "promote another version"} {
		if !strings.Contains(e.Error.Message, want) {
			t.Errorf("predict with a corrupt artifact: message %q lacks %q", e.Error.Message, want)
		}
	}
	infer := []byte(`{"inputs": [{"name": "class", "shape": [1], "datatype": "INT64", "data": [1]}]}`)
	if code, body := s.do(http.MethodPost, "/v2/models/titanic/infer", "application/json", infer); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "v1 cannot be loaded: artifact hash mismatch") {
		t.Errorf("V2 infer with a corrupt artifact: %d %s; want 503 saying v1 cannot be loaded", code, body)
	}
	if strings.Contains(e.Error.Message, "no production model yet") || strings.Contains(e.Error.Message, dir) {
		t.Errorf("predict with a corrupt artifact: message %q says there is no model or names a path", e.Error.Message)
	}
	if logs := s.stderr.String(); strings.Contains(logs, "still serving the previous one") || !strings.Contains(logs, "hash") {
		t.Errorf("log claims a previous version is served, or does not say the hash is wrong:\n%s", lastLines(logs, 10))
	}

	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 5*time.Second, 50*time.Millisecond, "predict answers 200 after the artifact was restored", func() bool {
		code, _ := s.get(predict)
		return code == http.StatusOK
	})
	t.Logf("artifact restored: served after %.1f s", took.Seconds())
}
