package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/apitest"
)

// writeRoute is one write operation of the served OpenAPI document.
type writeRoute struct {
	method, path, id string
}

// writeRoutes returns every operation of the OpenAPI document that declares
// the admin security (bearer token, or none from a local client): the write
// routes. A new write route is covered by the tests that range over them as
// soon as it is documented; an undocumented unsafe route, or one documented
// without the security, fails here unless it is a prediction route.
func writeRoutes(t *testing.T, doc []byte) []writeRoute {
	t.Helper()
	var d struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Security    []any  `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("decode the OpenAPI document: %v", err)
	}
	// The prediction routes take POST bodies but write nothing: they are
	// open to everyone, like GET.
	public := regexp.MustCompile(`^/v1/models/[^/]+/predict$|^/v2/models/[^/]+(/versions/[^/]+)?/infer$`)
	params := strings.NewReplacer("{name}", "titanic", "{v}", "2", "{version}", "2", "{id}", "1")
	var out []writeRoute
	ids := map[string]bool{}
	for path, ops := range d.Paths {
		for method, op := range ops {
			method = strings.ToUpper(method)
			switch {
			case len(op.Security) > 0:
				out = append(out, writeRoute{method: method, path: params.Replace(path), id: op.OperationID})
				ids[op.OperationID] = true
			case method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions:
			case !public.MatchString(path):
				t.Errorf("%s %s (%s) changes state but declares no admin security", method, path, op.OperationID)
			}
		}
	}
	slices.SortFunc(out, func(a, b writeRoute) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	for _, want := range []string{"promote", "rollback", "train", "artifact", "quarantine", "quarantine_replay"} {
		if !ids[want] {
			t.Errorf("operation %s is not among the write routes %v", want, out)
		}
	}
	if !slices.ContainsFunc(out, func(r writeRoute) bool { return strings.HasSuffix(r.path, "/rows") }) {
		t.Errorf("no ingest rows route among the write routes %v", out)
	}
	return out
}

// guardCase is a request's headers and the status the guard gives it.
type guardCase struct {
	name   string
	header map[string]string // "Host" sets the request's Host
	ctype  string            // "" keeps the route's usual one
	rows   bool              // only the ingest rows routes
	status int               // 0: passes the guard (the route's own answer)
}

// TestWriteRoutesGuard sends every write route (writeRoutes) requests over
// loopback TCP with the headers of a browser page of another site, a DNS
// rebinding and a reverse proxy, on the engine apitest picks: on the fast
// front the write routes go through the net/http adaptor, so this also
// checks that Host, Origin and the peer address reach the guard intact.
// Without a token they are refused with 403; with one, only the bearer
// token counts, its scheme in any case and spaces around it ignored.
func TestWriteRoutesGuard(t *testing.T) {
	t.Parallel()
	const token = "s3cret-Tok"
	open := apitest.Start(t, apitest.Options{})
	guarded := apitest.Start(t, apitest.Options{Token: token})
	routes := writeRoutes(t, open.OpenAPI)
	u, err := url.Parse(open.URL)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()

	noToken := []guardCase{
		{name: "plain"},
		{name: "same origin", header: map[string]string{"Origin": open.URL, "Sec-Fetch-Site": "same-origin"}},
		{name: "fetch site none", header: map[string]string{"Sec-Fetch-Site": "none"}},
		{name: "host localhost", header: map[string]string{"Host": "localhost:" + port}},
		{name: "host LOCALHOST no port", header: map[string]string{"Host": "LOCALHOST"}},
		{name: "host v6 literal", header: map[string]string{"Host": "[::1]:" + port}},
		{name: "host other ip literal", header: map[string]string{"Host": "10.1.2.3"}},
		{name: "same origin as localhost", header: map[string]string{"Host": "localhost:" + port, "Origin": "http://localhost:" + port}},
		{name: "cross-site origin", header: map[string]string{"Origin": "https://evil.example"}, status: 403},
		{name: "cross-site origin, no content type", header: map[string]string{"Origin": "https://evil.example"}, ctype: "none", status: 403},
		{name: "null origin", header: map[string]string{"Origin": "null"}, status: 403},
		{name: "other local port", header: map[string]string{"Origin": "http://127.0.0.1:1"}, status: 403},
		{name: "origin localhost, host 127.0.0.1", header: map[string]string{"Origin": "http://localhost:" + port}, status: 403},
		{name: "origin https same host", header: map[string]string{"Origin": "https://127.0.0.1:" + port}, status: 403},
		{name: "garbage origin", header: map[string]string{"Origin": "::not a url"}, status: 403},
		{name: "fetch site cross-site", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		{name: "fetch site same-site", header: map[string]string{"Sec-Fetch-Site": "same-site"}, status: 403},
		{name: "fetch site unknown", header: map[string]string{"Sec-Fetch-Site": "elsewhere"}, status: 403},
		{name: "dns rebinding", header: map[string]string{"Host": "rebind.evil.example:" + port, "Origin": "http://rebind.evil.example:" + port, "Sec-Fetch-Site": "same-origin"}, status: 403},
		{name: "dns rebinding no port", header: map[string]string{"Host": "rebind.evil.example"}, status: 403},
		{name: "localhost subdomain", header: map[string]string{"Host": "evil.localhost.example.com"}, status: 403},
		{name: "forwarded", header: map[string]string{"Forwarded": "for=203.0.113.9"}, status: 403},
		{name: "x-forwarded-for", header: map[string]string{"X-Forwarded-For": "203.0.113.9"}, status: 403},
		{name: "x-forwarded-for loopback", header: map[string]string{"X-Forwarded-For": "127.0.0.1"}, status: 403},
		{name: "x-real-ip", header: map[string]string{"X-Real-Ip": "203.0.113.9"}, status: 403},
		{name: "x-forwarded-host", header: map[string]string{"X-Forwarded-Host": "mlserve.example"}, status: 403},
		{name: "rows without content type", ctype: "none", rows: true, status: 415},
		{name: "rows text/plain", ctype: "text/plain", rows: true, status: 415},
	}
	withToken := []guardCase{
		{name: "missing", status: 401},
		{name: "right", header: map[string]string{"Authorization": "Bearer " + token}},
		{name: "scheme lower case", header: map[string]string{"Authorization": "bearer " + token}},
		{name: "scheme upper case, spaces", header: map[string]string{"Authorization": "BEARER   " + token + "   "}},
		{name: "tab", header: map[string]string{"Authorization": "Bearer\t" + token}},
		{name: "cross-site with token", header: map[string]string{"Authorization": "Bearer " + token, "Origin": "https://evil.example", "X-Forwarded-For": "203.0.113.9"}},
		{name: "wrong", header: map[string]string{"Authorization": "Bearer " + token + "x"}, status: 401},
		{name: "prefix", header: map[string]string{"Authorization": "Bearer " + token[:3]}, status: 401},
		{name: "case of token", header: map[string]string{"Authorization": "Bearer " + strings.ToLower(token)}, status: 401},
		{name: "no space", header: map[string]string{"Authorization": "Bearer" + token}, status: 401},
		{name: "scheme only", header: map[string]string{"Authorization": "Bearer"}, status: 401},
		{name: "token twice", header: map[string]string{"Authorization": "Bearer " + token + " " + token}, status: 401},
		{name: "basic", header: map[string]string{"Authorization": "Basic " + token}, status: 401},
		{name: "no scheme", header: map[string]string{"Authorization": token}, status: 401},
	}
	run := func(t *testing.T, env *apitest.Env, cases []guardCase) {
		for _, rt := range routes {
			rows := strings.HasSuffix(rt.path, "/rows")
			for _, tc := range cases {
				if tc.rows && !rows {
					continue
				}
				body, ctype := "", ""
				if rows {
					body, ctype = "[]", "application/json"
				}
				switch tc.ctype {
				case "none":
					ctype = ""
				case "":
				default:
					ctype = tc.ctype
				}
				req := env.Request(t, rt.method, rt.path, ctype, body)
				for k, v := range tc.header {
					if k == "Host" {
						req.Host = v
					} else {
						req.Header.Set(k, v)
					}
				}
				status, e := send(t, req)
				where := rt.method + " " + rt.path + " " + tc.name
				switch tc.status {
				case 0:
					if status == 401 || status == 403 || status == 415 || status >= 500 {
						t.Errorf("%s: status %d (%s %s), want the route's own answer", where, status, e.Code, e.Message)
					}
				default:
					if status != tc.status {
						t.Errorf("%s: status %d (%s %s), want %d", where, status, e.Code, e.Message, tc.status)
						continue
					}
					if status == 403 && (e.Code != "forbidden" || !strings.Contains(e.Message, "MLSERVE_ADMIN_TOKEN")) {
						t.Errorf("%s: 403 %s %q: want code forbidden and a message saying to set MLSERVE_ADMIN_TOKEN", where, e.Code, e.Message)
					}
					if strings.Contains(e.Message, token) {
						t.Errorf("%s: the message leaks the token: %s", where, e.Message)
					}
				}
			}
		}
	}
	t.Run("no token", func(t *testing.T) { run(t, open, noToken) })
	t.Run("token", func(t *testing.T) { run(t, guarded, withToken) })
}

// send sends req and returns the status and the error envelope, if any.
func send(t *testing.T, req *http.Request) (int, apiError) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Error apiError `json:"error"`
	}
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(data, &env); err != nil {
			t.Errorf("%s %s: %d answer is not the error envelope: %s", req.Method, req.URL.Path, res.StatusCode, data)
		}
	}
	return res.StatusCode, env.Error
}
