package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/testenv"
)

// productionPipeline is the pipeline of TestProduction: the titanic schema
// with a gbdt slow enough (many trees over tens of thousands of rows) that
// the test can act while a training runs, a new-rows trigger with a short
// debounce, and a gate with a low floor so that the first model (on a
// hundred rows) is promoted and a later one must beat it.
const productionPipeline = `pipelines:
  - name: titanic
    schema:
      target: survived
      columns:
        - {name: survived, type: category, values: [0, 1]}
        - {name: class, type: category, values: [1, 2, 3]}
        - {name: sex, type: category, values: [male, female], aliases: {F: female, M: male}}
        - {name: age, type: number, min: 0, max: 120, nullable: true}
        - {name: embarked, type: category, values: [C, S, Q], nullable: true}
    model:
      algorithm: gbdt
      params: {n_trees: 1500, learning_rate: 0.02}
      holdout: 0.2
      seed: 42
    train:
      schedule: ""
      on_new_rows: 1000
      debounce: 1s
      min_rows: 50
    promote:
      metric: roc_auc
      min: 0.1
      must_beat_production: true
`

// servedWithin is the bound on promotion-to-served, per api.
const servedWithin = 5 * time.Second

// prodRun is a run with the fields the production test reads beyond run.
type prodRun struct {
	run
	Attempt       int    `json:"attempt"`
	DataWatermark int64  `json:"data_watermark"`
	DataRows      int64  `json:"data_rows"`
	Message       string `json:"message"`
}

// prodVersion is a version with its run. ArtifactKey catches the
// object-store key, which is internal and must not be in the answer.
type prodVersion struct {
	version
	RunID       int64           `json:"run_id"`
	ArtifactKey json.RawMessage `json:"artifact_key"`
	Reason      string          `json:"reason"`
}

type promotion struct {
	FromVersion int       `json:"from_version"`
	ToVersion   int       `json:"to_version"`
	Action      string    `json:"action"`
	Actor       string    `json:"actor"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"created_at"`
}

// fetch GETs path and decodes a 200 answer into v; anything else is an
// error (the fault scenarios tolerate them).
func (s *server) fetch(path string, v any) error {
	code, body := s.get(path)
	if code != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, code, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %v: %s", path, err, body)
	}
	return nil
}

