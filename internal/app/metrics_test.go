package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
)

// scrape GETs base/metrics, parses it with expfmt, lints it with promlint
// and returns each sample as "name{k="v",…}" (labels sorted, histograms as
// their _count) → value, and the raw text.
func scrape(t *testing.T, base string) (map[string]float64, string) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %s", err, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, data)
	}
	var list []*dto.MetricFamily
	out := map[string]float64{}
	for name, mf := range fams {
		list = append(list, mf)
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(ls)
			key := name + "{" + strings.Join(ls, ",") + "}"
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[strings.Replace(key, "{", "_count{", 1)] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	problems, err := promlint.NewWithMetricFamilies(list).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		if strings.HasPrefix(pr.Metric, "mlserve_") {
			t.Errorf("promlint: %s: %s", pr.Metric, pr.Text)
		}
	}
	return out, string(data)
}

// wantMetrics checks exact values ("name{labels}" as scrape keys them; a
// missing series is 0).
func wantMetrics(t *testing.T, what string, got map[string]float64, want map[string]float64) {
	t.Helper()
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}) {
		if got[k] != want[k] {
			t.Errorf("%s: %s = %v, want %v", what, k, got[k], want[k])
		}
	}
}

func httpDo(t *testing.T, method, url, ctype, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func mustStatus(t *testing.T, want int, method, url, ctype, body string) string {
	t.Helper()
	code, got := httpDo(t, method, url, ctype, body)
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, code, want, got)
	}
	return got
}

