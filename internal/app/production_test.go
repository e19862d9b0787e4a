package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/blob/s3"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/sampledata"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/testenv/testdb"
)

var seedTitanic = sampledata.Path(sampledata.SeedTitanic)

func titanicFile(t testing.TB) *config.File {
	t.Helper()
	f, err := config.Example("titanic")
	if err != nil {
		t.Fatal(err)
	}
	f.Pipelines[0].Train.Schedule = ""
	return f
}

func openApp(t testing.TB, env config.Env, f *config.File) *App {
	t.Helper()
	a, err := Open(context.Background(), Options{File: f, Env: env})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func prodEnv(t testing.TB) config.Env {
	return config.Env{
		DatabaseURL:        testdb.Postgres(t, "app_"),
		ArtifactsURL:       testdb.Bucket(t, "app-"),
		AWSAccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		AWSSecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
	}
}

// serve runs a's roles on a free port until the test ends and returns the
// base URL.
func serve(t testing.TB, a *App, o ServeOptions) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	o.Addr = "127.0.0.1:0"
	o.Ready = func(s string) { addr <- s }
	go func() { done <- a.Serve(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	select {
	case s := <-addr:
		return "http://" + s
	case err := <-done:
		t.Fatalf("Serve ended at start: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not start listening within 20 s")
	}
	return ""
}

func postCSV(t testing.TB, url string, body []byte) *apitypes.IngestAnswer {
	t.Helper()
	resp, err := http.Post(url, "text/csv", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %s: %s", url, resp.Status, data)
	}
	var res apitypes.IngestAnswer
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("POST %s: %v: %s", url, err, data)
	}
	return &res
}

// servedVersion asks an api for a prediction and returns the version that
// answered (0: no model yet).
func servedVersion(base string) (int, error) {
	resp, err := http.Get(base + "/v1/models/titanic/predict?class=1&sex=female&age=22&embarked=S")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusNotFound {
		return 0, nil
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("predict: %s: %s", resp.Status, data)
	}
	var out struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return 0, fmt.Errorf("predict: %v: %s", err, data)
	}
	return out.Version, nil
}

