package metrics_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/mlserve/mlserve/internal/metrics"
)

func setup(t testing.TB) (*metrics.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return metrics.New(metrics.Config{Registerer: reg, Version: "test"}), reg
}

// Lint fails on any metric whose name, help, type or unit breaks the
// Prometheus conventions, with every family populated.
func TestLint(t *testing.T) {
	t.Parallel()
	m, reg := setup(t)
	m.Request("POST /v1/models/{name}/predict", "titanic", 3, 200, 10, time.Millisecond)
	m.ModelSwapped("titanic", 3)
	m.ModelLoadFailed("titanic", metrics.LoadHashMismatch)
	m.Ingested("titanic", 10, 2)
	m.RunFinished("titanic", metrics.RunPromoted, time.Second)
	m.RunRetrying("titanic")
	m.RunEnqueued("titanic", "manual")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 13 {
		t.Errorf("got %d families, want 13", len(mfs))
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "mlserve_") {
			t.Errorf("%s lacks the mlserve_ prefix", mf.GetName())
		}
	}
}

// The linter itself catches what TestLint guards against.
func TestLintCatchesBadNames(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "mlserve_requests", Help: "x"}))
	reg.MustRegister(prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mlserve_latency_milliseconds", Help: "x"}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) < 2 {
		t.Fatalf("want problems for a counter without _total and a non-base unit, got %v", problems)
	}
}

func TestRequest(t *testing.T) {
	t.Parallel()
	m, reg := setup(t)
	const route = "POST /v1/models/{name}/predict"
	m.Request(route, "titanic", 2, 200, 1000, 3*time.Millisecond)
	m.Request(route, "titanic", 2, 201, 5, time.Millisecond)
	m.Request(route, "titanic", 2, 400, 7, time.Millisecond) // rows of a failed request do not count
	m.Request("", "", 0, 404, 0, time.Millisecond)
	m.Request("GET /healthz", "", 0, 200, 3, time.Millisecond) // no model: no predictions
	m.Request("GET /healthz", "", 0, 999, 0, time.Millisecond)

	want := `
# HELP mlserve_http_requests_total HTTP requests answered, by route pattern, model, version and status class (model and version only on routes that resolved a served model).
# TYPE mlserve_http_requests_total counter
mlserve_http_requests_total{model="",route="GET /healthz",status_class="2xx",version=""} 1
mlserve_http_requests_total{model="",route="GET /healthz",status_class="5xx",version=""} 1
mlserve_http_requests_total{model="",route="unmatched",status_class="4xx",version=""} 1
mlserve_http_requests_total{model="titanic",route="POST /v1/models/{name}/predict",status_class="2xx",version="2"} 2
mlserve_http_requests_total{model="titanic",route="POST /v1/models/{name}/predict",status_class="4xx",version="2"} 1
# HELP mlserve_predictions_total Rows predicted in successful answers, by model and version (a batch of n rows counts n).
# TYPE mlserve_predictions_total counter
mlserve_predictions_total{model="titanic",version="2"} 1005
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "mlserve_http_requests_total", "mlserve_predictions_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "mlserve_http_request_duration_seconds"); n != 5 {
		t.Errorf("duration series: got %d, want 5", n)
	}
}

// After MaxVersions versions of a model, the series of the first version
// seen go away; other models keep theirs.
func TestRequestEvictsOldVersions(t *testing.T) {
	t.Parallel()
	m, reg := setup(t)
	const route = "GET /v1/models/{name}/predict"
	m.Request(route, "iris", 1, 200, 1, time.Millisecond)
	for v := 1; v <= metrics.MaxVersions+2; v++ {
		m.Request(route, "titanic", v, 200, 1, time.Millisecond)
		m.Request(route, "titanic", v, 400, 0, time.Millisecond)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, mf := range mfs {
		if mf.GetName() != "mlserve_predictions_total" && mf.GetName() != "mlserve_http_requests_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			var model, ver string
			for _, l := range s.GetLabel() {
				switch l.GetName() {
				case "model":
					model = l.GetValue()
				case "version":
					ver = l.GetValue()
				}
			}
			got[mf.GetName()+" "+model+" "+ver]++
		}
	}
	for v := 1; v <= metrics.MaxVersions+2; v++ {
		ver := strconv.Itoa(v)
		want := 1
		if v <= 2 {
			want = 0
		}
		if n := got["mlserve_predictions_total titanic "+ver]; n != want {
			t.Errorf("predictions series of titanic v%d: got %d, want %d", v, n, want)
		}
		if n := got["mlserve_http_requests_total titanic "+ver]; n != 2*want {
			t.Errorf("request series of titanic v%d: got %d, want %d", v, n, 2*want)
		}
	}
	if got["mlserve_predictions_total iris 1"] != 1 {
		t.Errorf("iris v1 lost its series: %v", got)
	}
	// A version seen again starts from zero.
	m.Request(route, "titanic", 1, 200, 4, time.Millisecond)
	if v := testutil.ToFloat64(mustPredictions(t, reg, "titanic", "1")); v != 4 {
		t.Errorf("titanic v1 after eviction: got %v, want 4", v)
	}
}

func mustPredictions(t *testing.T, reg *prometheus.Registry, model, ver string) prometheus.Collector {
	t.Helper()
	return collectorFunc(func(ch chan<- prometheus.Metric) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "mlserve_predictions_total" {
				continue
			}
			for _, s := range mf.GetMetric() {
				ls := map[string]string{}
				for _, l := range s.GetLabel() {
					ls[l.GetName()] = l.GetValue()
				}
				if ls["model"] == model && ls["version"] == ver {
					ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("x", "x", nil, nil), prometheus.CounterValue, s.GetCounter().GetValue())
				}
			}
		}
	})
}

type collectorFunc func(chan<- prometheus.Metric)

func (f collectorFunc) Describe(ch chan<- *prometheus.Desc) {}
func (f collectorFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

// The request path allocates nothing once its series exist.
func TestRequestAllocs(t *testing.T) {
	m, _ := setup(t)
	m.Request("GET /{$}", "titanic", 7, 200, 1, time.Millisecond)
	allocs := testing.AllocsPerRun(1000, func() {
		m.Request("GET /{$}", "titanic", 7, 200, 1, time.Millisecond)
	})
	if allocs != 0 {
		t.Errorf("Request allocates %v times per call, want 0", allocs)
	}
}

func TestOthers(t *testing.T) {
	t.Parallel()
	m, reg := setup(t)
	m.ModelSwapped("titanic", 1)
	m.ModelSwapped("titanic", 4)
	m.ModelLoadFailed("titanic", metrics.LoadHashMismatch)
	m.Ingested("titanic", 10, 2)
	m.Ingested("titanic", 5, 0)
	m.RunFinished("titanic", metrics.RunRejected, 2*time.Second)
	m.RunRetrying("titanic")
	m.RunEnqueued("titanic", "manual")
	want := `
# HELP mlserve_ingest_batches_total Ingest batches stored (one per request or file; idempotent replays not counted), by dataset.
# TYPE mlserve_ingest_batches_total counter
mlserve_ingest_batches_total{dataset="titanic"} 2
# HELP mlserve_ingest_rows_total Rows in stored ingest batches, by dataset and outcome: accepted (stored) or rejected (quarantined).
# TYPE mlserve_ingest_rows_total counter
mlserve_ingest_rows_total{dataset="titanic",outcome="accepted"} 15
mlserve_ingest_rows_total{dataset="titanic",outcome="rejected"} 2
# HELP mlserve_model_load_failures_total Production versions that failed to load for serving (the previous one kept serving), by model and reason: missing, unavailable, hash_mismatch, invalid, warmup.
# TYPE mlserve_model_load_failures_total counter
mlserve_model_load_failures_total{model="titanic",reason="hash_mismatch"} 1
# HELP mlserve_model_production_version Registry version this process serves as production, by model.
# TYPE mlserve_model_production_version gauge
mlserve_model_production_version{model="titanic"} 4
# HELP mlserve_model_swaps_total Times a new version was loaded, verified, warmed and swapped in for serving, by model.
# TYPE mlserve_model_swaps_total counter
mlserve_model_swaps_total{model="titanic"} 2
# HELP mlserve_training_retries_total Training attempts that failed for a reason a retry may fix and were handed back for a retry, by pipeline.
# TYPE mlserve_training_retries_total counter
mlserve_training_retries_total{pipeline="titanic"} 1
# HELP mlserve_training_runs_enqueued_total Training runs queued by this process, by pipeline and reason: manual, schedule, new_rows.
# TYPE mlserve_training_runs_enqueued_total counter
mlserve_training_runs_enqueued_total{pipeline="titanic",reason="manual"} 1
# HELP mlserve_training_runs_total Training runs finished by this process, by pipeline and outcome: promoted, rejected, skipped, succeeded, failed.
# TYPE mlserve_training_runs_total counter
mlserve_training_runs_total{outcome="rejected",pipeline="titanic"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"mlserve_ingest_batches_total", "mlserve_ingest_rows_total", "mlserve_model_load_failures_total",
		"mlserve_model_production_version", "mlserve_model_swaps_total", "mlserve_training_retries_total",
		"mlserve_training_runs_enqueued_total", "mlserve_training_runs_total"); err != nil {
		t.Error(err)
	}
}

