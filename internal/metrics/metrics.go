// Package metrics holds mlserve's Prometheus collectors: HTTP requests,
// predictions, model swaps and loads, ingest and training. New registers them
// into a prometheus.Registerer; every method works on a nil *Metrics and then
// does nothing, so packages take a *Metrics in their config and tests that
// do not care leave it nil.
//
// Labels are few and bounded: route patterns, configured pipeline names,
// registry versions (at most MaxVersions per model at a time), status
// classes and fixed outcome words. No raw path or value sent by a client
// ever becomes a label.
package metrics

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Training outcomes, the values of the outcome label of
// mlserve_training_runs_total and mlserve_training_run_duration_seconds.
const (
	// RunPromoted: a version was registered and the gate promoted it.
	RunPromoted = "promoted"
	// RunRejected: a version was registered and the gate rejected it.
	RunRejected = "rejected"
	// RunSkipped: no new rows since the last version; nothing was trained.
	RunSkipped = "skipped"
	// RunSucceeded: the run finished without a gate decision of its own
	// (its version was registered by an earlier attempt).
	RunSucceeded = "succeeded"
	// RunFailed: the run failed for good.
	RunFailed = "failed"
)

// Reasons a model version failed to load, the values of the reason label of
// mlserve_model_load_failures_total.
const (
	LoadMissing      = "missing"       // the artifact is not in the object store
	LoadUnavailable  = "unavailable"   // the object store did not answer
	LoadHashMismatch = "hash_mismatch" // the bytes do not hash to the registered sha256
	LoadInvalid      = "invalid"       // the artifact does not decode into a model
	LoadWarmup       = "warmup"        // the test prediction failed
)

// MaxVersions is how many versions of one model keep their request and
// prediction series at a time; when another version shows up, the series
// of the version seen first are deleted. It bounds the cardinality of a
// process that lives through many promotions.
const MaxVersions = 5

// Config configures New.
type Config struct {
	// Registerer receives the collectors (a prometheus.NewRegistry()).
	Registerer prometheus.Registerer
	// Version is the mlserve version reported by mlserve_build_info.
	Version string
}

// Metrics is the set of mlserve's collectors. A nil *Metrics records
// nothing.
type Metrics struct {
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	predictions  *prometheus.CounterVec

	swaps        *prometheus.CounterVec
	loadFailures *prometheus.CounterVec
	prodVersion  *prometheus.GaugeVec

	ingestRows    *prometheus.CounterVec
	ingestBatches *prometheus.CounterVec

	runs        *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	retries     *prometheus.CounterVec
	enqueued    *prometheus.CounterVec

	// children caches the resolved series of each request key; it is
	// replaced whole on a miss, so the hot path reads it without a lock.
	children atomic.Pointer[map[reqKey]*reqSeries]
	mu       sync.Mutex          // serialises misses and evictions
	versions map[string][]string // model → versions with series, first seen first
}

// reqKey says which series a finished request updates.
type reqKey struct {
	route, model string
	version      int
	class        uint8 // status / 100
}

type reqSeries struct {
	requests    prometheus.Counter
	duration    prometheus.Observer
	predictions prometheus.Counter // nil unless the request names a model version
}

// HTTPBuckets are the bounds (seconds) of mlserve_http_request_duration_seconds:
// from a cached prediction (tens of µs) to a large upload.
var HTTPBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60}

// TrainingBuckets are the bounds (seconds) of mlserve_training_run_duration_seconds.
var TrainingBuckets = []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// New creates the collectors and registers them into cfg.Registerer.
func New(cfg Config) *Metrics {
	f := func(c prometheus.Collector) { cfg.Registerer.MustRegister(c) }
	m := &Metrics{
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_http_requests_total",
			Help: "HTTP requests answered, by route pattern, model, version and status class (model and version only on routes that resolved a served model).",
		}, []string{"route", "model", "version", "status_class"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mlserve_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its handler, by route pattern, model, version and status class.",
			Buckets: HTTPBuckets,
		}, []string{"route", "model", "version", "status_class"}),
		predictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_predictions_total",
			Help: "Rows predicted in successful answers, by model and version (a batch of n rows counts n).",
		}, []string{"model", "version"}),
		swaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_model_swaps_total",
			Help: "Times a new version was loaded, verified, warmed and swapped in for serving, by model.",
		}, []string{"model"}),
		loadFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_model_load_failures_total",
			Help: "Production versions that failed to load for serving (the previous one kept serving), by model and reason: missing, unavailable, hash_mismatch, invalid, warmup.",
		}, []string{"model", "reason"}),
		prodVersion: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mlserve_model_production_version",
			Help: "Registry version this process serves as production, by model.",
		}, []string{"model"}),
		ingestRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_ingest_rows_total",
			Help: "Rows in stored ingest batches, by dataset and outcome: accepted (stored) or rejected (quarantined).",
		}, []string{"dataset", "outcome"}),
		ingestBatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_ingest_batches_total",
			Help: "Ingest batches stored (one per request or file; idempotent replays not counted), by dataset.",
		}, []string{"dataset"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_training_runs_total",
			Help: "Training runs finished by this process, by pipeline and outcome: promoted, rejected, skipped, succeeded, failed.",
		}, []string{"pipeline", "outcome"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mlserve_training_run_duration_seconds",
			Help:    "Duration of a training run's final attempt (snapshot, fit, publish, gate), by pipeline and outcome.",
			Buckets: TrainingBuckets,
		}, []string{"pipeline", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_training_retries_total",
			Help: "Training attempts that failed for a reason a retry may fix and were handed back for a retry, by pipeline.",
		}, []string{"pipeline"}),
		enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_training_runs_enqueued_total",
			Help: "Training runs queued by this process, by pipeline and reason: manual, schedule, new_rows.",
		}, []string{"pipeline", "reason"}),
		versions: map[string][]string{},
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "mlserve_build_info",
		Help: "Always 1; the version label is the mlserve version.",
	}, []string{"version"})
	build.WithLabelValues(cfg.Version).Set(1)
	for _, c := range []prometheus.Collector{
		build, m.httpRequests, m.httpDuration, m.predictions, m.swaps, m.loadFailures, m.prodVersion,
		m.ingestRows, m.ingestBatches, m.runs, m.runDuration, m.retries, m.enqueued,
	} {
		f(c)
	}
	empty := map[reqKey]*reqSeries{}
	m.children.Store(&empty)
	return m
}