// TestProductionCycle runs production mode in one test process as three
// deployments sharing PostgreSQL and S3 as separate processes would: an
// ingest App, a trainer App and an api App with a one minute registry poll.
// Rows posted to ingest wake the trainer at once, the trained version is
// promoted and the api serves it well within a second, both pushed by
// NOTIFY (the polls are too slow to be what delivers them).
func TestProductionCycle(t *testing.T) {
	env := prodEnv(t)
	data, err := os.ReadFile(seedTitanic)
	if err != nil {
		t.Fatal(err)
	}
	work := openApp(t, env, titanicFile(t))
	front := openApp(t, env, titanicFile(t))
	feed := openApp(t, env, titanicFile(t))

	done := make(chan *store.Run, 8)
	serve(t, work, ServeOptions{Roles: Roles{Trainer: true}, OnRunDone: func(r *store.Run, err error) {
		if err != nil {
			t.Logf("run failed: %v", err)
		}
		if r != nil {
			done <- r
		}
	}})
	apiURL := serve(t, front, ServeOptions{Roles: Roles{API: true}, ReloadEvery: time.Minute})
	ingestURL := serve(t, feed, ServeOptions{Roles: Roles{Ingest: true}})

	// Watch the api from before the rows arrive, so the moment it first
	// serves v1 is seen however early it comes.
	served := make(chan time.Time, 1)
	watch, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go func() {
		for watch.Err() == nil {
			if v, err := servedVersion(apiURL); err == nil && v == 1 {
				served <- time.Now()
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()

	res := postCSV(t, ingestURL+"/v1/datasets/titanic/rows", data)
	posted := time.Now()
	if res.Accepted != 891 || res.Rejected != 0 {
		t.Fatalf("ingest: accepted %d rejected %d, want 891 and 0", res.Accepted, res.Rejected)
	}
	var run *store.Run
	select {
	case run = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("no training run finished within 60 s of the rows arriving")
	}
	if run.State != store.RunSucceeded || run.Version != 1 || run.Reason != store.ReasonNewRows {
		t.Fatalf("run: state %s version %d reason %s (%s), want succeeded v1 new_rows", run.State, run.Version, run.Reason, run.Error)
	}
	// The trigger polls every 5 s; the batch's notification wakes it at once.
	if d := run.CreatedAt.Sub(posted); d > time.Second {
		t.Errorf("the trainer queued the run %v after the rows were stored by another App; want under 1 s (NOTIFY)", d)
	} else {
		t.Logf("rows stored to run queued by the other App: %v", d)
	}
	promos, err := work.Store.PromotionList(context.Background(), "titanic")
	if err != nil || len(promos) != 1 || promos[0].ToVersion != 1 {
		t.Fatalf("promotion log: %v %+v, want one promotion to v1", err, promos)
	}
	var servedAt time.Time
	select {
	case servedAt = <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("the api did not serve v1 within 5 s of its promotion")
	}
	lat := servedAt.Sub(promos[0].CreatedAt)
	t.Logf("promotion (log time) to first served by the other App: %v", lat)
	if lat > time.Second {
		t.Errorf("promotion reached the other App's api after %v; want under 1 s (NOTIFY)", lat)
	}
	// The artifact is in the bucket and the registry points at it.
	v, err := front.Store.VersionGet(context.Background(), "titanic", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := front.Bucket.Get(context.Background(), v.ArtifactKey); err != nil {
		t.Fatalf("artifact %s of v1: %v", v.ArtifactKey, err)
	}
	if !strings.HasPrefix(front.Bucket.String(), "s3://") {
		t.Fatalf("bucket %s is not the S3 one", front.Bucket)
	}
}

// TestSameArtifactOnSQLiteAndPostgres trains the same rows on the embedded
// and on the production backends and compares the artifact hashes: the
// snapshot's data hash and everything else in the artifact must not depend
// on the backend.
func TestSameArtifactOnSQLiteAndPostgres(t *testing.T) {
	data, err := os.ReadFile(seedTitanic)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	embedded, err := config.Env{}.Resolve(dir)
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, env := range []config.Env{embedded, prodEnv(t)} {
		a := openApp(t, env, titanicFile(t))
		ctx := context.Background()
		if _, err := a.Ingest.Ingest(ctx, &ingest.Request{Pipeline: "titanic", Format: ingest.FormatCSV, Body: bytes.NewReader(data), Source: "test"}); err != nil {
			t.Fatalf("%s: ingest: %v", a.Store, err)
		}
		run, err := a.Store.RunCreate(ctx, &store.RunCreateParams{Pipeline: "titanic", Reason: store.ReasonManual})
		if err != nil {
			t.Fatal(err)
		}
		fin, err := a.Runner().Run(ctx, run.ID, nil)
		if err != nil || fin.State != store.RunSucceeded {
			t.Fatalf("%s: run: %v %+v", env.DatabaseURL, err, fin)
		}
		hashes = append(hashes, fin.ArtifactSHA256)
	}
	if hashes[0] == "" || hashes[0] != hashes[1] {
		t.Fatalf("artifact sha256 on SQLite %s, on PostgreSQL %s: want equal", hashes[0], hashes[1])
	}
}

// TestConcurrentOpens starts several Apps on a new database and a missing
// bucket at once: each migrates (the store's and River's tables) and tries
// to create the bucket, and all must succeed.
func TestConcurrentOpens(t *testing.T) {
	env := prodEnv(t)
	_, err := s3.Open(context.Background(), &s3.Config{URL: env.ArtifactsURL, AccessKey: env.AWSAccessKeyID, SecretKey: env.AWSSecretAccessKey})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("the test bucket before Open: %v, want it missing", err)
	}
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			a, err := Open(context.Background(), Options{File: titanicFile(t), Env: env})
			if err == nil {
				err = a.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Open: %v", err)
	}
	a := openApp(t, env, titanicFile(t))
	if _, err := a.Store.DatasetInfo(context.Background(), "titanic"); err != nil {
		t.Fatalf("dataset after concurrent opens: %v", err)
	}
	if _, err := s3.Open(context.Background(), &s3.Config{URL: env.ArtifactsURL, AccessKey: env.AWSAccessKeyID, SecretKey: env.AWSSecretAccessKey}); err != nil {
		t.Fatalf("the bucket after concurrent opens: %v", err)
	}
}

// TestBadS3CredentialsRefused: a role does not start with credentials the
// object store refuses, and says which bucket and endpoint.
func TestBadS3CredentialsRefused(t *testing.T) {
	env := prodEnv(t)
	env.AWSSecretAccessKey = "wrong-secret"
	_, err := Open(context.Background(), Options{File: titanicFile(t), Env: env})
	if err == nil {
		t.Fatal("Open with a wrong S3 secret succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"bucket", "127.0.0.1:", "AWS_SECRET_ACCESS_KEY"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}

// postRows ingests a CSV body into titanic through a's ingest service.
func postRows(t testing.TB, a *App, data []byte) {
	t.Helper()
	if _, err := a.Ingest.Ingest(context.Background(), &ingest.Request{Pipeline: "titanic", Format: ingest.FormatCSV, Body: bytes.NewReader(data), Source: "test"}); err != nil {
		t.Fatalf("ingest: %v", err)
	}
}