// A nil *Metrics records nothing and does not panic.
func TestNil(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.Request("GET /", "titanic", 1, 200, 1, time.Millisecond)
	m.ModelSwapped("titanic", 1)
	m.ModelLoadFailed("titanic", metrics.LoadInvalid)
	m.Ingested("titanic", 1, 1)
	m.RunFinished("titanic", metrics.RunFailed, time.Second)
	m.RunRetrying("titanic")
	m.RunEnqueued("titanic", "manual")
}

func BenchmarkRequest(b *testing.B) {
	m, _ := setup(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("GET /{$}", "titanic", 7, 200, 1, 20*time.Microsecond)
		}
	})
}

// TestRequestKeepsCopies checks that a new series keeps copies of its
// route and model: the fasthttp server passes strings that share memory it
// reuses for the next request, and a series whose label changed under it
// showed another client's bytes and, once equal to another series, made
// every scrape fail (duplicate series).
func TestRequestKeepsCopies(t *testing.T) {
	t.Parallel()
	m, reg := setup(t)
	const route = "POST /v2/models/{name}/infer"
	buf := []byte("titanic")
	m.Request(route, unsafe.String(&buf[0], len(buf)), 1, 200, 1, time.Millisecond)
	copy(buf, "HUNTER2") // the connection's next request
	m.Request(route, "titanic", 1, 200, 1, time.Millisecond)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	want := `# HELP mlserve_http_requests_total HTTP requests answered, by route pattern, model, version and status class (model and version only on routes that resolved a served model).
# TYPE mlserve_http_requests_total counter
mlserve_http_requests_total{model="titanic",route="POST /v2/models/{name}/infer",status_class="2xx",version="1"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "mlserve_http_requests_total"); err != nil {
		t.Error(err)
	}
}