var classes = [...]string{"1xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

// statusClass maps a status code to 1..5 (anything odd counts as 5xx).
func statusClass(status int) uint8 {
	c := status / 100
	if c < 1 || c > 5 {
		return 5
	}
	return uint8(c)
}

// Request records one answered HTTP request: its route pattern (empty when
// no route matched), the model and version it served (empty and 0 when
// none), its status, how many rows it predicted (counted only when the
// status is 2xx) and its duration. It allocates nothing once the series of
// the key exist. route and model need not outlive the call (a new series
// keeps copies), but must come from a bounded set: pass the configured
// pipeline's name, never a name a client sent unchecked (an unknown model
// is "").
func (m *Metrics) Request(route, model string, version, status, rows int, d time.Duration) {
	if m == nil {
		return
	}
	k := reqKey{route: route, model: model, version: version, class: statusClass(status)}
	s := (*m.children.Load())[k]
	if s == nil {
		s = m.resolve(k)
	}
	s.requests.Inc()
	s.duration.Observe(d.Seconds())
	if rows > 0 && k.class == 2 && s.predictions != nil {
		s.predictions.Add(float64(rows))
	}
}

// resolve creates the series of k, evicting the oldest version of its model
// past MaxVersions, and publishes a new cache.
func (m *Metrics) resolve(k reqKey) *reqSeries {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := *m.children.Load()
	if s := cur[k]; s != nil {
		return s
	}
	// The key outlives the request: its strings must not share memory
	// that the caller reuses (the fasthttp server's request buffers).
	k.route, k.model = strings.Clone(k.route), strings.Clone(k.model)
	route := k.route
	if route == "" {
		route = "unmatched"
	}
	ver := ""
	if k.version > 0 {
		ver = strconv.Itoa(k.version)
	}
	next := make(map[reqKey]*reqSeries, len(cur)+1)
	for kk, s := range cur {
		next[kk] = s
	}
	if k.model != "" && ver != "" {
		if evict := m.noteVersion(k.model, ver); evict != "" {
			m.deleteVersion(k.model, evict)
			for kk := range next {
				if kk.model == k.model && strconv.Itoa(kk.version) == evict {
					delete(next, kk)
				}
			}
		}
	}
	s := &reqSeries{
		requests: m.httpRequests.WithLabelValues(route, k.model, ver, classes[k.class]),
		duration: m.httpDuration.WithLabelValues(route, k.model, ver, classes[k.class]),
	}
	if k.model != "" && ver != "" {
		s.predictions = m.predictions.WithLabelValues(k.model, ver)
	}
	next[k] = s
	m.children.Store(&next)
	return s
}

// noteVersion records that model has series of ver and returns the version
// to evict, if any. Called with m.mu held.
func (m *Metrics) noteVersion(model, ver string) (evict string) {
	vs := m.versions[model]
	for _, v := range vs {
		if v == ver {
			return ""
		}
	}
	vs = append(vs, ver)
	if len(vs) > MaxVersions {
		evict, vs = vs[0], vs[1:]
	}
	m.versions[model] = vs
	return evict
}

func (m *Metrics) deleteVersion(model, ver string) {
	l := prometheus.Labels{"model": model, "version": ver}
	m.httpRequests.DeletePartialMatch(l)
	m.httpDuration.DeletePartialMatch(l)
	m.predictions.Delete(l)
}

// ModelSwapped records that model now serves version to (from the previous
// one, 0 if none).
func (m *Metrics) ModelSwapped(model string, to int) {
	if m == nil {
		return
	}
	m.swaps.WithLabelValues(model).Inc()
	m.prodVersion.WithLabelValues(model).Set(float64(to))
}

// ModelLoadFailed records that a production version of model failed to
// load for serving; reason is one of the Load* constants.
func (m *Metrics) ModelLoadFailed(model, reason string) {
	if m == nil {
		return
	}
	m.loadFailures.WithLabelValues(model, reason).Inc()
}

// Ingested records one stored batch of dataset with its accepted and
// rejected row counts.
func (m *Metrics) Ingested(dataset string, accepted, rejected int64) {
	if m == nil {
		return
	}
	m.ingestBatches.WithLabelValues(dataset).Inc()
	m.ingestRows.WithLabelValues(dataset, "accepted").Add(float64(accepted))
	m.ingestRows.WithLabelValues(dataset, "rejected").Add(float64(rejected))
}

// RunFinished records a training run's final outcome (a Run* constant) and
// the duration of its last attempt.
func (m *Metrics) RunFinished(pipeline, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(pipeline, outcome).Inc()
	m.runDuration.WithLabelValues(pipeline, outcome).Observe(d.Seconds())
}

// RunRetrying records a training attempt that failed and will be retried.
func (m *Metrics) RunRetrying(pipeline string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(pipeline).Inc()
}

// RunEnqueued records a training run queued for reason.
func (m *Metrics) RunEnqueued(pipeline, reason string) {
	if m == nil {
		return
	}
	m.enqueued.WithLabelValues(pipeline, reason).Inc()
}
