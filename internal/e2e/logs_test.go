package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/testenv"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Secrets and payload markers the log test plants; none may ever appear in
// a log line.
const (
	logDBPassword = "pgpw-Zq81secret"
	logAdminToken = "admintok-Xv27secret"
	logWrongToken = "guessedtok-Mm54secret"
	logPayload    = "payload-Rk19marker"
)

// TestLogsKeepSecrets runs the api, ingest and trainer roles as processes
// on PostgreSQL (URL with a password) and versitygw (AWS secret key), with
// an admin token, JSON logs at debug level chosen by MLSERVE_LOG_LEVEL and
// MLSERVE_LOG_FORMAT, sends good and bad requests (a wrong token, rows and
// predictions carrying a marker value, bad JSON, an unknown route) and
// checks that no secret and no payload value is in any log line, that
// every line is JSON, and that request lines carry a request id. The same
// run checks the counters each role process reports on its /metrics. A role
// that cannot reach its database must not print the URL's password either.
func TestLogsKeepSecrets(t *testing.T) {
	secrets := []string{logDBPassword, logAdminToken, logWrongToken, logPayload, s3SecretKey}
	check := func(t *testing.T, name, log string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(log, s) {
				for _, l := range strings.Split(log, "\n") {
					if strings.Contains(l, s) {
						t.Errorf("%s logged %q: %s", name, s, l)
					}
				}
			}
		}
	}

	t.Run("database unreachable", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		mustRun(t, dir, "init", "--example", "titanic")
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
		env := []string{
			"MLSERVE_DATABASE_URL=postgres://mlserve:" + logDBPassword + "@" + addr + "/mlserve?sslmode=disable&connect_timeout=2",
			"MLSERVE_ADMIN_TOKEN=" + logAdminToken, "AWS_SECRET_ACCESS_KEY=" + s3SecretKey,
			"MLSERVE_LOG_LEVEL=debug", "MLSERVE_LOG_FORMAT=json",
		}
		// A one-shot command fails at once with the error.
		r := mlserveEnv(t, dir, env, "migrate")
		if r.code == 0 || !strings.Contains(r.stderr, addr) {
			t.Errorf("migrate without its database: want a failure naming %s, got %s", addr, r)
		}
		check(t, "mlserve migrate", r.stdout+r.stderr)
		// A role retries for a while, logging each failure; its first
		// retry line is enough.
		role := &testenv.Buffer{}
		cmd := exec.Command(bin, "api", "--addr", "127.0.0.1:0")
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, append(childEnv(), env...), role, role
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		eventually(t, 30*time.Second, 20*time.Millisecond, "mlserve api logs a retry", func() bool {
			return strings.Contains(role.String(), "cannot start yet")
		})
		if !strings.Contains(role.String(), addr) {
			t.Errorf("the retry line does not name the database address: %s", role.String())
		}
		check(t, "mlserve api", role.String())
	})

	t.Run("roles", func(t *testing.T) {
		pg := startPostgres(t)
		s3 := startVersitygw(t)
		dir := t.TempDir()
		mustRun(t, dir, "init", "--example", "titanic")
		// Trust auth ignores the password, so the URL carries one that the
		// server accepts.
		dbURL := strings.Replace(pg.URL(), "postgres://postgres@", "postgres://postgres:"+logDBPassword+"@", 1)
		env := []string{
			"MLSERVE_DATABASE_URL=" + dbURL,
			"MLSERVE_ARTIFACTS_URL=" + s3.URL(),
			"AWS_ACCESS_KEY_ID=" + s3AccessKey,
			"AWS_SECRET_ACCESS_KEY=" + s3SecretKey,
			"MLSERVE_ADMIN_TOKEN=" + logAdminToken,
			"MLSERVE_LOG_LEVEL=debug",
			"MLSERVE_LOG_FORMAT=json",
		}
		roles := startRoles(t, dir, "mlserve.yaml", env, map[string]string{"api": "api", "ingest": "ingest", "trainer": "trainer"})
		api, ingest := roles["api"].server, roles["ingest"].server

		seed, err := os.ReadFile(filepath.Join(dataDir, "seed_titanic.csv"))
		if err != nil {
			t.Fatal(err)
		}
		rows := append(bytes.TrimRight(seed, "\n"), []byte("\n1,2,"+logPayload+",30,S\n")...)
		send := func(s *server, method, path, token, ctype string, body []byte, want int) {
			t.Helper()
			req, err := http.NewRequest(method, s.base+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s %s: status %d, want %d", method, path, resp.StatusCode, want)
			}
		}
		send(ingest, "POST", "/v1/datasets/titanic/rows", logWrongToken, "text/csv", rows, http.StatusUnauthorized)
		send(ingest, "POST", "/v1/datasets/titanic/rows", logAdminToken, "text/csv", rows, http.StatusOK)
		send(ingest, "POST", "/v1/datasets/titanic/rows", logAdminToken, "application/json", []byte(`[{"class": "`+logPayload+`"`), http.StatusBadRequest)
		send(ingest, "POST", "/v1/datasets/"+logPayload+"/rows", logAdminToken, "text/csv", rows, http.StatusNotFound)
		eventually(t, 60*time.Second, 50*time.Millisecond, "api serves v1", func() bool {
			code, _ := api.get("/v1/models/titanic/predict?class=1&sex=male")
			return code == http.StatusOK
		})
		send(api, "GET", "/?class=1&sex="+logPayload, "", "", nil, http.StatusBadRequest)
		send(api, "GET", "/v1/models/titanic/predict?class=1&sex=male&age="+logPayload, "", "", nil, http.StatusBadRequest)
		send(api, "POST", "/v1/models/titanic/predict", "", "application/json", []byte(`{"instances": [{"class": 1, "sex": "`+logPayload+`"}]}`), http.StatusBadRequest)
		send(api, "POST", "/v1/models/titanic/predict", "", "application/json", []byte(`{"instances": [{"class": 1, "sex": "`+logPayload), http.StatusBadRequest)
		// Ten more rows and a manual run register v2 (rejected by the gate:
		// not better by more than the noise), which is then promoted by hand.
		send(ingest, "POST", "/v1/datasets/titanic/rows", logAdminToken, "text/csv", []byte(strings.Join(strings.SplitAfterN(string(seed), "\n", 12)[:11], "")), http.StatusOK)
		send(api, "POST", "/v1/pipelines/titanic/runs", logAdminToken, "", nil, http.StatusAccepted)
		eventually(t, 60*time.Second, 50*time.Millisecond, "v2 registered", func() bool {
			var vs struct {
				Versions []version `json:"versions"`
			}
			return api.fetch("/v1/models/titanic/versions", &vs) == nil && len(vs.Versions) == 2 && vs.Versions[0].State != "candidate"
		})
		send(api, "POST", "/v1/models/titanic/versions/2/promote?reason=x", logWrongToken, "", nil, http.StatusUnauthorized)
		send(api, "POST", "/v1/models/titanic/versions/2/promote?reason=by+hand", logAdminToken, "", nil, http.StatusOK)
		send(api, "GET", "/no/route/"+logPayload, "", "", nil, http.StatusNotFound)
		// Each role process reports what it did on its own /metrics.
		for name, want := range map[string]map[string]float64{
			"ingest": {
				`mlserve_ingest_rows_total{dataset="titanic",outcome="accepted"}`: 901,
				`mlserve_ingest_rows_total{dataset="titanic",outcome="rejected"}`: 1,
				`mlserve_ingest_batches_total{dataset="titanic"}`:                 2,
			},
			"trainer": {
				`mlserve_training_runs_total{outcome="promoted",pipeline="titanic"}`:         1,
				`mlserve_training_runs_total{outcome="rejected",pipeline="titanic"}`:         1,
				`mlserve_training_runs_enqueued_total{pipeline="titanic",reason="new_rows"}`: 1,
			},
			"api": {
				`mlserve_training_runs_enqueued_total{pipeline="titanic",reason="manual"}`: 1,
				`mlserve_model_swaps_total{model="titanic"}`:                               2,
				`mlserve_model_production_version{model="titanic"}`:                        2,
			},
		} {
			got := scrapeMetrics(t, roles[name].server)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s /metrics: %s = %v, want %v", name, k, got[k], v)
				}
			}
		}
		for _, r := range roles {
			r.stop(t, 30*time.Second)
		}

		for name, r := range roles {
			log := r.stderr.String()
			check(t, name, log)
			var requests, withID int
			sc := bufio.NewScanner(strings.NewReader(log))
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var rec map[string]any
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Errorf("%s: a log line is not JSON: %s", name, sc.Text())
					continue
				}
				if rec["msg"] == "request" {
					requests++
					if id, _ := rec["request_id"].(string); id != "" {
						withID++
					}
				}
			}
			if requests == 0 || withID != requests {
				t.Errorf("%s: %d debug request lines, %d with a request_id; want some, all with one", name, requests, withID)
			}
		}
		// A line logged inside a request by another package (the registry's
		// promotion) carries the request's id.
		var promoted bool
		for _, rec := range roles["api"].logs("version promoted") {
			if rec["actor"] != nil && rec["request_id"] != nil {
				promoted = true
			}
		}
		if !promoted {
			t.Errorf("the api logged no promotion by hand with a request_id:\n%s", lastLines(api.stderr.String(), 20))
		}
	})
}

// mlserveEnv runs one mlserve command in dir with env added to the
// child's environment and returns its exit code and output.
func mlserveEnv(t *testing.T, dir string, env []string, args ...string) *result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(childEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("mlserve %s: %v\nstderr:\n%s", strings.Join(args, " "), err, lastLines(r.stderr, 50))
	}
	return r
}

// scrapeMetrics GETs /metrics and returns each counter and gauge sample as
// "name{k="v",…}" (labels sorted) → value.
func scrapeMetrics(t *testing.T, s *server) map[string]float64 {
	t.Helper()
	code, body := s.get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, mf := range fams {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			sort.Strings(ls)
			key := name + "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}