// TestProduction is issue 3's "must show": PostgreSQL, versitygw, two api,
// two trainer and one ingest processes of the built binary plus datafill
// feeds, configured by environment only, through new rows and faults:
// promotion served by both apis, a trainer killed mid-run, the database down
// for 10 s under load, and the object store down during a training.
//
// Run it alone with
//
//	go test ./internal/e2e -run TestProduction -v -count=1
//
// (it starts its own services; scripts/test.sh is not needed). The numbers
// (promotion-to-served latency per api, 503 count, rows sent and stored,
// recovery times) are in its log.
func TestProduction(t *testing.T) {
	// Not parallel: it owns two cores' worth of processes and its timing
	// claims should not compete with the other e2e tests.
	pg := startPostgres(t)
	s3 := startVersitygw(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pipelines.yaml")
	if err := os.WriteFile(cfg, []byte(productionPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	env := productionEnv(pg, s3,
		// A trainer's job that stays running this long is taken for dead
		// and handed to another trainer (default 1 min); the training
		// lease (30 s) keeps a live run from running twice.
		"MLSERVE_JOB_RESCUE_AFTER=15s",
	)
	started := time.Now()
	roles := startRoles(t, dir, cfg, env, map[string]string{
		"api1": "api", "api2": "api", "trainer1": "trainer", "trainer2": "trainer", "ingest": "ingest",
	})
	t.Logf("PostgreSQL on :%d, versitygw on :%d; 5 roles healthy %.2f s after starting them together", pg.port, s3.port, time.Since(started).Seconds())
	api1, api2, ingest := roles["api1"], roles["api2"], roles["ingest"]
	apis := []*role{api1, api2}
	trainers := []*role{roles["trainer1"], roles["trainer2"]}
	watch := watchServed(apis, 10*time.Millisecond)
	t.Cleanup(watch.Stop)

	// datafill runs a feed to the ingest role and returns its summary.
	datafill := func(t *testing.T, args ...string) feedSummary {
		t.Helper()
		r := mustRun(t, dir, append([]string{"datafill", "--to", ingest.base, "--synthetic", "titanic", "--config", cfg}, args...)...)
		return parseFeed(t, r.stdout, r.stderr)
	}
	runs := func(t *testing.T) []prodRun {
		t.Helper()
		var rl struct {
			Runs []prodRun `json:"runs"`
		}
		api1.getJSON(t, "/v1/runs?pipeline=titanic", http.StatusOK, &rl)
		return rl.Runs
	}
	versions := func(t *testing.T) []prodVersion {
		t.Helper()
		var vl struct {
			Versions []prodVersion `json:"versions"`
		}
		api1.getJSON(t, "/v1/models/titanic/versions", http.StatusOK, &vl)
		return vl.Versions
	}
	promotions := func(t *testing.T) []promotion {
		t.Helper()
		var pl struct {
			Promotions []promotion `json:"promotions"`
		}
		api1.getJSON(t, "/v1/models/titanic/promotions", http.StatusOK, &pl)
		return pl.Promotions
	}
	// waitRun waits until run id is finished and returns it.
	waitRun := func(t *testing.T, id int64, limit time.Duration) prodRun {
		t.Helper()
		var r prodRun
		eventually(t, limit, 100*time.Millisecond, fmt.Sprintf("run %d finishes", id), func() bool {
			api1.getJSON(t, fmt.Sprintf("/v1/runs/%d", id), http.StatusOK, &r)
			return r.State == "succeeded" || r.State == "failed"
		})
		return r
	}
	// latencies records promotion → served per api for each promotion.
	type servedLatency struct {
		to      int
		perAPI  map[string]time.Duration
		promoAt time.Time
	}
	var served []servedLatency
	// waitServed waits until both apis answer from the version promotion p
	// made and requires each did within servedWithin of the promotion.
	waitServed := func(t *testing.T, p promotion) {
		t.Helper()
		l := servedLatency{to: p.ToVersion, perAPI: map[string]time.Duration{}, promoAt: p.CreatedAt}
		for _, a := range apis {
			var at time.Time
			eventually(t, 30*time.Second, 10*time.Millisecond, fmt.Sprintf("%s serves v%d", a.name, p.ToVersion), func() bool {
				var ok bool
				at, ok = watch.firstSeen(a.name, p.ToVersion)
				return ok
			})
			d := at.Sub(p.CreatedAt)
			l.perAPI[a.name] = d
			t.Logf("v%d promoted (%s by %s) at %s; %s served it %.3f s later", p.ToVersion, p.Action, p.Actor, p.CreatedAt.Format("15:04:05.000"), a.name, d.Seconds())
			if d > servedWithin {
				t.Errorf("%s served v%d %.3f s after its promotion, want within %v", a.name, p.ToVersion, d.Seconds(), servedWithin)
			}
			if !a.alive() {
				t.Errorf("%s exited: %v", a.name, a.waitErr)
			}
		}
		served = append(served, l)
	}
	promotionTo := func(t *testing.T, v int) promotion {
		t.Helper()
		for _, p := range promotions(t) {
			if p.ToVersion == v {
				return p
			}
		}
		t.Fatalf("no promotion to v%d in the promotion log: %+v", v, promotions(t))
		return promotion{}
	}
	// summary collects the measured numbers, logged together at the end.
	var summary []string
	note := func(format string, args ...any) { summary = append(summary, fmt.Sprintf(format, args...)) }
	step := steps(t)

	var v1 prodVersion
	step("first rows train v1", func(t *testing.T) {
		f := datafill(t, "--count", "100", "--batch", "100", "--rate", "0", "--seed", "1")
		if f.sent != 100 || f.accepted != 100 {
			t.Fatalf("datafill: %+v, want 100 rows sent and accepted", f)
		}
		eventually(t, 60*time.Second, 50*time.Millisecond, "the new-rows trigger's first run finishes", func() bool {
			rs := runs(t)
			return len(rs) > 0 && (rs[0].State == "succeeded" || rs[0].State == "failed")
		})
		vs := versions(t)
		if len(vs) != 1 || vs[0].Version != 1 || vs[0].State != "production" || vs[0].DataRows != 100 {
			t.Fatalf("versions after the first rows: %+v, want v1 in production on 100 rows", vs)
		}
		v1 = vs[0]
		rs := runs(t)
		if len(rs) != 1 || rs[0].Reason != "new_rows" || rs[0].Version != 1 {
			t.Fatalf("runs: %+v, want one new_rows run that made v1", rs)
		}
		waitServed(t, promotionTo(t, 1))
	})

	var v2 prodVersion
	step("new rows promote a better v2 on both apis", func(t *testing.T) {
		f := datafill(t, "--count", "25000", "--batch", "25000", "--rate", "0", "--seed", "2")
		if f.sent != 25000 || f.accepted != 25000 {
			t.Fatalf("datafill: %+v, want 25000 rows sent and accepted", f)
		}
		var r prodRun
		eventually(t, 90*time.Second, 100*time.Millisecond, "a new_rows run after the 25000 rows succeeds", func() bool {
			rs := runs(t)
			if len(rs) < 2 {
				return false
			}
			r = rs[0]
			return r.State == "succeeded" || r.State == "failed"
		})
		if r.Reason != "new_rows" || r.State != "succeeded" || r.Version != 2 || r.DataRows != 25100 {
			t.Fatalf("second run: %+v, want a succeeded new_rows run on 25100 rows that made v2", r)
		}
		for _, v := range versions(t) {
			if v.Version == 2 {
				v2 = v
			}
		}
		if v2.State != "production" {
			t.Fatalf("v2: %+v, want production (trained on 25100 rows it must beat v1 trained on 100; run message: %s)", v2, r.Message)
		}
		p := promotionTo(t, 2)
		if p.FromVersion != 1 || p.Action != "auto" {
			t.Errorf("promotion of v2: %+v, want an automatic promotion from v1", p)
		}
		t.Logf("v2 roc_auc %.4f (v1 %.4f on its own holdout); gate: %s", v2.Metrics["roc_auc"], v1.Metrics["roc_auc"], r.Message)
		waitServed(t, p)
	})

	step("trainer killed mid-run", func(t *testing.T) {
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("queue and runs:\n%s\n%s\n%s", pg.psql("SELECT id, kind, state, attempt, attempted_at, scheduled_at, attempted_by, now() FROM river_job ORDER BY id"),
					pg.psql("SELECT * FROM leases"), pg.psql("SELECT id, state, reason, attempt, error FROM runs ORDER BY id"))
			}
		})
		before := runs(t)
		f := datafill(t, "--count", "25000", "--batch", "25000", "--rate", "0", "--seed", "3")
		if f.accepted != 25000 {
			t.Fatalf("datafill: %+v, want 25000 rows accepted", f)
		}
		// Find the new run and the trainer that holds it.
		var id int64
		var holder, other *role
		eventually(t, 60*time.Second, 20*time.Millisecond, "a trainer starts the new_rows run", func() bool {
			for _, tr := range trainers {
				for _, rec := range tr.logs("training started") {
					if rec.int("run") > before[0].ID {
						id = rec.int("run")
						holder = tr
					}
				}
			}
			return holder != nil
		})
		if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-holder.done
		killed := time.Now()
		for _, tr := range trainers {
			if tr != holder {
				other = tr
			}
		}
		var r prodRun
		api1.getJSON(t, fmt.Sprintf("/v1/runs/%d", id), http.StatusOK, &r)
		if r.State != "running" || r.Reason != "new_rows" {
			t.Fatalf("run %d right after SIGKILL of %s: %+v; want it still running (make the test's training slower if it finished)", id, holder.name, r)
		}
		t.Logf("SIGKILL %s holding run %d (attempt %d)", holder.name, id, r.Attempt)

		r = waitRun(t, id, 3*time.Minute)
		recovered := time.Since(killed)
		t.Logf("run %d %s %.1f s after the kill: attempt %d, v%d, %s", id, r.State, recovered.Seconds(), r.Attempt, r.Version, r.Message)
		note("trainer SIGKILLed mid-run: run %d %s on the other trainer %.1f s after the kill (attempt %d, v%d)", id, r.State, recovered.Seconds(), r.Attempt, r.Version)
		if r.State != "succeeded" || r.Version == 0 || r.DataRows != 50100 {
			t.Fatalf("run %d after the kill: %+v, want succeeded with a version on 50100 rows", id, r)
		}
		finishedBy := func(tr *role) bool {
			for _, rec := range tr.logs("training finished") {
				if rec.int("run") == id {
					return true
				}
			}
			return false
		}
		if !finishedBy(other) {
			t.Errorf("run %d: %s logged no \"training finished\" for it; want the surviving trainer to complete it", id, other.name)
		}
		var mine []prodVersion
		var sameData []prodVersion
		all := versions(t)
		for _, v := range all {
			if v.RunID == id {
				mine = append(mine, v)
			}
			if v.DataWatermark == r.DataWatermark {
				sameData = append(sameData, v)
			}
		}
		if len(mine) != 1 || len(sameData) != 1 || mine[0].Version != r.Version || mine[0].ArtifactSHA256 != r.ArtifactSHA256 {
			t.Fatalf("versions of run %d: %+v; of its data (watermark %d): %+v; want exactly one, v%d with artifact %s",
				id, mine, r.DataWatermark, sameData, r.Version, r.ArtifactSHA256)
		}
		// Every registered version refers to a complete object whose bytes
		// hash to what the registry recorded: nothing half-written by the
		// dead attempt is referenced.
		for _, v := range all {
			checkArtifact(t, s3, v)
		}
		if len(runs(t)) != len(before)+1 {
			t.Errorf("runs after the kill: %+v; want exactly one more than before", runs(t))
		}
		if mine[0].State == "production" {
			waitServed(t, promotionTo(t, mine[0].Version))
		}
	})

	step("database down for 10 s under load", func(t *testing.T) {
		var info0 datasetInfo
		ingest.getJSON(t, "/v1/datasets/titanic", http.StatusOK, &info0)
		fiveXX0 := ingestErrors(t, ingest)
		load := startLoad(apis, 2, 2*time.Millisecond)
		defer func() {
			select {
			case <-load.stop:
			default:
				load.Stop()
			}
		}()
		const rows, batch = 3000, 25
		feed := startFeed(t, dir, ingest.base, cfg, "--count", strconv.Itoa(rows), "--batch", strconv.Itoa(batch), "--rate", "250", "--seed", "4")
		eventually(t, 30*time.Second, 20*time.Millisecond, "the feed stores its first rows", func() bool {
			var info datasetInfo
			return ingest.fetch("/v1/datasets/titanic", &info) == nil && info.Rows >= info0.Rows+5*batch
		})

		pg.stop(t)
		down := time.Now()
		t.Logf("PostgreSQL stopped")
		// During the outage the roles say what they can do: the apis stay
		// ready (they answer from the models they hold) and list the
		// database as degraded; ingest is not ready and answers 503 with
		// Retry-After.
		probe := outagePOST(t, ingest)
		ready := map[string]readiness{}
		for _, r := range append([]*role{api1, api2, ingest}, trainers...) {
			if r.alive() {
				ready[r.name] = readyz(r)
			}
		}
		time.Sleep(10*time.Second - time.Since(down)) // the fault lasts 10 s
		pg.start(t)
		up := time.Now()
		t.Logf("PostgreSQL started again after %.1f s down", up.Sub(down).Seconds())
		if probe.code != http.StatusServiceUnavailable || probe.retryAfter == "" {
			t.Errorf("POST rows with the database down: %d, Retry-After %q, %s; want 503 with Retry-After", probe.code, probe.retryAfter, probe.body)
		}
		for name, r := range ready {
			t.Logf("%s /readyz with the database down: %d %s", name, r.code, r.body)
			wantCode := http.StatusOK
			if strings.HasPrefix(name, "ingest") || strings.HasPrefix(name, "trainer") {
				wantCode = http.StatusServiceUnavailable
			}
			if r.code != wantCode || (wantCode == http.StatusOK && r.Degraded["database"] == "") {
				t.Errorf("%s /readyz with the database down: %d %s; want %d naming the database", name, r.code, r.body, wantCode)
			}
		}
		ingestBack := eventually(t, 30*time.Second, 20*time.Millisecond, "ingest is ready again", func() bool {
			return readyz(ingest).code == http.StatusOK
		})
		apiBack := eventually(t, 30*time.Second, 20*time.Millisecond, "api1 no longer reports the database degraded", func() bool {
			r := readyz(api1)
			return r.code == http.StatusOK && r.Degraded["database"] == ""
		})
		f := feed.wait(t, 90*time.Second)
		ok, bad, firstBad, took := load.Stop()
		fiveXX := ingestErrors(t, ingest) - fiveXX0

		var info datasetInfo
		ingest.getJSON(t, "/v1/datasets/titanic", http.StatusOK, &info)
		t.Logf("database down %.1f s: ingest ready %.2f s and api1 not degraded %.2f s after the restart; datafill sent %d rows (%d accepted, %d rejected) in %d requests, %d retried answers (%v), ingest counted %d 5xx; dataset %d → %d rows, %d → %d batches; predictions %v ok, %v failed over %.1f s",
			up.Sub(down).Seconds(), ingestBack.Seconds(), apiBack.Seconds(), f.sent, f.accepted, f.rejected, rows/batch, f.retries(), f.statuses, fiveXX,
			info0.Rows, info.Rows, info0.Batches, info.Batches, ok, bad, took.Seconds())
		note("database down %.1f s: %d predictions answered 2xx, %d not; ingest 5xx %d (datafill retried %v); datafill sent %d rows, dataset grew by %d rows in %d batches (%d requests); ingest ready %.2f s, api1 not degraded %.2f s after the restart",
			up.Sub(down).Seconds(), ok["api1"]+ok["api2"], bad["api1"]+bad["api2"], fiveXX, f.statuses, f.sent, info.Rows-info0.Rows, info.Batches-info0.Batches, rows/batch, ingestBack.Seconds(), apiBack.Seconds())
		if sum := ok["api1"] + ok["api2"]; ok["api1"] == 0 || ok["api2"] == 0 || sum < 100 {
			t.Errorf("load: %v answered, want both apis answering throughout", ok)
		}
		if len(bad) > 0 {
			t.Errorf("predictions not answered 2xx with the database down: %v; first: %v", bad, firstBad)
		}
		if f.statuses["503"] == 0 || fiveXX == 0 {
			t.Errorf("ingest gave no 503 while the database was down (datafill retries %v, ingest 5xx %d)", f.statuses, fiveXX)
		}
		for st := range f.statuses {
			if st != "503" {
				t.Errorf("datafill saw %d %q answers while the database was down; want 503 (Retry-After) only", f.statuses[st], st)
			}
		}
		if f.sent != rows || f.accepted+f.rejected != rows {
			t.Errorf("datafill: %+v, want %d rows sent and accounted for", f, rows)
		}
		if info.Rows != info0.Rows+f.accepted || info.Quarantined != info0.Quarantined+f.rejected || info.Batches != info0.Batches+int64(rows/batch) {
			t.Errorf("dataset after the outage: %d rows, %d quarantined, %d batches; want %d rows, %d quarantined, %d batches (each of the %d requests stored exactly once)",
				info.Rows, info.Quarantined, info.Batches, info0.Rows+f.accepted, info0.Quarantined+f.rejected, info0.Batches+int64(rows/batch), rows/batch)
		}
	})

	step("object store down during a training", func(t *testing.T) {
		// The rows of the previous step trigger a run; let it finish first.
		eventually(t, 3*time.Minute, 200*time.Millisecond, "no run queued or running", func() bool {
			for _, r := range runs(t) {
				if r.State == "queued" || r.State == "running" {
					return false
				}
			}
			return true
		})
		// A few new rows, so that the manual run trains a new artifact (on
		// the last run's rows it would reproduce that run's and publish
		// nothing).
		ingest.postJSON(t, "/v1/datasets/titanic/rows", "text/csv",
			[]byte("survived,class,sex,age,embarked\n1,1,female,22,S\n0,3,male,40,S\n1,2,female,30,C\n"), http.StatusOK, nil)
		load := startLoad(apis, 2, 2*time.Millisecond)
		defer func() {
			select {
			case <-load.stop:
			default:
				load.Stop()
			}
		}()
		var queued prodRun
		api2.postJSON(t, "/v1/pipelines/titanic/runs", "", nil, http.StatusAccepted, &queued)
		id := queued.ID
		var holder *role
		eventually(t, 60*time.Second, 20*time.Millisecond, fmt.Sprintf("a trainer starts run %d", id), func() bool {
			for _, tr := range trainers {
				for _, rec := range tr.logs("training started") {
					if rec.int("run") == id {
						holder = tr
					}
				}
			}
			return holder != nil
		})
		s3.stop(t)
		down := time.Now()
		var r prodRun
		api1.getJSON(t, fmt.Sprintf("/v1/runs/%d", id), http.StatusOK, &r)
		if r.State != "running" {
			t.Fatalf("run %d when versitygw stopped: %+v; want it still running (make the test's training slower if it finished)", id, r)
		}
		t.Logf("versitygw stopped during run %d on %s", id, holder.name)
		for _, a := range apis {
			if r := readyz(a); r.code != http.StatusOK || r.Degraded["object_store"] == "" {
				t.Errorf("%s /readyz with the object store down: %d %s; want 200 naming the object store as degraded", a.name, r.code, r.body)
			}
		}
		eventually(t, 90*time.Second, 50*time.Millisecond, fmt.Sprintf("run %d records an object-store failure", id), func() bool {
			api1.getJSON(t, fmt.Sprintf("/v1/runs/%d", id), http.StatusOK, &r)
			return r.Error != "" || r.State != "running"
		})
		failedAfter := time.Since(down)
		t.Logf("run %d after %.1f s: state %s, attempt %d, error: %s", id, failedAfter.Seconds(), r.State, r.Attempt, r.Error)
		if r.State != "running" || !regexp.MustCompile(`(?i)object store`).MatchString(r.Error) {
			t.Fatalf("run %d with versitygw down: %+v; want it running (a retry is due) with an error naming the object store", id, r)
		}
		s3.start(t)
		up := time.Now()
		r = waitRun(t, id, 3*time.Minute)
		backAfter := time.Since(up)
		t.Logf("run %d %s %.1f s after versitygw came back: attempt %d, v%d, %s", id, r.State, time.Since(up).Seconds(), r.Attempt, r.Version, r.Message)
		if r.State != "succeeded" || r.Attempt < 2 || r.Version == 0 || r.Error != "" {
			t.Errorf("run %d after versitygw came back: %+v; want succeeded on a later attempt with a version and no error", id, r)
		}
		for _, v := range versions(t) {
			if v.RunID == id {
				checkArtifact(t, s3, v)
				if v.State == "production" {
					waitServed(t, promotionTo(t, v.Version))
				}
			}
		}
		ok, bad, firstBad, took := load.Stop()
		t.Logf("predictions during the object-store outage and retry: %v ok, %v failed over %.1f s", ok, bad, took.Seconds())
		note("object store down during run %d: error recorded %.1f s after the stop; %s %.1f s after it came back (attempt %d); %d predictions answered 2xx, %d not",
			id, failedAfter.Seconds(), r.State, backAfter.Seconds(), r.Attempt, ok["api1"]+ok["api2"], bad["api1"]+bad["api2"])
		if ok["api1"] == 0 || ok["api2"] == 0 {
			t.Errorf("load: %v answered, want both apis answering throughout", ok)
		}
		if len(bad) > 0 {
			t.Errorf("predictions not answered 2xx while the object store was down: %v; first: %v", bad, firstBad)
		}
	})

	step("graceful shutdown", func(t *testing.T) {
		for _, name := range []string{"api1", "api2", "trainer1", "trainer2", "ingest"} {
			r := roles[name]
			if !r.alive() {
				if slices.Contains(trainers, r) {
					continue // the trainer killed above
				}
				t.Errorf("%s exited during the test: %v", name, r.waitErr)
				continue
			}
			t.Run(name, func(t *testing.T) { r.stop(t, 30*time.Second) })
		}
	})

	for _, l := range served {
		note("promotion-to-served v%d: api1 %.3f s, api2 %.3f s", l.to, l.perAPI["api1"].Seconds(), l.perAPI["api2"].Seconds())
	}
	t.Logf("summary:\n  %s", strings.Join(summary, "\n  "))
}

