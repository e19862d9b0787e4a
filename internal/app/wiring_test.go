package app

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/apitest"
	"github.com/mlserve/mlserve/internal/config"
)

// TestTestWiringAsProduction checks that the test server of package apitest
// serves readiness, /metrics (with the requests observed) and the CORS
// preflight as a production process of the api and ingest roles does, so
// that no test passes on wiring production lacks.
func TestTestWiringAsProduction(t *testing.T) {
	const origin = "https://app.example.com"
	dir := t.TempDir()
	env := config.Env{DatabaseURL: "sqlite://" + dir + "/mlserve.db", ArtifactsURL: "file://" + dir + "/artifacts", CORSOrigins: origin}
	prod := serve(t, openApp(t, env, titanicFile(t)), ServeOptions{Roles: Roles{API: true, Ingest: true}})
	test := apitest.Start(t, apitest.Options{CORSOrigins: []string{origin}}).URL

	type answer struct {
		status int
		header http.Header
		body   string
	}
	ask := func(t *testing.T, method, url string, header map[string]string) answer {
		t.Helper()
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return answer{res.StatusCode, res.Header, string(b)}
	}

	t.Run("readyz", func(t *testing.T) {
		for name, base := range map[string]string{"production": prod, "test": test} {
			a := ask(t, "GET", base+"/readyz", nil)
			if a.status != http.StatusOK && a.status != http.StatusServiceUnavailable {
				t.Fatalf("%s: GET /readyz: status %d, want 200 or 503: %s", name, a.status, a.body)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s: GET /readyz: Content-Type %q", name, ct)
			}
			var body map[string]json.RawMessage
			if err := json.Unmarshal([]byte(a.body), &body); err != nil || body["status"] == nil {
				t.Errorf("%s: GET /readyz: no status in %s (%v)", name, a.body, err)
			}
		}
	})

	t.Run("cors preflight", func(t *testing.T) {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
		p := ask(t, "OPTIONS", prod+"/v1/models/titanic/predict", h)
		q := ask(t, "OPTIONS", test+"/v1/models/titanic/predict", h)
		if p.status != q.status || p.status >= 300 {
			t.Fatalf("preflight status: production %d, test %d (%s)", p.status, q.status, q.body)
		}
		cors := func(h http.Header) map[string]string {
			out := map[string]string{}
			for k := range h {
				if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
					out[k] = h.Get(k)
				}
			}
			return out
		}
		pc, qc := cors(p.header), cors(q.header)
		if len(pc) == 0 || !maps.Equal(pc, qc) {
			t.Errorf("preflight headers: production %v, test %v", pc, qc)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		for name, base := range map[string]string{"production": prod, "test": test} {
			ask(t, "GET", base+"/healthz", nil)
			a := ask(t, "GET", base+"/metrics", nil)
			if a.status != http.StatusOK {
				t.Fatalf("%s: GET /metrics: status %d: %.200s", name, a.status, a.body)
			}
			if !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") {
				t.Errorf("%s: GET /metrics: Content-Type %q", name, a.header.Get("Content-Type"))
			}
			observed := false
			for l := range strings.Lines(a.body) {
				observed = observed || strings.HasPrefix(l, "mlserve_http_requests_total{") && strings.Contains(l, `route="GET /healthz"`)
			}
			if !observed {
				t.Errorf("%s: GET /healthz not observed in /metrics", name)
			}
		}
	})
}
