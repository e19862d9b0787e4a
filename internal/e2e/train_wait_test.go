package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTrainWaitOnPostgres checks `train --wait` in production mode. With no
// trainer running it trains the run itself (and --work=false makes it only
// wait: it says after a while that no trainer took the run and gives up at
// its --timeout with the run still queued). With a trainer running it
// leaves the run to the trainer and waits for it.
func TestTrainWaitOnPostgres(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t)
	s3 := startVersitygw(t)
	dir := t.TempDir()
	seed, err := filepath.Abs(filepath.Join(dataDir, "seed_titanic.csv"))
	if err != nil {
		t.Fatal(err)
	}
	env := productionEnv(pg, s3, "MLSERVE_LOG_FORMAT=json")
	must := func(args ...string) *result {
		t.Helper()
		r := mlserveEnv(t, dir, env, args...)
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		return r
	}
	type run struct {
		ID      int64  `json:"id"`
		State   string `json:"state"`
		Version int    `json:"version"`
	}
	trainJSON := func(args ...string) (run, *result) {
		t.Helper()
		r := must(append([]string{"train", "titanic", "--wait", "--json"}, args...)...)
		var fin run
		if err := json.Unmarshal([]byte(r.stdout), &fin); err != nil {
			t.Fatalf("train --wait --json: %v\n%s", err, r)
		}
		return fin, r
	}
	must("init", "--example", "titanic")
	must("ingest-file", "titanic", seed)

	t.Run("OnlyWaitWithNoTrainer", func(t *testing.T) {
		r := mlserveEnv(t, dir, env, "train", "titanic", "--wait", "--work=false", "--timeout", "12s")
		if r.code == 0 {
			t.Fatalf("train --wait --work=false with no trainer running succeeded: %s", r)
		}
		for _, want := range []string{"still queued", "--work", "waiting for run"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		var list struct {
			Runs []run `json:"runs"`
		}
		if err := json.Unmarshal([]byte(must("runs", "titanic", "--json").stdout), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Runs) != 1 || list.Runs[0].State != "queued" {
			t.Fatalf("runs after the wait gave up: %+v, want one queued run", list.Runs)
		}
	})

	t.Run("TrainsItselfWithNoTrainer", func(t *testing.T) {
		fin, r := trainJSON()
		if fin.State != "succeeded" || fin.Version != 1 {
			t.Fatalf("train --wait: %+v, want succeeded with version 1", fin)
		}
		if !strings.Contains(r.stderr, "no trainer is running") {
			t.Errorf("train --wait with no trainer: stderr does not say it trains the run itself:\n%s", r.stderr)
		}
	})

	t.Run("LeavesTheRunToARunningTrainer", func(t *testing.T) {
		trainer := startRoles(t, dir, "mlserve.yaml", env, map[string]string{"trainer": "trainer"})["trainer"]
		// The trainer takes part in River's leader election once started.
		eventually(t, 30*time.Second, 100*time.Millisecond, "the trainer is elected", func() bool {
			return strings.Contains(pg.psql(`SELECT 'leaders=' || count(*) FROM river_leader WHERE expires_at > now()`), "leaders=1")
		})
		fin, r := trainJSON()
		if fin.State != "succeeded" || fin.ID == 0 {
			t.Fatalf("train --wait with a trainer running: %+v, want succeeded", fin)
		}
		if strings.Contains(r.stderr, "training the run here") {
			t.Errorf("train --wait trained the run itself with a trainer running:\n%s", r.stderr)
		}
		worked := false
		for _, rec := range trainer.logs("training finished") {
			worked = worked || rec.int("run") == fin.ID
		}
		if !worked {
			t.Errorf("the trainer's log has no \"training finished\" for run %d", fin.ID)
		}
	})

	if r := mlserveEnv(t, dir, env, "train", "titanic", "--work"); r.code == 0 || !strings.Contains(r.stderr, "--work needs --wait") {
		t.Errorf("train --work without --wait: %s; want an error saying --work needs --wait", r)
	}
}
