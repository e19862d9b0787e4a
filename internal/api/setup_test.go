package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlserve/mlserve/internal/api"
	"github.com/mlserve/mlserve/internal/apitest"
	"github.com/mlserve/mlserve/internal/blob/fs"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/fasthttpserver"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/metrics"
	"github.com/mlserve/mlserve/internal/mount"
	"github.com/mlserve/mlserve/internal/oip"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/sampledata"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/served"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlite"
	"github.com/mlserve/mlserve/internal/train"
)

var seedFile = sampledata.Path(sampledata.SeedTitanic)

// fitted holds the models every test shares: three fits of the titanic
// pipeline on seed_titanic.csv with different seeds (different holdouts,
// so different artifacts).
type fitted struct {
	pipeline config.Pipeline
	schema   *schema.Compiled
	rows     []schema.Row
	fits     []*train.FitResult // fits[i] becomes version i+1 when registered in order
}

var fits = sync.OnceValues(func() (*fitted, error) {
	f, err := config.Example("titanic")
	if err != nil {
		return nil, err
	}
	p := f.Pipelines[0]
	c, err := schema.Compile(p.Schema)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(seedFile)
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, err
	}
	h, err := c.Header(recs[0])
	if err != nil {
		return nil, err
	}
	out := &fitted{pipeline: p, schema: c}
	for i, rec := range recs[1:] {
		row, fe := h.Row(rec, nil)
		if fe != nil {
			return nil, fmt.Errorf("%s row %d: %v", seedFile, i, fe)
		}
		out.rows = append(out.rows, row)
	}
	for _, seed := range []int64{42, 7, 3} {
		res, err := train.Fit(context.Background(), &train.FitParams{
			Pipeline: p.Name, Schema: c, Rows: out.rows, Algorithm: p.Model.Algorithm,
			Params: p.Model.Params, Seed: seed, Holdout: p.Model.Holdout,
		})
		if err != nil {
			return nil, err
		}
		out.fits = append(out.fits, res)
	}
	return out, nil
})

// sensorsSchema is a second configured pipeline that never gets a model.
var sensorsSchema = schema.Schema{
	Target: "ok",
	Columns: []schema.Column{
		{Name: "ok", Type: schema.Boolean},
		{Name: "temp", Type: schema.Number},
	},
}

type setupOpts struct {
	versions int  // fits registered as versions 1..n (default 2 with promote)
	promote  bool // make version 1 production
	noReload bool // skip the first Models.Reload
	maxBody  int64
	maxBatch int
	token    string
	cors     []string
}

type testBundle struct {
	db      *sqlite.DB
	bucket  *fs.Bucket
	reg     *registry.Registry
	models  *served.Models
	fit     *fitted
	url     string
	handler http.Handler
	metrics *metrics.Metrics
	prom    *prometheus.Registry // metrics' registry, served at GET /metrics

	mu    sync.Mutex
	swaps []string // "titanic 1->2"
	fails []error  // OnFail errors, "titanic v3: …"
}

// setup serves titanic with versions 1 and 2 registered, 1 in production
// and loaded.
func setup(t testing.TB) (*api.Server, *testBundle) {
	t.Helper()
	return setupWith(t, setupOpts{versions: 2, promote: true})
}

func setupWith(t testing.TB, o setupOpts) (*api.Server, *testBundle) {
	t.Helper()
	ctx := context.Background()
	ft, err := fits()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, &sqlite.Config{Path: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]schema.Schema{"titanic": ft.pipeline.Schema, "sensors": sensorsSchema} {
		if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: name, Schema: s}); err != nil {
			t.Fatal(err)
		}
	}
	bucket, err := fs.Open(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	reg := registry.New(registry.Config{Store: db, Bucket: bucket, Logger: logger})
	b := &testBundle{db: db, bucket: bucket, reg: reg, fit: ft}
	b.models = served.NewModels(served.ModelsConfig{
		Registry: reg, Store: db, Pipelines: []string{"titanic", "sensors"}, Logger: logger,
		OnSwap: func(p string, from, to int) {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.swaps = append(b.swaps, fmt.Sprintf("%s %d->%d", p, from, to))
		},
		OnFail: func(p string, v int, err error) {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.fails = append(b.fails, fmt.Errorf("%s v%d: %w", p, v, err))
		},
	})
	for i := range o.versions {
		b.register(t, i)
	}
	if o.promote {
		b.promote(t, 1)
	}
	if !o.noReload {
		b.reload(t)
	}
	srv := api.New(api.Config{
		Pipelines: []api.Pipeline{{Name: "titanic", Schema: ft.pipeline.Schema}, {Name: "sensors", Schema: sensorsSchema}},
		Models:    b.models, Registry: reg, Store: db, Logger: logger,
		Queue: enqueuer{create: func(ctx context.Context, p, reason string) (*store.Run, error) {
			return db.RunCreate(ctx, &store.RunCreateParams{Pipeline: p, Reason: reason})
		}},
		MaxBody: o.maxBody, MaxBatch: o.maxBatch, CORSOrigins: o.cors,
	})
	// Mounted as app.Serve mounts the api role (readiness, /metrics, the
	// inference protocol: the swap test sends its infer requests), with the
	// requests observed, so the benchmarks include the metrics.
	b.prom = prometheus.NewRegistry()
	b.metrics = metrics.New(metrics.Config{Registerer: b.prom})
	routes, err := mount.Roles(mount.Options{
		Logger: logger, Admin: func(h http.Handler) http.Handler { return httpx.Admin(o.token, logger, h) },
		API: srv, Models: b.models, Metrics: b.metrics, Gatherer: b.prom,
		OIP: oip.New(oip.Config{Pipelines: []string{"titanic", "sensors"}, Models: b.models, Registry: reg, Store: db, Logger: logger,
			MaxBody: o.maxBody, MaxBatch: o.maxBatch}),
	})
	if err != nil {
		t.Fatal(err)
	}
	b.handler = routes.Handler
	fast := routes.Fast
	b.url = apitest.Serve(t, b.handler, fast, fasthttpserver.Options{Logger: logger, Observe: b.metrics.Request, MaxBody: o.maxBody})
	return srv, b
}

