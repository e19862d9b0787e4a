package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
)

// readyz returns the status and decoded body of GET /readyz.
func readyz(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestFaults takes PostgreSQL and the S3 server away from running roles
// (through proxies that drop every connection) and brings them back: the
// api keeps answering predictions from the model it holds and reports
// itself ready but degraded; ingest answers 503 with Retry-After and is not
// ready; a training run that cannot reach the object store fails naming it
// and succeeds on a retry once the store is back.
func TestFaults(t *testing.T) {
	data, err := os.ReadFile(seedTitanic)
	if err != nil {
		t.Fatal(err)
	}
	env := prodEnv(t)
	du, _ := url.Parse(env.DatabaseURL)
	pg := newProxy(t, du.Host)
	du.Host = pg.addr
	env.DatabaseURL = du.String()
	su, _ := url.Parse(env.ArtifactsURL)
	q := su.Query()
	s3p := newProxy(t, q.Get("endpoint"))
	q.Set("endpoint", s3p.addr)
	su.RawQuery = q.Encode()
	env.ArtifactsURL = su.String()

	f := titanicFile(t)
	f.Pipelines[0].Train.OnNewRows = config.Ptr(100)
	f.Pipelines[0].Train.Debounce = config.Duration(100 * time.Millisecond)
	work := openApp(t, env, f)
	front := openApp(t, env, f)
	done := make(chan *store.Run, 8)
	workURL := serve(t, work, ServeOptions{Roles: Roles{Trainer: true, Ingest: true}, OnRunDone: func(r *store.Run, err error) {
		if err == nil && r != nil {
			done <- r
		}
	}})
	apiURL := serve(t, front, ServeOptions{Roles: Roles{API: true}})

	postCSV(t, workURL+"/v1/datasets/titanic/rows", data)
	select {
	case r := <-done:
		if r.State != store.RunSucceeded || r.Version != 1 {
			t.Fatalf("first run = %+v", r)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no first model within 60 s")
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if v, err := servedVersion(apiURL); err == nil && v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the api does not serve v1")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, body := readyz(t, apiURL); code != 200 || body["degraded"] != nil {
		t.Fatalf("api /readyz with everything up: %d %v", code, body)
	}

	// Database and object store gone.
	pg.Cut()
	s3p.Cut()
	for i := range 20 {
		if v, err := servedVersion(apiURL); err != nil || v != 1 {
			t.Fatalf("prediction %d with the database and S3 down: version %d, %v", i, v, err)
		}
	}
	code, body := readyz(t, apiURL)
	deg, _ := body["degraded"].(map[string]any)
	if code != 200 || deg["database"] == nil || deg["object_store"] == nil {
		t.Fatalf("api /readyz with the database and S3 down: %d %v; want 200 listing database and object_store as degraded", code, body)
	}
	if code, body := readyz(t, workURL); code != 503 || body["checks"].(map[string]any)["database"] == nil {
		t.Fatalf("ingest+trainer /readyz with the database down: %d %v; want 503 naming the database", code, body)
	}
	resp, err := http.Post(workURL+"/v1/datasets/titanic/rows", "text/csv", strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("ingest with the database down: %s Retry-After %q: %s; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"), msg)
	}

	// The database returns, the object store does not: rows are stored,
	// the triggered training fails naming the object store and is retried.
	pg.Restore()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if code, _ := readyz(t, workURL); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ingest+trainer not ready 10 s after the database returned")
		}
		time.Sleep(50 * time.Millisecond)
	}
	postCSV(t, workURL+"/v1/datasets/titanic/rows", data)
	var failing *store.Run
	for deadline := time.Now().Add(30 * time.Second); failing == nil; {
		runs, err := work.Store.RunList(context.Background(), &store.RunListParams{Pipeline: "titanic", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && runs[0].Version == 0 && runs[0].State == store.RunRunning && runs[0].Error != "" {
			failing = runs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed training attempt within 30 s of new rows with S3 down; runs: %+v", runs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("attempt with S3 down: %s", failing.Error)
	if !strings.Contains(failing.Error, "object store") {
		t.Errorf("attempt error %q does not name the object store", failing.Error)
	}
	s3p.Restore()
	select {
	case r := <-done:
		if r.ID != failing.ID || r.State != store.RunSucceeded || r.Version != 2 || r.Attempt < 2 {
			t.Fatalf("retried run = %+v, want run %d succeeded with v2 after a retry", r, failing.ID)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the training did not succeed within 60 s of the object store returning")
	}
	if v, err := servedVersion(apiURL); err != nil || v < 1 {
		t.Fatalf("prediction after recovery: %d %v", v, err)
	}
}

// TestModelLoadRetriedWhenObjectStoreReturns starts an api while the object
// store is unreachable: it cannot load the production version and is not
// ready; once the store is back the next registry check loads it (a load
// that failed for want of the store is not remembered as a bad artifact).
func TestModelLoadRetriedWhenObjectStoreReturns(t *testing.T) {
	data, err := os.ReadFile(seedTitanic)
	if err != nil {
		t.Fatal(err)
	}
	env := prodEnv(t)
	work := openApp(t, env, titanicFile(t))
	ctx := context.Background()
	postRows(t, work, data)
	run, err := work.Store.RunCreate(ctx, &store.RunCreateParams{Pipeline: "titanic", Reason: store.ReasonManual})
	if err != nil {
		t.Fatal(err)
	}
	if fin, err := work.Runner().Run(ctx, run.ID, nil); err != nil || fin.Version != 1 {
		t.Fatalf("training: %v %+v", err, fin)
	}

	su, _ := url.Parse(env.ArtifactsURL)
	q := su.Query()
	s3p := newProxy(t, q.Get("endpoint"))
	q.Set("endpoint", s3p.addr)
	su.RawQuery = q.Encode()
	env.ArtifactsURL = su.String()
	front := openApp(t, env, titanicFile(t))
	s3p.Cut()
	apiURL := serve(t, front, ServeOptions{Roles: Roles{API: true}, ReloadEvery: 200 * time.Millisecond})
	for deadline := time.Now().Add(10 * time.Second); ; {
		code, body := readyz(t, apiURL)
		checks, _ := body["checks"].(map[string]any)
		if code == 503 && checks["models"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("api /readyz with its model unloadable: %d %v, want 503 naming models", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s3p.Restore()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if v, err := servedVersion(apiURL); err == nil && v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the api did not load v1 within 10 s of the object store returning")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := readyz(t, apiURL); code != 200 {
		t.Fatalf("api /readyz after loading: %d %v", code, body)
	}
}

// TestOpenWaitsForTheDatabase: a role started while the database is
// unreachable waits for it; a mistake in the settings fails at once.
func TestOpenWaitsForTheDatabase(t *testing.T) {
	env := prodEnv(t)
	du, _ := url.Parse(env.DatabaseURL)
	pg := newProxy(t, du.Host)
	du.Host = pg.addr
	env.DatabaseURL = du.String()
	pg.Cut()
	type result struct {
		a   *App
		err error
	}
	res := make(chan result, 1)
	go func() {
		a, err := OpenWait(context.Background(), Options{File: titanicFile(t), Env: env}, 30*time.Second)
		res <- result{a, err}
	}()
	select {
	case r := <-res:
		t.Fatalf("OpenWait returned while the database was unreachable: %v", r.err)
	case <-time.After(time.Second):
	}
	pg.Restore()
	select {
	case r := <-res:
		if r.err != nil {
			t.Fatalf("OpenWait after the database returned: %v", r.err)
		}
		r.a.Close()
	case <-time.After(20 * time.Second):
		t.Fatal("OpenWait did not return within 20 s of the database returning")
	}

	env.AWSSecretAccessKey = "wrong"
	start := time.Now()
	if _, err := OpenWait(context.Background(), Options{File: titanicFile(t), Env: env}, 30*time.Second); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("OpenWait with refused credentials: %v after %v, want an error at once", err, time.Since(start))
	}
}
