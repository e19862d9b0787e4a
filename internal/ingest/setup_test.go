package ingest_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	msqlite "modernc.org/sqlite"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/mount"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlite"
)

// hooks lets a SQLite trigger call back into a test: the SQL function
// mlserve_test_hook(key) runs the func registered under key. It is how the
// atomicity test cancels a request while its rows are being written.
var hooks sync.Map // string -> func()

func init() {
	// Registered before any connection opens: the driver installs it on
	// every connection it opens afterwards, including the store's.
	msqlite.MustRegisterScalarFunction("mlserve_test_hook", 1, func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		key, _ := args[0].(string)
		if f, ok := hooks.Load(key); ok {
			f.(func())()
		}
		return int64(0), nil
	})
}

// sensorsSchema is a second pipeline with boolean and integer columns, which
// titanic lacks.
var sensorsSchema = schema.Schema{
	Target: "ok",
	Columns: []schema.Column{
		{Name: "ok", Type: schema.Boolean},
		{Name: "count", Type: schema.Integer, Min: config.Ptr(0.0)},
		{Name: "temp", Type: schema.Number, Nullable: true},
		{Name: "armed", Type: schema.Boolean, Nullable: true},
	},
}

const titanicHeader = "survived,class,sex,age,embarked"

type setupOpts struct {
	maxBody int64
	token   string
	logs    io.Writer // when set, the service's and middleware's JSON log at debug level
}

type testBundle struct {
	db      *sqlite.DB
	raw     *sql.DB // a second connection to the same file: direct checks, triggers
	url     string  // httptest server over Routes
	handler http.Handler
	titanic *schema.Compiled
	sensors *schema.Compiled
}

func setup(t testing.TB) (*ingest.Service, *testBundle) {
	t.Helper()
	return setupWith(t, setupOpts{})
}

func setupWith(t testing.TB, o setupOpts) (*ingest.Service, *testBundle) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	db, err := sqlite.Open(ctx, &sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := config.Example("titanic")
	if err != nil {
		t.Fatal(err)
	}
	p := f.Pipelines[0]
	for name, s := range map[string]schema.Schema{"titanic": p.Schema, "sensors": sensorsSchema} {
		if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: name, Schema: s}); err != nil {
			t.Fatal(err)
		}
	}
	tc, err := schema.Compile(p.Schema)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := schema.Compile(sensorsSchema)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })

	logger := discard()
	if o.logs != nil {
		logger = slog.New(slog.NewJSONHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	svc := ingest.New(ingest.Config{
		Store:     db,
		Pipelines: map[string]*schema.Compiled{"titanic": tc, "sensors": sc},
		Order:     []string{"titanic", "sensors"},
		Logger:    logger,
	})
	// Mounted as app.Serve mounts the ingest role.
	routes, err := mount.Roles(mount.Options{Logger: logger, Ingest: svc, IngestMaxBody: o.maxBody,
		Admin: func(h http.Handler) http.Handler { return httpx.Admin(o.token, logger, h) }})
	if err != nil {
		t.Fatal(err)
	}
	h := routes.Handler
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnContext = httpx.ConnContext // as httpx.Server: per-connection request state
	srv.Start()
	t.Cleanup(srv.Close)
	return svc, &testBundle{db: db, raw: raw, url: srv.URL, handler: h, titanic: tc, sensors: sc}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// post sends body to the rows route of pipeline.
func (b *testBundle) post(t *testing.T, pipeline, ctype, body string, hdr ...string) *response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url+"/v1/datasets/"+pipeline+"/rows", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return send(t, req)
}

func (b *testBundle) get(t *testing.T, path string) *response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) *response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: data}
}

// answer is an ingest answer; rowError one entry of its errors.
type answer struct {
	BatchID        int64      `json:"batch_id"`
	Accepted       int64      `json:"accepted"`
	Rejected       int64      `json:"rejected"`
	Errors         []rowError `json:"errors"`
	IgnoredColumns []string   `json:"ignored_columns"`
}

type rowError struct {
	Row    int               `json:"row"`
	Line   int               `json:"line"`
	Fields map[string]string `json:"fields"`
}

type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields"`
}

// decodeStrict decodes data into a T, failing on unknown or missing keys
// (keys lists every key the top-level object must have).
func decodeStrict[T any](t *testing.T, data []byte, keys ...string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	got := slices.Sorted(maps.Keys(m))
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Fatalf("keys of %s: got %v, want %v", data, got, want)
	}
	return v
}

// okAnswer checks a 200 ingest answer and decodes it.
func okAnswer(t *testing.T, r *response) answer {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status: got %d, want 200; body %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	keys := []string{"batch_id", "accepted", "rejected", "errors"}
	if bytes.Contains(r.body, []byte(`"ignored_columns":[`)) { // only when there are some
		keys = append(keys, "ignored_columns")
	}
	a := decodeStrict[answer](t, r.body, keys...)
	if a.IgnoredColumns != nil && len(a.IgnoredColumns) == 0 {
		t.Errorf("ignored_columns: an empty list in %s, want the key left out", r.body)
	}
	if a.Errors == nil {
		t.Errorf("errors: got null, want a list in %s", r.body)
	}
	for _, e := range a.Errors {
		if len(e.Fields) == 0 {
			t.Errorf("error of row %d names no field: %s", e.Row, r.body)
		}
	}
	return a
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

// counts is what the database holds for a pipeline, read directly.
type counts struct {
	batches, rows, quarantined int64
}

func (b *testBundle) counts(t *testing.T, pipeline string) counts {
	t.Helper()
	var c counts
	q := func(query string, dst *int64, args ...any) {
		if err := b.raw.QueryRow(query, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	q(`SELECT count(*) FROM batches WHERE pipeline = ?`, &c.batches, pipeline)
	q(`SELECT count(*) FROM "ds_`+pipeline+`"`, &c.rows)
	q(`SELECT count(*) FROM quarantine WHERE pipeline = ?`, &c.quarantined, pipeline)
	return c
}

// nothingWritten checks that a pipeline has no batch, row or reject at all.
func (b *testBundle) nothingWritten(t *testing.T, pipeline string) {
	t.Helper()
	if got := b.counts(t, pipeline); got != (counts{}) {
		t.Errorf("database of %s: got %+v, want nothing written", pipeline, got)
	}
	info, err := b.db.DatasetInfo(context.Background(), pipeline)
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows != 0 || info.Batches != 0 || info.Quarantined != 0 || info.LastBatchID != 0 {
		t.Errorf("DatasetInfo of %s: got %+v, want empty", pipeline, info)
	}
}

func (b *testBundle) snapshot(t *testing.T, pipeline string) []schema.Row {
	t.Helper()
	c := b.titanic
	if pipeline == "sensors" {
		c = b.sensors
	}
	snap, err := b.db.SnapshotRead(context.Background(), &store.SnapshotReadParams{Pipeline: pipeline, Schema: c})
	if err != nil {
		t.Fatal(err)
	}
	return snap.Rows
}

// format renders typed rows as text, for comparisons.
func format(c *schema.Compiled, rows []schema.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		fs := make([]string, len(r))
		for j, v := range r {
			if v.Missing {
				fs[j] = "<nil>"
			} else {
				fs[j] = c.Format(j, v)
			}
		}
		out[i] = strings.Join(fs, ",")
	}
	return out
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