// checkArtifact requires that version v's answer keeps the object-store
// key to itself and that its artifact object exists in the versitygw
// folder, named by its hash (docs/operations.md), and hashes to the
// recorded artifact_sha256.
func checkArtifact(t *testing.T, s3 *versitygw, v prodVersion) {
	t.Helper()
	if v.ArtifactKey != nil {
		t.Errorf("v%d answer has artifact_key %s: an internal object-store key", v.Version, v.ArtifactKey)
	}
	key := "artifacts/" + v.Pipeline + "/" + v.ArtifactSHA256 + ".json"
	b, err := os.ReadFile(s3.objectPath(key))
	if err != nil {
		t.Errorf("v%d artifact %s: %v", v.Version, key, err)
		return
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != v.ArtifactSHA256 {
		t.Errorf("v%d artifact %s: %d bytes hashing to %s, want %s", v.Version, key, len(b), got, v.ArtifactSHA256)
	}
}

// ingestErrors returns the ingest role's count of 5xx answers on the rows
// route, from its /metrics.
func ingestErrors(t *testing.T, ingest *role) int {
	t.Helper()
	code, body := ingest.get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("ingest /metrics: %d", code)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "mlserve_http_request_duration_seconds_count{") && strings.Contains(line, `status_class="5xx"`) && strings.Contains(line, "/rows") {
			f := strings.Fields(line)
			x, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += int(x)
		}
	}
	return n
}