// waitFor polls cond every 20 ms until it holds or 30 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMetrics runs the roles as separate deployments would (ingest and
// trainer in one App, the api in another, both on one SQLite file and
// artifacts folder), performs real actions over HTTP and checks the exact
// values each process's /metrics reports afterwards: ingest rows and
// batches, runs by outcome, queued runs, swaps, the served version,
// predictions and requests by route, model, version and status class, and
// a failed load of a corrupted artifact in a freshly started api.
func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	env := config.Env{DatabaseURL: "sqlite://" + dir + "/mlserve.db", ArtifactsURL: "file://" + dir + "/artifacts"}
	f := titanicFile(t)
	f.Pipelines[0].Train.OnNewRows = config.Ptr(0) // only the first run starts by itself
	empty := f.Pipelines[0]
	empty.Name = "nodata"
	f.Pipelines = append(f.Pipelines, empty)

	work := openApp(t, env, f)
	front := openApp(t, env, f)
	done := make(chan *store.Run, 8)
	workURL := serve(t, work, ServeOptions{Roles: Roles{Trainer: true, Ingest: true}, OnRunDone: func(r *store.Run, err error) {
		if err != nil {
			t.Errorf("run attempt failed: %v", err)
			return
		}
		done <- r
	}})
	apiURL := serve(t, front, ServeOptions{Roles: Roles{API: true}, ReloadEvery: 50 * time.Millisecond})
	waitRun := func(t *testing.T, wantPipeline string) *store.Run {
		t.Helper()
		select {
		case r := <-done:
			if r.Pipeline != wantPipeline {
				t.Fatalf("run of %s finished, want %s", r.Pipeline, wantPipeline)
			}
			return r
		case <-time.After(60 * time.Second):
			t.Fatal("no training run finished within 60 s")
		}
		return nil
	}

	// Ingest: one good batch with two bad rows, and one body that is not
	// JSON at all (400, nothing stored).
	seed, err := os.ReadFile(seedTitanic)
	if err != nil {
		t.Fatal(err)
	}
	body := string(seed)
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	header := body[:strings.IndexByte(body, '\n')]
	if header != "survived,class,sex,age,embarked" {
		t.Fatalf("unexpected header of %s: %s", seedTitanic, header)
	}
	body += "1,9,male,30,S\n0,1,male,-4,Q\n"
	res := postCSV(t, workURL+"/v1/datasets/titanic/rows", []byte(body))
	if res.Accepted != 891 || res.Rejected != 2 {
		t.Fatalf("ingest: accepted %d rejected %d, want 891 and 2", res.Accepted, res.Rejected)
	}
	mustStatus(t, http.StatusBadRequest, "POST", workURL+"/v1/datasets/titanic/rows", "application/json", `{"not": "an array"`)
	w, _ := scrape(t, workURL)
	wantMetrics(t, "ingest", w, map[string]float64{
		`mlserve_ingest_rows_total{dataset="titanic",outcome="accepted"}`:                                                           891,
		`mlserve_ingest_rows_total{dataset="titanic",outcome="rejected"}`:                                                           2,
		`mlserve_ingest_batches_total{dataset="titanic"}`:                                                                           1,
		`mlserve_http_requests_total{model="",route="POST /v1/datasets/{name}/rows",status_class="2xx",version=""}`:                 1,
		`mlserve_http_requests_total{model="",route="POST /v1/datasets/{name}/rows",status_class="4xx",version=""}`:                 1,
		`mlserve_http_request_duration_seconds_count{model="",route="POST /v1/datasets/{name}/rows",status_class="2xx",version=""}`: 1,
		`mlserve_build_info{version="` + versionLabel(w) + `"}`:                                                                     1,
	})

	// Training: the rows start the first run (the trigger queues it), which
	// promotes v1; the api swaps it in.
	if r := waitRun(t, "titanic"); r.State != store.RunSucceeded || r.Version != 1 || r.Reason != store.ReasonNewRows {
		t.Fatalf("run 1: %s v%d (%s %s), want succeeded v1", r.State, r.Version, r.Message, r.Error)
	}
	waitFor(t, "api serves v1", func() bool {
		m, _ := scrape(t, apiURL)
		return m[`mlserve_model_production_version{model="titanic"}`] == 1
	})

	// Predictions: 1 + 1 + 3 rows answered, one bad instance, one unknown
	// model (its name must not become a label).
	mustStatus(t, http.StatusOK, "GET", apiURL+"/?class=1&sex=female&age=22&embarked=S", "", "")
	mustStatus(t, http.StatusOK, "GET", apiURL+"/v1/models/titanic/predict?class=3&sex=male&age=40&embarked=Q", "", "")
	mustStatus(t, http.StatusOK, "POST", apiURL+"/v1/models/titanic/predict", "application/json",
		`{"instances": [{"class": 1, "sex": "female", "age": 30}, {"class": 2, "sex": "male"}, {"class": 3, "sex": "F", "age": 4}]}`)
	mustStatus(t, http.StatusBadRequest, "POST", apiURL+"/v1/models/titanic/predict", "application/json", `{"class": 7, "sex": "male"}`)
	mustStatus(t, http.StatusNotFound, "GET", apiURL+"/v1/models/zz_user_value/predict?class=1", "", "")
	mustStatus(t, http.StatusNotFound, "GET", apiURL+"/no/such/route_user_value", "", "")

	// A manual run (queued by the api, worked by the trainer) on the same
	// rows trains the same artifact: it says so and registers nothing
	// (skipped). Ten more rows make another model, which is not better
	// than production by more than the holdout's noise: rejected. A
	// scheduled run with no new rows is skipped. A run of a pipeline
	// without rows fails.
	mustStatus(t, http.StatusAccepted, "POST", apiURL+"/v1/pipelines/titanic/runs", "", "")
	if r := waitRun(t, "titanic"); r.Version != 0 || r.SameAs != 1 || !strings.HasPrefix(r.Message, "same as v1") {
		t.Fatalf("run 2: %s v%d same as v%d (%s), want same as v1", r.State, r.Version, r.SameAs, r.Message)
	}
	more := strings.Join(strings.SplitAfterN(string(seed), "\n", 12)[:11], "")
	if res := postCSV(t, workURL+"/v1/datasets/titanic/rows", []byte(more)); res.Accepted != 10 {
		t.Fatalf("ingest of 10 more rows: accepted %d", res.Accepted)
	}
	mustStatus(t, http.StatusAccepted, "POST", apiURL+"/v1/pipelines/titanic/runs", "", "")
	if r := waitRun(t, "titanic"); r.Version != 2 || !strings.Contains(r.Message, "rejected") {
		t.Fatalf("run 3: %s v%d (%s), want v2 rejected", r.State, r.Version, r.Message)
	}
	q, err := front.Queue(QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Enqueue(context.Background(), "titanic", store.ReasonSchedule, 0); err != nil {
		t.Fatal(err)
	}
	if r := waitRun(t, "titanic"); r.Version != 0 || !strings.Contains(r.Message, "nothing to train") {
		t.Fatalf("run 3: %s v%d reason %s (%s), want skipped", r.State, r.Version, r.Reason, r.Message)
	}
	mustStatus(t, http.StatusAccepted, "POST", apiURL+"/v1/pipelines/nodata/runs", "", "")
	if r := waitRun(t, "nodata"); r.State != store.RunFailed {
		t.Fatalf("run 4: %s (%s), want failed", r.State, r.Message)
	}

	// A promotion by hand through the api swaps v2 in before it answers.
	mustStatus(t, http.StatusOK, "POST", apiURL+"/v1/models/titanic/versions/2/promote", "", "")
	mustStatus(t, http.StatusOK, "GET", apiURL+"/v1/models/titanic/predict?class=1&sex=male", "", "")
	// The inference protocol: 2 rows on production (v2), 3 on v1 by its
	// version route, and a version that does not exist (no version label).
	infer := func(n int) string {
		col := func(name, dt, v string) string {
			return `{"name": "` + name + `", "datatype": "` + dt + `", "shape": [` + fmt.Sprint(n) + `], "data": [` + strings.TrimSuffix(strings.Repeat(v+",", n), ",") + `]}`
		}
		return `{"inputs": [` + col("class", "BYTES", `"1"`) + `, ` + col("sex", "BYTES", `"female"`) + `, ` +
			col("age", "FP64", "30") + `, ` + col("embarked", "BYTES", `"S"`) + `]}`
	}
	mustStatus(t, http.StatusOK, "POST", apiURL+"/v2/models/titanic/infer", "application/json", infer(2))
	mustStatus(t, http.StatusOK, "POST", apiURL+"/v2/models/titanic/versions/1/infer", "application/json", infer(3))
	mustStatus(t, http.StatusNotFound, "POST", apiURL+"/v2/models/titanic/versions/99/infer", "application/json", infer(1))

	w, _ = scrape(t, workURL)
	wantMetrics(t, "trainer", w, map[string]float64{
		`mlserve_training_runs_enqueued_total{pipeline="titanic",reason="new_rows"}`:         1,
		`mlserve_training_runs_total{outcome="promoted",pipeline="titanic"}`:                 1,
		`mlserve_training_runs_total{outcome="rejected",pipeline="titanic"}`:                 1,
		`mlserve_training_runs_total{outcome="skipped",pipeline="titanic"}`:                  2,
		`mlserve_training_runs_total{outcome="failed",pipeline="nodata"}`:                    1,
		`mlserve_training_runs_total{outcome="succeeded",pipeline="titanic"}`:                0,
		`mlserve_training_run_duration_seconds_count{outcome="promoted",pipeline="titanic"}`: 1,
		`mlserve_training_run_duration_seconds_count{outcome="failed",pipeline="nodata"}`:    1,
		`mlserve_training_retries_total{pipeline="titanic"}`:                                 0,
	})
	a, text := scrape(t, apiURL)
	const (
		proto = `route="GET /{$}"`
		get   = `route="GET /v1/models/{name}/predict"`
		post  = `route="POST /v1/models/{name}/predict"`
	)
	wantMetrics(t, "api", a, map[string]float64{
		`mlserve_training_runs_enqueued_total{pipeline="titanic",reason="manual"}`:                                                            2,
		`mlserve_training_runs_enqueued_total{pipeline="titanic",reason="schedule"}`:                                                          1,
		`mlserve_training_runs_enqueued_total{pipeline="nodata",reason="manual"}`:                                                             1,
		`mlserve_model_swaps_total{model="titanic"}`:                                                                                          2,
		`mlserve_model_production_version{model="titanic"}`:                                                                                   2,
		`mlserve_predictions_total{model="titanic",version="1"}`:                                                                              8,
		`mlserve_predictions_total{model="titanic",version="2"}`:                                                                              3,
		`mlserve_http_requests_total{model="titanic",` + proto + `,status_class="2xx",version="1"}`:                                           1,
		`mlserve_http_requests_total{model="titanic",` + get + `,status_class="2xx",version="1"}`:                                             1,
		`mlserve_http_requests_total{model="titanic",` + get + `,status_class="2xx",version="2"}`:                                             1,
		`mlserve_http_requests_total{model="titanic",` + post + `,status_class="2xx",version="1"}`:                                            1,
		`mlserve_http_requests_total{model="titanic",` + post + `,status_class="4xx",version="1"}`:                                            1,
		`mlserve_http_requests_total{model="",` + get + `,status_class="4xx",version=""}`:                                                     1,
		`mlserve_http_requests_total{model="",route="/",status_class="4xx",version=""}`:                                                       1,
		`mlserve_http_request_duration_seconds_count{model="titanic",` + post + `,status_class="2xx",version="1"}`:                            1,
		`mlserve_http_requests_total{model="titanic",route="POST /v2/models/{name}/infer",status_class="2xx",version="2"}`:                    1,
		`mlserve_http_requests_total{model="titanic",route="POST /v2/models/{name}/versions/{version}/infer",status_class="2xx",version="1"}`: 1,
		`mlserve_http_requests_total{model="titanic",route="POST /v2/models/{name}/versions/{version}/infer",status_class="4xx",version=""}`:  1,
		`mlserve_model_load_failures_total{model="titanic",reason="hash_mismatch"}`:                                                           0,
	})
	if strings.Contains(text, "user_value") {
		t.Errorf("a value from a request path became a label:\n%s", grepLines(text, "user_value"))
	}

	// The artifact of production (v2, promoted by hand) rots in the
	// object store; an api started now fails to load it, counts the failure
	// and is not ready, while the running api keeps serving from memory.
	v2, err := work.Store.VersionGet(context.Background(), "titanic", 2)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "artifacts", filepath.FromSlash(artifact.Key("titanic", v2.ArtifactSHA256)))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	late := openApp(t, env, f)
	lateURL := serve(t, late, ServeOptions{Roles: Roles{API: true}, ReloadEvery: 50 * time.Millisecond})
	waitFor(t, "the new api counts the failed load", func() bool {
		m, _ := scrape(t, lateURL)
		return m[`mlserve_model_load_failures_total{model="titanic",reason="hash_mismatch"}`] > 0
	})
	l, _ := scrape(t, lateURL)
	wantMetrics(t, "late api", l, map[string]float64{
		`mlserve_model_load_failures_total{model="titanic",reason="hash_mismatch"}`: 1, // not retried until production changes
		`mlserve_model_swaps_total{model="titanic"}`:                                0,
		`mlserve_model_production_version{model="titanic"}`:                         0,
	})
	mustStatus(t, http.StatusServiceUnavailable, "GET", lateURL+"/readyz", "", "")
	mustStatus(t, http.StatusOK, "GET", apiURL+"/v1/models/titanic/predict?class=1&sex=male", "", "")
}

func versionLabel(m map[string]float64) string {
	for k := range m {
		if v, ok := strings.CutPrefix(k, `mlserve_build_info{version="`); ok {
			return strings.TrimSuffix(v, `"}`)
		}
	}
	return "<missing>"
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
