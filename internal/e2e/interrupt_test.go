package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowTitanic writes the titanic example into dir with a gbdt of 100 000
// rounds (minutes of training, well past the 5 s a stopping trainer lets a
// run finish) and ingests the seed file.
func slowTitanic(t *testing.T, dir string, env []string) {
	t.Helper()
	seed, err := filepath.Abs(filepath.Join(dataDir, "seed_titanic.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "--example", "titanic"}, {"ingest-file", "titanic", seed}} {
		if r := mlserveEnv(t, dir, env, args...); r.code != 0 {
			t.Fatalf("%s", r)
		}
	}
	path := filepath.Join(dir, "mlserve.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "algorithm: logistic", "algorithm: gbdt", 1)
	s = strings.Replace(s, "params: {}", "params: {n_trees: 100000, learning_rate: 0.0001, max_depth: 3, max_leaves: 0}", 1)
	if s == string(b) {
		t.Fatal("the titanic example changed: cannot make its training slow")
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runRow is a run as `mlserve runs --json` prints it.
type runRow struct {
	ID      int64  `json:"id"`
	State   string `json:"state"`
	Attempt int    `json:"attempt"`
	Error   string `json:"error"`
}

// runsNow returns the runs of titanic, newest first.
func runsNow(t *testing.T, dir string, env []string) []runRow {
	t.Helper()
	r := mlserveEnv(t, dir, env, "runs", "titanic", "--json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	var got struct{ Runs []runRow }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("runs --json: %v\n%s", err, r)
	}
	return got.Runs
}

// runningRun waits until a run of titanic is running and returns it.
func runningRun(t *testing.T, dir string, env []string) runRow {
	t.Helper()
	var run runRow
	eventually(t, 60*time.Second, 100*time.Millisecond, "a run is running", func() bool {
		for _, r := range runsNow(t, dir, env) {
			if r.State == "running" {
				run = r
				return true
			}
		}
		return false
	})
	return run
}

// runByID returns run id of titanic.
func runByID(t *testing.T, dir string, env []string, id int64) runRow {
	t.Helper()
	for _, r := range runsNow(t, dir, env) {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("run %d is not listed", id)
	return runRow{}
}

// TestInterruptedRun stops `up` with SIGINT while a training runs longer
// than the stop's grace: the process exits 0, the run is marked
// interrupted (not left running) with a note, and the next `up` runs it
// again.
func TestInterruptedRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	slowTitanic(t, dir, nil)
	// The new-rows trigger starts the first training at once (the rows
	// are there); a second, manual run would queue behind it and, after
	// the restart, could take the lease before the interrupted one.
	s := startServer(t, dir, "up")
	run := runningRun(t, dir, nil)
	stopQuietly(t, "up", s, syscall.SIGINT)
	got := runByID(t, dir, nil, run.ID)
	if got.State != "interrupted" || !strings.Contains(got.Error, "stopp") || got.Attempt != run.Attempt {
		t.Fatalf("after SIGINT run %d is %+v; want state interrupted with a note that its trainer stopped", run.ID, got)
	}

	s = startServer(t, dir, "up")
	eventually(t, 60*time.Second, 100*time.Millisecond, "the interrupted run runs again", func() bool {
		r := runByID(t, dir, nil, run.ID)
		return r.State == "running" && r.Attempt == run.Attempt+1
	})
	stopQuietly(t, "up", s, syscall.SIGTERM)
	if got := runByID(t, dir, nil, run.ID); got.State != "interrupted" || got.Attempt != run.Attempt+1 {
		t.Fatalf("after SIGTERM run %d is %+v; want interrupted in attempt %d", run.ID, got, run.Attempt+1)
	}
}

// stopQuietly sends sig to s, requires exit status 0 within 45 s and no
// line at level WARN or ERROR in what s logged from the signal on: a
// normal shutdown, even in the middle of a training, is not an incident.
func stopQuietly(t *testing.T, name string, s *server, sig syscall.Signal) {
	t.Helper()
	from := len(s.stderr.String())
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(45 * time.Second):
		t.Fatalf("mlserve %s did not exit within 45 s of %v", name, sig)
	}
	if s.waitErr != nil {
		t.Fatalf("mlserve %s after %v: %v, want exit status 0", name, sig, s.waitErr)
	}
	var noise []string
	for _, line := range strings.Split(s.stderr.String()[from:], "\n") {
		var rec struct{ Level string }
		if json.Unmarshal([]byte(line), &rec) != nil && strings.TrimSpace(line) != "" {
			noise = append(noise, line) // not a log record: a panic, a stray print
			continue
		}
		if rec.Level == "WARN" || rec.Level == "ERROR" {
			noise = append(noise, line)
		}
	}
	if len(noise) > 0 {
		t.Errorf("mlserve %s logged %d warnings or errors while shutting down on %v:\n%s", name, len(noise), sig, strings.Join(noise, "\n"))
	}
}

// TestQuietShutdownOnPostgres starts the three roles on PostgreSQL and S3,
// lets the trainer start a long training, and stops every role with
// SIGTERM: each exits 0 without a warning or an error in its log, and the
// run is interrupted, not left running.
func TestQuietShutdownOnPostgres(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t)
	s3 := startVersitygw(t)
	dir := t.TempDir()
	env := productionEnv(pg, s3, "MLSERVE_LOG_FORMAT=json")
	slowTitanic(t, dir, env)
	roles := startRoles(t, dir, filepath.Join(dir, "mlserve.yaml"), env, map[string]string{
		"api": "api", "trainer": "trainer", "ingest": "ingest",
	})
	run := runningRun(t, dir, env)
	for _, name := range []string{"api", "ingest", "trainer"} {
		stopQuietly(t, name, roles[name].server, syscall.SIGTERM)
	}
	if got := runByID(t, dir, env, run.ID); got.State != "interrupted" {
		t.Fatalf("after SIGTERM run %d is %+v; want interrupted", run.ID, got)
	}
}

// TestQuietIdleShutdown stops an idle `up` on the embedded store with
// SIGTERM: exit 0 and no warning or error logged from the signal on.
func TestQuietIdleShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, dir, "init", "--example", "titanic")
	stopQuietly(t, "up", startServer(t, dir, "up"), syscall.SIGTERM)
}
