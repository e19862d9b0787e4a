package registry_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/blob/fs"
	"github.com/mlserve/mlserve/internal/blob/s3"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/notify"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/sampledata"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/postgres"
	"github.com/mlserve/mlserve/internal/store/sqlite"
	"github.com/mlserve/mlserve/internal/testenv"
	"github.com/mlserve/mlserve/internal/train"
)

const pipeline = "titanic"

var seedFile = sampledata.Path(sampledata.SeedTitanic)

// fitted holds the artifacts every test shares: fits of the titanic example
// on seed_titanic.csv with different seeds (different holdouts, so
// different artifacts).
type fitted struct {
	pipeline config.Pipeline
	schema   *schema.Compiled
	fits     []*train.FitResult
}

var fits = sync.OnceValues(func() (*fitted, error) {
	f, err := config.Example(pipeline)
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
	var rows []schema.Row
	for i, rec := range recs[1:] {
		row, fe := h.Row(rec, nil)
		if fe != nil {
			return nil, fmt.Errorf("%s row %d: %v", seedFile, i, fe)
		}
		rows = append(rows, row)
	}
	out := &fitted{pipeline: p, schema: c}
	for _, seed := range []int64{42, 7, 3, 11} {
		res, err := train.Fit(context.Background(), &train.FitParams{
			Pipeline: p.Name, Schema: c, Rows: rows, Algorithm: p.Model.Algorithm,
			Params: p.Model.Params, Seed: seed, Holdout: p.Model.Holdout,
		})
		if err != nil {
			return nil, err
		}
		out.fits = append(out.fits, res)
	}
	return out, nil
})

// testBundle is a registry over a real store and bucket.
type testBundle struct {
	db      store.Store
	bucket  blob.Bucket
	reg     *registry.Registry
	changes <-chan string // the registry's change signals
	fit     *fitted
	ctx     context.Context
}

// backend opens a fresh, migrated store and an empty bucket.
type backend struct {
	name string
	open func(t *testing.T) (store.Store, blob.Bucket)
}

// backends are SQLite with a folder and PostgreSQL with S3; the latter's
// tests skip without the services, or fail in CI (testenv).
func backends(t *testing.T) []backend {
	t.Helper()
	return []backend{{"sqlite_fs", openSQLiteFS}, {"postgres_s3", openPostgresS3}}
}

func openSQLiteFS(t *testing.T) (store.Store, blob.Bucket) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), &sqlite.Config{Path: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bucket, err := fs.Open(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	return db, bucket
}

func randomName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// openPostgresS3 opens a store in a schema of its own (dropped afterwards)
// and the test bucket under a prefix of its own (emptied afterwards).
func openPostgresS3(t *testing.T) (store.Store, blob.Bucket) {
	dbURL := testenv.Getenv(t, "MLSERVE_TEST_DATABASE_URL", "PostgreSQL server")
	s3URL := testenv.Getenv(t, "MLSERVE_TEST_S3_URL", "S3 server")
	ctx := context.Background()
	schemaName := randomName("reg_")
	db, err := postgres.Open(ctx, &postgres.Config{URL: dbURL, MaxConns: 4, Schema: schemaName})
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		_, err := db.Pool().Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schemaName}.Sanitize()+` CASCADE`)
		db.Close()
		if err != nil {
			t.Errorf("drop schema %s: %v", schemaName, err)
		}
	})
	u, err := url.Parse(s3URL)
	if err != nil {
		t.Fatalf("MLSERVE_TEST_S3_URL: %v", err)
	}
	u.Path = "/" + randomName("registry-")
	bucket, err := s3.Open(ctx, &s3.Config{URL: u.String(), CreateBucket: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("open S3 bucket: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := bucket.List(ctx, "")
		if err != nil {
			t.Errorf("list test objects: %v", err)
		}
		for _, k := range keys {
			if err := bucket.Delete(ctx, k); err != nil {
				t.Errorf("delete %s: %v", k, err)
			}
		}
	})
	return db, bucket
}

// forBackends runs fn on a fresh bundle of every backend.
func forBackends(t *testing.T, fn func(t *testing.T, b *testBundle)) {
	t.Helper()
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			fn(t, setup(t, be))
		})
	}
}

func setup(t *testing.T, be backend) *testBundle {
	t.Helper()
	ft, err := fits()
	if err != nil {
		t.Fatal(err)
	}
	db, bucket := be.open(t)
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: pipeline, Schema: ft.pipeline.Schema}); err != nil {
		t.Fatal(err)
	}
	hub := &notify.Hub{}
	ch, stop := hub.Subscribe()
	t.Cleanup(stop)
	return &testBundle{
		db: db, bucket: bucket, fit: ft, ctx: ctx, changes: ch,
		reg: registry.New(registry.Config{Store: db, Bucket: bucket, Changes: hub}),
	}
}

// register publishes fit i and registers it as the next version, with
// metrics replacing the fit's own when not nil.
func (b *testBundle) register(t *testing.T, i int, metrics map[string]float64) *store.Version {
	t.Helper()
	fr := b.fit.fits[i]
	key, err := b.reg.Publish(b.ctx, pipeline, fr.Bytes, fr.SHA256)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if metrics == nil {
		metrics = fr.Metrics
	}
	v, err := b.db.VersionCreate(b.ctx, &store.VersionCreateParams{
		Pipeline: pipeline, Algorithm: fr.Artifact.Algorithm, Metrics: metrics,
		ArtifactSHA256: fr.SHA256, ArtifactKey: key, DataRows: 891,
	})
	if err != nil {
		t.Fatalf("VersionCreate: %v", err)
	}
	return v
}

// signalled reports whether a change signal for the pipeline is pending
// (Publish is synchronous, so no wait is needed), consuming it.
func (b *testBundle) signalled() bool {
	select {
	case p := <-b.changes:
		return p == pipeline
	default:
		return false
	}
}

// states returns the state of every version (index version-1) and checks
// that VersionProduction agrees with the one in production.
func (b *testBundle) states(t *testing.T) []store.VersionState {
	t.Helper()
	vs, err := b.db.VersionList(b.ctx, pipeline)
	if err != nil {
		t.Fatalf("VersionList: %v", err)
	}
	out := make([]store.VersionState, len(vs))
	prod := 0
	for _, v := range vs {
		out[v.Version-1] = v.State
		if v.State == store.StateProduction {
			if prod != 0 {
				t.Errorf("versions %d and %d are both production", prod, v.Version)
			}
			prod = v.Version
		}
	}
	p, err := b.db.VersionProduction(b.ctx, pipeline)
	if prod == 0 && err == nil {
		t.Errorf("VersionProduction = v%d, but no version is in state production", p.Version)
	}
	if prod != 0 && (err != nil || p.Version != prod) {
		t.Errorf("VersionProduction = %v, %v; want v%d", p, err, prod)
	}
	return out
}

func (b *testBundle) log(t *testing.T) []*store.Promotion {
	t.Helper()
	ps, err := b.db.PromotionList(b.ctx, pipeline)
	if err != nil {
		t.Fatalf("PromotionList: %v", err)
	}
	return ps
}

// corrupt replaces a version's stored artifact by a flipped-byte copy.
func (b *testBundle) corrupt(t *testing.T, v *store.Version) {
	t.Helper()
	data, err := b.bucket.Get(b.ctx, v.ArtifactKey)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := b.bucket.Put(b.ctx, v.ArtifactKey, data); err != nil {
		t.Fatal(err)
	}
}