// feedSummary is what a datafill run reported: its summary line and the
// answers it retried, by status ("503", or "error" for a failed request).
type feedSummary struct {
	sent, accepted, rejected int64
	statuses                 map[string]int
}

func (f feedSummary) retries() int {
	n := 0
	for _, c := range f.statuses {
		n += c
	}
	return n
}

var feedLine = regexp.MustCompile(`sent (\d+) rows to \w+: (\d+) accepted, (\d+) rejected`)
var answered = regexp.MustCompile(`ingest answered (\d{3})`)

// parseFeed reads datafill's summary (stdout) and retry warnings (stderr).
func parseFeed(t testing.TB, stdout, stderr string) feedSummary {
	t.Helper()
	m := feedLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("datafill printed no summary line:\nstdout: %s\nstderr: %s", stdout, lastLines(stderr, 20))
	}
	f := feedSummary{statuses: map[string]int{}}
	f.sent, _ = strconv.ParseInt(m[1], 10, 64)
	f.accepted, _ = strconv.ParseInt(m[2], 10, 64)
	f.rejected, _ = strconv.ParseInt(m[3], 10, 64)
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		var rec logRecord
		if json.Unmarshal(sc.Bytes(), &rec) != nil || !strings.Contains(fmt.Sprint(rec["msg"]), "retrying") {
			continue
		}
		if m := answered.FindStringSubmatch(fmt.Sprint(rec["err"])); m != nil {
			f.statuses[m[1]]++
		} else {
			f.statuses["error"]++
		}
	}
	return f
}

