// Package apitest builds a served api role for tests: a real SQLite
// registry and artifact folder, models trained on the sample titanic
// (binary), iris (multiclass) and tips (regression) data, and every route
// the api and ingest roles mount (predict, registry, Open Inference
// Protocol, OpenAPI, ingest, readiness, /metrics) mounted by package
// mount, as app.Serve mounts them, on a real loopback HTTP server. Only tests import it.
package apitest

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlserve/mlserve/internal/api"
	"github.com/mlserve/mlserve/internal/auth"
	"github.com/mlserve/mlserve/internal/blob/fs"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/fasthttpserver"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/metrics"
	"github.com/mlserve/mlserve/internal/mount"
	"github.com/mlserve/mlserve/internal/oip"
	"github.com/mlserve/mlserve/internal/openapi"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/sampledata"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/served"
	"github.com/mlserve/mlserve/internal/serving"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlite"
	"github.com/mlserve/mlserve/internal/train"
)

// Dataset is a pipeline trained for the tests.
type Dataset struct {
	Pipeline config.Pipeline
	Schema   *schema.Compiled
	Header   []string
	Records  [][]string // the CSV's records, header excluded
	Rows     []schema.Row
	Fits     []*train.FitResult // registered in order as versions 1, 2, …
}

// Record returns record i as column name to text (the target left out).
func (d *Dataset) Record(i int) map[string]string {
	out := map[string]string{}
	for j, h := range d.Header {
		if h != d.Pipeline.Schema.Target {
			out[h] = d.Records[i][j]
		}
	}
	return out
}

// Sensors is a configured pipeline that never gets a model.
var Sensors = schema.Schema{
	Target: "ok",
	Columns: []schema.Column{
		{Name: "ok", Type: schema.Boolean},
		{Name: "temp", Type: schema.Number, Min: ptr(-50), Max: ptr(150)},
		{Name: "room", Type: schema.Category, Values: []string{"a", "b"}, Nullable: true},
	},
}

func ptr(f float64) *float64 { return &f }

// Datasets fits titanic (seeds 42 and 7: two versions), iris and tips once
// per test binary.
var Datasets = sync.OnceValues(func() (map[string]*Dataset, error) {
	out := map[string]*Dataset{}
	ex, err := config.Example("titanic")
	if err != nil {
		return nil, err
	}
	specs := []struct {
		name, file, target string
		pipeline           *config.Pipeline
		seeds              []int64
	}{
		{name: "titanic", file: "seed_titanic.csv", pipeline: &ex.Pipelines[0], seeds: []int64{42, 7}},
		{name: "iris", file: "iris.csv", target: "species", seeds: []int64{42}},
		{name: "tips", file: "tips.csv", target: "tip", seeds: []int64{42}},
	}
	for _, sp := range specs {
		recs, err := csv.NewReader(bytes.NewReader(sampledata.Bytes(sp.file))).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", sp.file, err)
		}
		p := sp.pipeline
		if p == nil {
			sc, _, err := schema.Infer(recs[0], slices.Values(recs[1:]), schema.InferOptions{Target: sp.target,
				// The suites send a value past the observed range and expect 400.
				Bounds: schema.BoundsObserved})
			if err != nil {
				return nil, fmt.Errorf("infer schema of %s: %w", sp.file, err)
			}
			p = &config.Pipeline{Name: sp.name, Schema: sc}
			*p = p.WithDefaults()
		}
		c, err := schema.Compile(p.Schema)
		if err != nil {
			return nil, err
		}
		h, err := c.Header(recs[0])
		if err != nil {
			return nil, err
		}
		d := &Dataset{Pipeline: *p, Schema: c, Header: recs[0], Records: recs[1:]}
		for i, rec := range recs[1:] {
			row, fe := h.Row(rec, nil)
			if fe != nil {
				return nil, fmt.Errorf("%s row %d: %v", sp.file, i, fe)
			}
			d.Rows = append(d.Rows, row)
		}
		for _, seed := range sp.seeds {
			res, err := train.Fit(context.Background(), &train.FitParams{
				Pipeline: p.Name, Schema: c, Rows: d.Rows, Algorithm: p.Model.Algorithm,
				Params: p.Model.Params, Seed: seed, Holdout: cmpOr(p.Model.Holdout, 0.2),
			})
			if err != nil {
				return nil, fmt.Errorf("fit %s: %w", sp.name, err)
			}
			d.Fits = append(d.Fits, res)
		}
		out[sp.name] = d
	}
	return out, nil
})

func cmpOr(a, b float64) float64 {
	if a != 0 {
		return a
	}
	return b
}

// Names are the served pipelines, in configuration order.
var Names = []string{"titanic", "iris", "tips", "sensors"}

// Env is a running server and its collaborators.
type Env struct {
	URL      string
	Store    *sqlite.DB
	Registry *registry.Registry
	Models   *served.Models
	Bucket   *fs.Bucket
	Data     map[string]*Dataset
	// Handler is the server's handler (middleware and every route), for
	// benchmarks without the network.
	Handler http.Handler
	// Hot are the routes the fasthttp server answers without Handler.
	Hot []serving.Route
	// OpenAPI is the served document.
	OpenAPI []byte
	// Metrics observes the server's requests, served at GET /metrics.
	Metrics *metrics.Metrics
}