// enqueuer is a fake job queue that records the run in the store.
type enqueuer struct {
	create func(ctx context.Context, pipeline, reason string) (*store.Run, error)
}

func (e enqueuer) Enqueue(ctx context.Context, pipeline, reason string) (*store.Run, error) {
	return e.create(ctx, pipeline, reason)
}

// register publishes fit i and registers it as the next version.
func (b *testBundle) register(t testing.TB, i int) *store.Version {
	t.Helper()
	ctx := context.Background()
	fr := b.fit.fits[i]
	key, err := b.reg.Publish(ctx, "titanic", fr.Bytes, fr.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	v, err := b.db.VersionCreate(ctx, &store.VersionCreateParams{
		Pipeline: "titanic", Algorithm: fr.Artifact.Algorithm, Metrics: fr.Metrics,
		ArtifactSHA256: fr.SHA256, ArtifactKey: key, DataRows: int64(len(b.fit.rows)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// promote makes a version production through the registry.
func (b *testBundle) promote(t testing.TB, v int) {
	t.Helper()
	if _, err := b.reg.Promote(context.Background(), "titanic", v, "test", "test"); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) reload(t testing.TB) {
	t.Helper()
	if err := b.models.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) served(t testing.TB) int {
	t.Helper()
	sv := b.models.Get("titanic")
	if sv == nil {
		return 0
	}
	return sv.Version.Version
}

func (b *testBundle) swapsAndFails() ([]string, []error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.swaps), slices.Clone(b.fails)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (b *testBundle) do(t *testing.T, method, path, ctype, body string) *response {
	t.Helper()
	var rd io.Reader
	if body != "" || method == http.MethodPost {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readResponse(t, res)
}

func readResponse(t *testing.T, res *http.Response) *response {
	t.Helper()
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: data}
}

func (b *testBundle) get(t *testing.T, path string) *response {
	t.Helper()
	return b.do(t, http.MethodGet, path, "", "")
}

func (b *testBundle) post(t *testing.T, path, body string) *response {
	t.Helper()
	return b.do(t, http.MethodPost, path, "application/json", body)
}

type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields"`
}

// errAnswer checks an error envelope with the status and code.
func errAnswer(t *testing.T, r *response, status int, code string) apiError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status: got %d, want %d; body %s", r.status, status, r.body)
	}
	env := decodeStrict[struct {
		Error apiError `json:"error"`
	}](t, r.body, "error")
	if env.Error.Code != code {
		t.Errorf("code: got %q, want %q (%s)", env.Error.Code, code, r.body)
	}
	if env.Error.Message == "" {
		t.Errorf("message is empty: %s", r.body)
	}
	return env.Error
}

// decodeStrict decodes data into a T, failing on unknown keys and unless
// the top-level object has exactly keys.
func decodeStrict[T any](t *testing.T, data []byte, keys ...string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	hasKeys(t, data, keys, nil)
	return v
}

// hasKeys checks that the JSON object data has every key of must and no key
// outside must and may.
func hasKeys(t *testing.T, data []byte, must, may []string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	for _, k := range must {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing from %s", k, data)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(must, k) && !slices.Contains(may, k) {
			t.Errorf("unexpected key %q in %s", k, data)
		}
	}
	return m
}

// predictResponse is the answer of /v1/models/{name}/predict.
type predictResponse struct {
	Model       string `json:"model"`
	Version     int    `json:"version"`
	Predictions []struct {
		Label         string             `json:"label"`
		Probabilities map[string]float64 `json:"probabilities"`
	} `json:"predictions"`
}

// titanicRow builds a typed titanic row by hand (class and embarked by
// their index in the schema's values), independent of the code under test.
func titanicRow(class int, female bool, age float64, embarked string) schema.Row {
	sex := schema.Value{Num: 0, Str: "male"}
	if female {
		sex = schema.Value{Num: 1, Str: "female"}
	}
	row := schema.Row{
		{Missing: true}, // survived: the target
		{Num: float64(class - 1), Str: fmt.Sprint(class)},
		sex,
		{Num: age},
		{Missing: true},
	}
	if age < 0 {
		row[3] = schema.Value{Missing: true}
	}
	if i := strings.Index("CSQ", embarked); embarked != "" && i >= 0 {
		row[4] = schema.Value{Num: float64(i), Str: embarked}
	}
	return row
}

// want returns fit i's output for a row: P(survived=0), P(survived=1).
func (f *fitted) want(i int, row schema.Row) []float64 {
	m := f.fits[i].Model
	out := make([]float64, m.Outputs())
	m.PredictRow(row, out)
	return out
}