// feedProc is a datafill running in the background.
type feedProc struct {
	cmd            *exec.Cmd
	stdout, stderr *testenv.Buffer
	done           chan struct{}
	err            error
}

// startFeed starts `mlserve datafill --to ingest --synthetic titanic ARGS…`;
// it is killed in t.Cleanup if it still runs.
func startFeed(t *testing.T, dir, ingest, cfg string, args ...string) *feedProc {
	t.Helper()
	f := &feedProc{stdout: &testenv.Buffer{}, stderr: &testenv.Buffer{}, done: make(chan struct{})}
	f.cmd = exec.Command(bin, append([]string{"datafill", "--to", ingest, "--synthetic", "titanic", "--config", cfg}, args...)...)
	f.cmd.Dir = dir
	f.cmd.Env = childEnv()
	f.cmd.Stdout, f.cmd.Stderr = f.stdout, f.stderr
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("start datafill: %v", err)
	}
	go func() { f.err = f.cmd.Wait(); close(f.done) }()
	t.Cleanup(func() {
		select {
		case <-f.done:
		default:
			f.cmd.Process.Kill()
			<-f.done
		}
		if t.Failed() {
			t.Logf("datafill log (last 30 lines):\n%s\n%s", lastLines(f.stderr.String(), 30), f.stdout.String())
		}
	})
	return f
}