// Options change what Start sets up.
type Options struct {
	// NoReload skips the first registry check: the models are not ready.
	NoReload bool
	MaxBatch int
	MaxBody  int64
	// Token is the admin token (empty: write routes open to loopback).
	Token string
	// Auth is MLSERVE_AUTH (config.AuthOpenRead when empty).
	Auth string
	// TokenTTL is how long the server trusts its copy of the stored
	// tokens (auth.DefaultTTL when 0).
	TokenTTL time.Duration
	// CORSOrigins are the browser origins allowed (MLSERVE_CORS_ORIGINS).
	CORSOrigins []string
	// First, when set, is the pipeline the prototype's GET / serves (the
	// api's first); default titanic.
	First string
}

// Start serves every route over loopback: all fitted versions registered,
// version 1 of each dataset in production and loaded; sensors has no
// version.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	ds, err := Datasets()
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
	bucket, err := fs.Open(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	reg := registry.New(registry.Config{Store: db, Bucket: bucket, Logger: logger})
	var pipes []api.Pipeline
	var docPipes []openapi.Pipeline
	schemas := map[string]*schema.Compiled{}
	for _, name := range Names {
		sc := Sensors
		if d := ds[name]; d != nil {
			sc = d.Pipeline.Schema
		}
		if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: name, Schema: sc}); err != nil {
			t.Fatal(err)
		}
		c, err := schema.Compile(sc)
		if err != nil {
			t.Fatal(err)
		}
		schemas[name] = c
		pipes = append(pipes, api.Pipeline{Name: name, Schema: sc})
		docPipes = append(docPipes, openapi.Pipeline{Name: name, Schema: sc})
		d := ds[name]
		if d == nil {
			continue
		}
		for _, fr := range d.Fits {
			key, err := reg.Publish(ctx, name, fr.Bytes, fr.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.VersionCreate(ctx, &store.VersionCreateParams{
				Pipeline: name, Algorithm: fr.Artifact.Algorithm, Metrics: fr.Metrics,
				ArtifactSHA256: fr.SHA256, ArtifactKey: key, DataRows: int64(len(d.Rows)),
			}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := reg.Promote(ctx, name, 1, "test", "test"); err != nil {
			t.Fatal(err)
		}
	}
	if i := slices.IndexFunc(pipes, func(p api.Pipeline) bool { return p.Name == o.First }); i > 0 {
		pipes[0], pipes[i] = pipes[i], pipes[0]
	}
	models := served.NewModels(served.ModelsConfig{Registry: reg, Store: db, Pipelines: Names, Logger: logger})
	if !o.NoReload {
		if err := models.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Decided as app.Serve decides: MLSERVE_AUTH, MLSERVE_ADMIN_TOKEN and
	// the stored tokens.
	authz := &auth.Authorizer{Mode: o.Auth, Bootstrap: o.Token, Tokens: auth.NewCache(db, o.TokenTTL), Logger: logger}
	prom := prometheus.NewRegistry()
	m := metrics.New(metrics.Config{Registerer: prom})
	routes, err := mount.Roles(mount.Options{
		Logger: logger, Auth: authz, NotLocal: httpx.Guard{}.NotLocal, Metrics: m, Gatherer: prom, Models: models,
		API: api.New(api.Config{Pipelines: pipes, Models: models, Registry: reg, Store: db, Logger: logger,
			Queue: enqueuer{db}, MaxBatch: o.MaxBatch, MaxBody: o.MaxBody, CORSOrigins: o.CORSOrigins}),
		OIP: oip.New(oip.Config{Pipelines: Names, Models: models, Registry: reg, Store: db, Logger: logger,
			MaxBatch: o.MaxBatch, MaxBody: o.MaxBody}),
		Ingest:  ingest.New(ingest.Config{Store: db, Pipelines: schemas, Order: Names, Logger: logger}),
		OpenAPI: &openapi.Options{Pipelines: docPipes, API: true, Ingest: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	url := Serve(t, routes.Handler, routes.Fast, fasthttpserver.Options{Logger: logger, Observe: m.Request, MaxBody: o.MaxBody, ErrorBody: oip.ErrorBody})
	return &Env{URL: url, Store: db, Registry: reg, Models: models, Bucket: bucket, Data: ds, Handler: routes.Handler, Hot: routes.Fast,
		OpenAPI: routes.OpenAPI, Metrics: m}
}

type enqueuer struct{ db store.Store }

func (e enqueuer) Enqueue(ctx context.Context, pipeline, reason string) (*store.Run, error) {
	return e.db.RunCreate(ctx, &store.RunCreateParams{Pipeline: pipeline, Reason: reason})
}

// Response is a read HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request with an optional body and content type.
func (e *Env) Do(t testing.TB, method, path, ctype, body string) *Response {
	t.Helper()
	return e.Send(t, e.Request(t, method, path, ctype, body))
}

// Send sends a request and reads the answer.
func (e *Env) Send(t testing.TB, req *http.Request) *Response {
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
	return &Response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// Request builds a request to the server.
func (e *Env) Request(t testing.TB, method, path, ctype, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" || method == http.MethodPost {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return req
}
