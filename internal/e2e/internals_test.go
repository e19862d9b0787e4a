package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPublicAnswersHideInternals runs `mlserve up` on a PostgreSQL cluster
// and a versitygw of the test's own, the database reached as a user and a
// database with names of their own, and stops versitygw, then PostgreSQL.
// /readyz, a run that failed for want of the object store (GET /v1/runs,
// GET /v1/runs/{id}) and the answers while the database is down say what
// is unavailable and never its host, port, user, database name or
// endpoint: none of these routes asks who is calling. The log keeps them.
func TestPublicAnswersHideInternals(t *testing.T) {
	pg := startPostgres(t)
	s3 := startVersitygw(t)
	const user, database = "leakuser_q7x", "leakdb_q7x"
	for _, q := range []string{"CREATE ROLE " + user + " LOGIN", "CREATE DATABASE " + database + " OWNER " + user} {
		if out := pg.psql(q); !strings.HasPrefix(out, "CREATE") {
			t.Fatalf("%s: %s", q, out)
		}
	}
	dir := t.TempDir()
	mustRun(t, dir, "init", "--example", "titanic")
	env := []string{
		fmt.Sprintf("MLSERVE_DATABASE_URL=postgres://%s@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=2", user, pg.port, database),
		"MLSERVE_ARTIFACTS_URL=" + s3.URL(),
		"AWS_ACCESS_KEY_ID=" + s3AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s3SecretKey,
		"MLSERVE_LOG_FORMAT=json",
	}
	up := startRoles(t, dir, "mlserve.yaml", env, map[string]string{"up": "up"})["up"].server
	internals := []string{user, database, "127.0.0.1", "localhost", strconv.Itoa(pg.port), strconv.Itoa(s3.port), s3Bucket}
	hidden := func(what string, body []byte) {
		t.Helper()
		for _, s := range internals {
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("%s shows %q: %s", what, s, body)
			}
		}
	}
	// ready returns /readyz's body once the check is listed as failing
	// (degraded: up serves predictions, so neither part is required).
	ready := func(check string) []byte {
		t.Helper()
		var body []byte
		eventually(t, 30*time.Second, 100*time.Millisecond, "/readyz lists "+check+" as degraded", func() bool {
			_, body = up.get("/readyz")
			var r struct{ Degraded map[string]string }
			return json.Unmarshal(body, &r) == nil && r.Degraded[check] != ""
		})
		return body
	}

	seed, err := os.ReadFile(filepath.Join(dataDir, "seed_titanic.csv"))
	if err != nil {
		t.Fatal(err)
	}
	up.postJSON(t, "/v1/datasets/titanic/rows", "text/csv", seed, http.StatusOK, nil)
	eventually(t, 90*time.Second, 100*time.Millisecond, "up serves v1", func() bool {
		code, _ := up.get("/v1/models/titanic/predict?" + femaleFirst)
		return code == http.StatusOK
	})

	// Ten more rows, so that the next run trains a new artifact (the same
	// rows would give v1's, which needs no publishing).
	up.postJSON(t, "/v1/datasets/titanic/rows", "text/csv", []byte(strings.Join(strings.SplitAfterN(string(seed), "\n", 12)[:11], "")), http.StatusOK, nil)

	// The object store goes away: a run fails publishing its model.
	s3.stop(t)
	body := ready("object_store")
	hidden("/readyz with the object store down", body)
	if !bytes.Contains(body, []byte("object store unavailable")) {
		t.Errorf("/readyz with the object store down does not say so: %s", body)
	}
	var run struct {
		ID int64 `json:"id"`
	}
	up.postJSON(t, "/v1/pipelines/titanic/runs", "", nil, http.StatusAccepted, &run)
	path := "/v1/runs/" + strconv.FormatInt(run.ID, 10)
	eventually(t, 60*time.Second, 100*time.Millisecond, "run "+path+" notes its failed attempt", func() bool {
		_, body = up.get(path)
		var r struct{ Error string }
		return json.Unmarshal(body, &r) == nil && r.Error != ""
	})
	hidden("GET "+path, body)
	if !bytes.Contains(body, []byte("object store unavailable")) {
		t.Errorf("GET %s does not say the object store is unavailable: %s", path, body)
	}
	_, body = up.get("/v1/runs?pipeline=titanic")
	hidden("GET /v1/runs", body)

	// The database goes away too.
	pg.stop(t)
	body = ready("database")
	hidden("/readyz with the database down", body)
	if !bytes.Contains(body, []byte("database unavailable")) {
		t.Errorf("/readyz with the database down does not say so: %s", body)
	}
	for _, p := range []string{path, "/v1/runs", "/v1/models/titanic/versions", "/v1/datasets/titanic"} {
		code, body := up.get(p)
		if code != http.StatusServiceUnavailable {
			t.Errorf("GET %s with the database down: status %d, want 503: %s", p, code, body)
		}
		hidden("GET "+p+" with the database down", body)
	}

	// The log has the details an operator needs.
	logs := up.stderr.String()
	for _, s := range []string{s3.addr(), "127.0.0.1:" + strconv.Itoa(pg.port)} {
		if !strings.Contains(logs, s) {
			t.Errorf("the log never names %s", s)
		}
	}
}