// wait waits for the feed to exit 0 and returns its summary.
func (f *feedProc) wait(t *testing.T, limit time.Duration) feedSummary {
	t.Helper()
	select {
	case <-f.done:
	case <-time.After(limit):
		t.Fatalf("datafill did not finish within %v", limit)
	}
	if f.err != nil {
		t.Fatalf("datafill: %v\n%s", f.err, lastLines(f.stderr.String(), 20))
	}
	return parseFeed(t, f.stdout.String(), f.stderr.String())
}

// readiness is a /readyz answer.
type readiness struct {
	code     int
	body     string
	Status   string            `json:"status"`
	Degraded map[string]string `json:"degraded"`
}

func readyz(s *role) readiness {
	code, body := s.get("/readyz")
	r := readiness{code: code, body: strings.TrimSpace(string(body))}
	_ = json.Unmarshal(body, &r)
	return r
}

// outageAnswer is the ingest role's answer to one row.
type outageAnswer struct {
	code       int
	retryAfter string
	body       string
}

// outagePOST sends one row to the ingest role and returns its status and
// Retry-After header.
func outagePOST(t *testing.T, ingest *role) outageAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ingest.base+"/v1/datasets/titanic/rows", strings.NewReader("survived,class,sex,age,embarked\n1,1,female,22,S\n"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	resp, err := client.Do(req)
	if err != nil {
		return outageAnswer{body: err.Error()}
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	return outageAnswer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: strings.TrimSpace(b.String())}
}
