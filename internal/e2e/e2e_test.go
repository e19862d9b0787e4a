package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	femaleFirst = "class=1&sex=female&age=22&embarked=S"
	maleThird   = "class=3&sex=male&age=22&embarked=S"
)

// steps runs named steps of one scenario in order and stops at the first
// that fails: each builds on the state the previous ones left.
func steps(t *testing.T) func(name string, f func(t *testing.T)) {
	return func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
}

// TestEndToEnd walks the titanic example through its whole life on a real
// `mlserve up` process: init, no model (503), CSV ingestion, the new-rows
// trigger's first model, predictions on every route, a manual run, promotion
// and rollback, the CLI on the same data folder, and a graceful restart that
// serves the same production version without retraining.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mlserve.yaml")
	data := filepath.Join(dir, "data")
	flags := []string{"--config", cfg, "--data-dir", data}
	step := steps(t)

	step("init", func(t *testing.T) {
		mustRun(t, dir, "init", "--example", "titanic")
		b, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatalf("init --example titanic wrote no mlserve.yaml in the current folder: %v", err)
		}
		var f struct {
			Pipelines []struct {
				Name   string `yaml:"name"`
				Schema struct {
					Target  string `yaml:"target"`
					Columns []struct {
						Name string `yaml:"name"`
						Type string `yaml:"type"`
					} `yaml:"columns"`
				} `yaml:"schema"`
				Model struct {
					Algorithm string `yaml:"algorithm"`
				} `yaml:"model"`
				Train struct {
					OnNewRows int `yaml:"on_new_rows"`
					MinRows   int `yaml:"min_rows"`
				} `yaml:"train"`
				Promote struct {
					Metric string `yaml:"metric"`
				} `yaml:"promote"`
			} `yaml:"pipelines"`
		}
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatalf("mlserve.yaml is not YAML: %v\n%s", err, b)
		}
		if len(f.Pipelines) != 1 {
			t.Fatalf("got %d pipelines, want 1:\n%s", len(f.Pipelines), b)
		}
		p := f.Pipelines[0]
		var cols []string
		for _, c := range p.Schema.Columns {
			cols = append(cols, c.Name+":"+c.Type)
		}
		got := fmt.Sprintf("%s target=%s cols=%v algorithm=%s metric=%s", p.Name, p.Schema.Target, cols, p.Model.Algorithm, p.Promote.Metric)
		want := "titanic target=survived cols=[survived:category class:category sex:category age:number embarked:category] algorithm=logistic metric=roc_auc"
		if got != want {
			t.Errorf("mlserve.yaml:\ngot  %s\nwant %s", got, want)
		}
		if p.Train.OnNewRows <= 0 || p.Train.MinRows <= 0 {
			t.Errorf("train: on_new_rows %d, min_rows %d; want both > 0 (the new-rows trigger trains the first model)", p.Train.OnNewRows, p.Train.MinRows)
		}
		if r := mlserve(t, dir, "init", "--example", "titanic"); r.code != 1 || !strings.Contains(r.stderr, "--force") {
			t.Errorf("init over an existing file: want exit 1 with a hint about --force, got %s", r)
		}
	})

	srv := startServer(t, dir, append([]string{"up"}, flags...)...)

	step("no model yet", func(t *testing.T) {
		code, body := srv.get("/?" + femaleFirst)
		var p prototype
		decode(t, "GET /", code, body, http.StatusServiceUnavailable, &p)
		msg, _ := p.Message.StatusMessage.(string)
		if p.Message.StatusCode != http.StatusServiceUnavailable || !strings.Contains(msg, "ingest") || !strings.Contains(msg, "train") {
			t.Errorf("GET / before any model: want the prototype envelope with status_code 503 and a message saying how to get a model (ingest, train); got %s", body)
		}
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		srv.getJSON(t, "/v1/models/titanic/predict?"+femaleFirst, http.StatusServiceUnavailable, &e)
		if e.Error.Code == "" || !strings.Contains(e.Error.Message, "ingest") {
			t.Errorf("/v1 predict before any model: want an error envelope saying how to get a model, got %+v", e)
		}
		var mi modelInfo
		srv.getJSON(t, "/v1/models/titanic", http.StatusOK, &mi)
		if mi.ProductionVersion != nil || mi.Production != nil {
			t.Errorf("production before any model: got %v / %+v, want null", mi.ProductionVersion, mi.Production)
		}
		// No pipeline has a production version yet, so the api is ready.
		if code, body := srv.get("/readyz"); code != http.StatusOK {
			t.Errorf("GET /readyz with an empty registry: %d %s, want 200", code, body)
		}
	})

	step("ingest seed CSV", func(t *testing.T) {
		valid, total := validTitanicRows(t)
		if valid != 891 || total != 891 {
			t.Fatalf("seed_titanic.csv: %d of %d rows fit the titanic schema, want 891 of 891", valid, total)
		}
		body, err := os.ReadFile(filepath.Join(dataDir, "seed_titanic.csv"))
		if err != nil {
			t.Fatal(err)
		}
		var a ingestAnswer
		srv.postJSON(t, "/v1/datasets/titanic/rows", "text/csv", body, http.StatusOK, &a)
		if a.Accepted != int64(valid) || a.Rejected != int64(total-valid) || len(a.Errors) != 0 || a.BatchID < 1 {
			t.Fatalf("ingest answer: %+v, want %d accepted, %d rejected, no errors, a batch id", a, valid, total-valid)
		}
		var info datasetInfo
		srv.getJSON(t, "/v1/datasets/titanic", http.StatusOK, &info)
		if info.Rows != 891 || info.Batches != 1 || info.Quarantined != 0 {
			t.Errorf("dataset after ingestion: %+v, want 891 rows in 1 batch, 0 quarantined", info)
		}
	})

	var v1 version
	step("trigger trains v1", func(t *testing.T) {
		took := eventually(t, 60*time.Second, 100*time.Millisecond, "the new-rows trigger promotes v1", func() bool {
			var mi modelInfo
			srv.getJSON(t, "/v1/models/titanic", http.StatusOK, &mi)
			if mi.ProductionVersion == nil {
				return false
			}
			if *mi.ProductionVersion != 1 || mi.Production == nil {
				t.Fatalf("first production version: %+v, want v1", mi)
			}
			v1 = *mi.Production
			return true
		})
		t.Logf("v1 promoted %.2f s after ingestion: %v", took.Seconds(), v1.Metrics)
		if v1.State != "production" || v1.DataRows != 891 || v1.DataWatermark < 1 || len(v1.ArtifactSHA256) != 64 || len(v1.DataSHA256) != 64 {
			t.Errorf("v1: %+v; want production, 891 rows, a watermark, sha256 hashes", v1)
		}
		if auc := v1.Metrics["roc_auc"]; auc < 0.7 || auc > 1 {
			t.Errorf("v1 roc_auc %v, want in [0.7, 1] (the gate's minimum)", auc)
		}
		var runs runList
		srv.getJSON(t, "/v1/runs", http.StatusOK, &runs)
		if len(runs.Runs) != 1 || runs.Runs[0].Reason != "new_rows" || runs.Runs[0].State != "succeeded" || runs.Runs[0].Version != 1 {
			t.Errorf("runs after the first training: %+v, want one succeeded new_rows run that made v1", runs.Runs)
		}
	})

	// predictVersion asks both predict routes and the prototype route and
	// requires they agree on the version served and the probability.
	predictVersion := func(t *testing.T, want int) {
		t.Helper()
		var pr predictAnswer
		eventually(t, 10*time.Second, 50*time.Millisecond, fmt.Sprintf("predictions report version %d", want), func() bool {
			srv.getJSON(t, "/v1/models/titanic/predict?"+femaleFirst, http.StatusOK, &pr)
			return pr.Version == want
		})
		var proto prototype
		srv.getJSON(t, "/?"+femaleFirst, http.StatusOK, &proto)
		if got := pr.Predictions[0].Probabilities["1"]; got != proto.Data.Result {
			t.Errorf("v%d: /v1 predict says P(survived)=%v, GET / says %v", want, got, proto.Data.Result)
		}
		var mi struct {
			ProductionVersion *int `json:"production_version"`
			ServedVersion     *int `json:"served_version"`
		}
		srv.getJSON(t, "/v1/models/titanic", http.StatusOK, &mi)
		if mi.ProductionVersion == nil || *mi.ProductionVersion != want {
			t.Errorf("production_version %v, want %d", mi.ProductionVersion, want)
		}
	}

	var pFemaleFirst float64
	step("predict", func(t *testing.T) {
		predictVersion(t, 1)
		var f, m prototype
		srv.getJSON(t, "/?"+femaleFirst, http.StatusOK, &f)
		srv.getJSON(t, "/?"+maleThird, http.StatusOK, &m)
		for _, p := range []prototype{f, m} {
			if p.Message.StatusCode != 200 || p.Message.StatusMessage != "OK" {
				t.Errorf("GET / envelope: %+v, want status_code 200, status_message OK", p.Message)
			}
			if p.Data.Result <= 0 || p.Data.Result >= 1 {
				t.Errorf("GET / result %v, want a probability in (0, 1)", p.Data.Result)
			}
		}
		if f.Message.Args["sex"] != "female" || f.Message.Args["class"] != "1" {
			t.Errorf("GET / args: %v, want the query parameters echoed", f.Message.Args)
		}
		if f.Data.Result <= m.Data.Result {
			t.Errorf("P(survived): female 1st class %v <= male 3rd class %v", f.Data.Result, m.Data.Result)
		}
		pFemaleFirst = f.Data.Result
		if code, body := srv.get("/metrics"); code != http.StatusOK || !strings.Contains(string(body), `mlserve_http_request_duration_seconds_count{model="titanic",route="GET /{$}",status_class="2xx",version="`) {
			t.Errorf("GET /metrics: %d, want 200 with the request histogram of GET /:\n%s", code, lastLines(string(body), 20))
		}

		var pr predictAnswer
		srv.postJSON(t, "/v1/models/titanic/predict", "", []byte(`{"instances": [
			{"class": 1, "sex": "female", "age": 22, "embarked": "S"},
			{"class": 3, "sex": "M", "age": 22, "embarked": "S"}]}`), http.StatusOK, &pr)
		if pr.Model != "titanic" || pr.Version != 1 || len(pr.Predictions) != 2 {
			t.Fatalf("POST predict: %+v, want model titanic, version 1, two predictions", pr)
		}
		for i, want := range []struct {
			label string
			p1    float64
		}{{"1", f.Data.Result}, {"0", m.Data.Result}} {
			p := pr.Predictions[i]
			if p.Label != want.label || p.Probabilities["1"] != want.p1 || diff(sum(p.Probabilities), 1) > 1e-9 {
				t.Errorf("POST predict instance %d: %+v, want label %s and P(1)=%v (as GET /), probabilities summing to 1", i, p, want.label, want.p1)
			}
		}
		// Bad input is the caller's mistake: 400 naming the field, never 500.
		code, body := srv.get("/?class=1&sex=female&age=200&embarked=S")
		var bad prototype
		decode(t, "GET / with age=200", code, body, http.StatusBadRequest, &bad)
		if m, ok := bad.Message.StatusMessage.(map[string]any); !ok || m["age"] == nil {
			t.Errorf("GET / with age=200: status_message %v, want it to name age", bad.Message.StatusMessage)
		}
	})

	var manual run
	step("manual run", func(t *testing.T) {
		runNow := func(t *testing.T) run {
			t.Helper()
			var queued, fin run
			srv.postJSON(t, "/v1/pipelines/titanic/runs", "", nil, http.StatusAccepted, &queued)
			if queued.ID < 1 || queued.Pipeline != "titanic" || queued.Reason != "manual" || (queued.State != "queued" && queued.State != "running") {
				t.Fatalf("POST runs: %+v, want a queued manual run of titanic", queued)
			}
			eventually(t, 60*time.Second, 100*time.Millisecond, fmt.Sprintf("run %d finishes", queued.ID), func() bool {
				srv.getJSON(t, fmt.Sprintf("/v1/runs/%d", queued.ID), http.StatusOK, &fin)
				return fin.State == "succeeded" || fin.State == "failed"
			})
			return fin
		}
		// Same rows, same config, same seed: the same artifact (DESIGN.md
		// §5), which is v1 and registers nothing.
		same := runNow(t)
		if same.State != "succeeded" || same.Version != 0 || same.SameAs != 1 || !strings.HasPrefix(same.Message, "same as v1") {
			t.Fatalf("run %d on v1's rows: %+v, want succeeded, same as v1, no version", same.ID, same)
		}
		// Ten more rows make another model: v2.
		body, err := os.ReadFile(filepath.Join(dataDir, "seed_titanic.csv"))
		if err != nil {
			t.Fatal(err)
		}
		var a ingestAnswer
		srv.postJSON(t, "/v1/datasets/titanic/rows", "text/csv", []byte(strings.Join(strings.SplitAfterN(string(body), "\n", 12)[:11], "")), http.StatusOK, &a)
		if a.Accepted != 10 {
			t.Fatalf("ingest of 10 more rows: %+v", a)
		}
		manual = runNow(t)
		if manual.State != "succeeded" || manual.Version != 2 || manual.Error != "" || manual.StartedAt == nil || manual.FinishedAt == nil {
			t.Fatalf("run %d: %+v, want succeeded with version 2", manual.ID, manual)
		}
	})

	step("promote v2", func(t *testing.T) {
		var vs versionList
		srv.getJSON(t, "/v1/models/titanic/versions", http.StatusOK, &vs)
		v2 := find(vs.Versions, 2)
		if v2 == nil {
			t.Fatalf("versions: %+v, want a v2", vs.Versions)
		}
		if v2.ArtifactSHA256 == v1.ArtifactSHA256 || v2.DataRows != v1.DataRows+10 {
			t.Errorf("v2: artifact %s on %d rows, want another artifact than v1's on v1's %d rows + 10", v2.ArtifactSHA256, v2.DataRows, v1.DataRows)
		}
		switch v2.State {
		case "production":
			t.Logf("the gate promoted v2")
		case "rejected":
			t.Logf("the gate rejected v2 (not clearly better than v1); promoting it by hand")
			var p struct {
				FromVersion int    `json:"from_version"`
				ToVersion   int    `json:"to_version"`
				Action      string `json:"action"`
			}
			srv.postJSON(t, "/v1/models/titanic/versions/2/promote", "", nil, http.StatusOK, &p)
			if p.FromVersion != 1 || p.ToVersion != 2 {
				t.Errorf("promote: %+v, want from 1 to 2", p)
			}
		default:
			t.Fatalf("v2 state %q, want production or rejected", v2.State)
		}
		predictVersion(t, 2)
	})

	step("rollback", func(t *testing.T) {
		var p struct {
			FromVersion int    `json:"from_version"`
			ToVersion   int    `json:"to_version"`
			Action      string `json:"action"`
		}
		srv.postJSON(t, "/v1/models/titanic/rollback", "", nil, http.StatusOK, &p)
		if p.FromVersion != 2 || p.ToVersion != 1 || p.Action != "rollback" {
			t.Errorf("rollback: %+v, want a rollback from 2 to 1", p)
		}
		predictVersion(t, 1)
		var vs versionList
		srv.getJSON(t, "/v1/models/titanic/versions", http.StatusOK, &vs)
		if v := find(vs.Versions, 1); v == nil || v.State != "production" {
			t.Errorf("v1 after rollback: %+v, want production", v)
		}
		if v := find(vs.Versions, 2); v == nil || v.State != "archived" {
			t.Errorf("v2 after rollback: %+v, want archived", v)
		}
	})

	step("CLI beside the server", func(t *testing.T) {
		var raw struct {
			Versions []map[string]any `json:"versions"`
		}
		r := mustJSON(t, &raw, dir, append([]string{"models", "titanic", "--json"}, flags...)...)
		var vs versionList
		if err := json.Unmarshal([]byte(r.stdout), &vs); err != nil {
			t.Fatal(err)
		}
		if len(raw.Versions) != 2 {
			t.Fatalf("models --json: %d versions, want 2:\n%s", len(raw.Versions), r.stdout)
		}
		for i, v := range raw.Versions {
			hasKeys(t, fmt.Sprintf("models --json versions[%d]", i), v, versionFields)
		}
		if v := find(vs.Versions, 1); v == nil || v.State != "production" || v.Pipeline != "titanic" || v.ArtifactSHA256 != v1.ArtifactSHA256 ||
			v.DataRows != 891 || v.DataWatermark != v1.DataWatermark || v.CreatedAt.IsZero() || v.Metrics["roc_auc"] != v1.Metrics["roc_auc"] {
			t.Errorf("models --json v1: %+v, want the production v1 the api showed: %+v", v, v1)
		}
		if v := find(vs.Versions, 2); v == nil || v.State != "archived" {
			t.Errorf("models --json v2: %+v, want archived", v)
		}

		var runsRaw struct {
			Runs []map[string]any `json:"runs"`
		}
		r = mustJSON(t, &runsRaw, dir, append([]string{"runs", "--json"}, flags...)...)
		var runs runList
		if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil {
			t.Fatal(err)
		}
		for i, x := range runsRaw.Runs {
			hasKeys(t, fmt.Sprintf("runs --json runs[%d]", i), x, runFields)
		}
		if len(runs.Runs) != 3 || runs.Runs[0].ID != manual.ID || runs.Runs[0].Reason != "manual" || runs.Runs[2].Reason != "new_rows" ||
			runs.Runs[0].Version != 2 || runs.Runs[1].SameAs != 1 || runs.Runs[2].Version != 1 {
			t.Errorf("runs --json: %+v, want the manual run (v2), the one same as v1, then the new_rows run (v1), newest first", runs.Runs)
		}

		var pr predictAnswer
		mustJSON(t, &pr, dir, append([]string{"predict", "titanic", "class=1", "sex=female", "age=22", "embarked=S"}, flags...)...)
		if pr.Model != "titanic" || pr.Version != 1 || len(pr.Predictions) != 1 || pr.Predictions[0].Probabilities["1"] != pFemaleFirst {
			t.Errorf("mlserve predict: %+v, want version 1 and P(1)=%v as the server said", pr, pFemaleFirst)
		}
	})

	step("restart", func(t *testing.T) {
		srv.stop(t, 15*time.Second)
		var before runList
		mustJSON(t, &before, dir, append([]string{"runs", "--json"}, flags...)...)

		srv = startServer(t, dir, append([]string{"up"}, flags...)...)
		eventually(t, 15*time.Second, 50*time.Millisecond, "/readyz answers 200 after the restart", func() bool {
			code, _ := srv.get("/readyz")
			return code == http.StatusOK
		})
		var mi struct {
			ProductionVersion *int     `json:"production_version"`
			ServedVersion     *int     `json:"served_version"`
			Production        *version `json:"production"`
		}
		srv.getJSON(t, "/v1/models/titanic", http.StatusOK, &mi)
		if mi.ServedVersion == nil || *mi.ServedVersion != 1 || mi.Production == nil || mi.Production.ArtifactSHA256 != v1.ArtifactSHA256 {
			t.Errorf("after restart: served %v, production %+v; want v1 (%s) served", mi.ServedVersion, mi.Production, v1.ArtifactSHA256)
		}
		var pr predictAnswer
		srv.getJSON(t, "/v1/models/titanic/predict?"+femaleFirst, http.StatusOK, &pr)
		if pr.Version != 1 || pr.Predictions[0].Probabilities["1"] != pFemaleFirst {
			t.Errorf("prediction after restart: %+v, want version 1 and P(1)=%v", pr, pFemaleFirst)
		}
		var after runList
		srv.getJSON(t, "/v1/runs", http.StatusOK, &after)
		if len(after.Runs) != len(before.Runs) {
			t.Errorf("the restart started training: %d runs before, %d after: %+v", len(before.Runs), len(after.Runs), after.Runs)
		}
		srv.stop(t, 15*time.Second)
	})
}

func find(vs []version, n int) *version {
	i := slices.IndexFunc(vs, func(v version) bool { return v.Version == n })
	if i < 0 {
		return nil
	}
	return &vs[i]
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}
