package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/apitest"
	"github.com/mlserve/mlserve/internal/store"
)

// docRoute is one operation of the served OpenAPI document, its path
// parameters filled in.
type docRoute struct {
	method, path, id string
	pipeline         string // the pipeline the path names, "" when none
}

func docRoutes(t *testing.T, doc []byte) []docRoute {
	t.Helper()
	var d struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("decode the OpenAPI document: %v", err)
	}
	params := strings.NewReplacer("{name}", "titanic", "{v}", "2", "{version}", "1", "{id}", "1")
	var out []docRoute
	for path, ops := range d.Paths {
		for method, op := range ops {
			p := params.Replace(path)
			r := docRoute{method: strings.ToUpper(method), path: p, id: op.OperationID}
			segs := strings.Split(p, "/")
			for i, s := range segs {
				if (s == "models" || s == "datasets" || s == "pipelines") && i+1 < len(segs) && i > 0 {
					r.pipeline = segs[i+1]
					break
				}
			}
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b docRoute) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	return out
}

// routeNeed is what the documentation (docs/DESIGN.md, Tokens) says an
// operation needs: public (never a token), read (a token only under
// MLSERVE_AUTH=all, any role), or the least role.
func routeNeed(t *testing.T, id string) (public, read bool, role int) {
	pre := func(p ...string) bool {
		return slices.ContainsFunc(p, func(p string) bool { return strings.HasPrefix(id, p) })
	}
	switch {
	case pre("healthz", "readyz", "oip_live", "oip_ready"):
		return true, false, 0
	case pre("metrics", "openapi", "prototype", "predict_get_", "predict_post_", "models", "model", "versions", "version", "promotions",
		"runs", "run", "dataset", "oip_server_metadata", "oip_model_metadata", "oip_model_ready", "oip_infer_"):
		return false, true, 1
	case pre("ingest_"):
		return false, false, 2
	case id == "promote" || id == "rollback" || id == "train" || id == "quarantine" || id == "quarantine_replay":
		return false, false, 3
	case id == "artifact":
		return false, false, 4
	}
	t.Errorf("operation %s has no documented role in this test: classify it", id)
	return false, false, 4
}

var tokenRoles = []string{"", "predict", "ingest", "operator", "admin"}

// cred is a way of (not) authenticating.
type cred struct {
	name   string
	header string
	// role is the token's role index (0: not a valid token); pipe its
	// pipeline ("" all, "own": the route's, "other": another one).
	role int
	pipe string
	bad  bool // no, wrong, malformed, expired or revoked token
}

// TestTokenMatrix sends every route of /openapi.json with every role's
// token and with no, a wrong, a malformed, an expired, a revoked and
// another pipeline's token, under both MLSERVE_AUTH modes, and checks the
// status: refused with exactly 401 or 403, or not refused by the
// authorisation (any answer but 401 and 403: a handler's own 400 for an
// empty body is fine). Refusals carry the error envelope and never the
// token.
func TestTokenMatrix(t *testing.T) {
	const boot = "bootstrap-admin-secret"
	for _, mode := range []string{"open-read", "all"} {
		t.Run(mode, func(t *testing.T) {
			e := apitest.Start(t, apitest.Options{Token: boot, Auth: mode})
			ctx := t.Context()
			past := time.Now().Add(-time.Hour)
			made := map[string]string{} // role/pipeline/state → token
			n := 0
			mk := func(role, pipe string, expires *time.Time, revoke bool) string {
				key := fmt.Sprintf("%s/%s/%v/%v", role, pipe, expires != nil, revoke)
				if tok, ok := made[key]; ok {
					return tok
				}
				n++
				tok := fmt.Sprintf("mls_test_%s_%d", role, n)
				id := fmt.Sprintf("tok_%d", n)
				if _, err := e.Store.TokenCreate(ctx, &store.TokenCreateParams{ID: id, Hash: hashToken(tok), Role: role, Pipeline: pipe, ExpiresAt: expires}); err != nil {
					t.Fatal(err)
				}
				if revoke {
					if _, err := e.Store.TokenRevoke(ctx, id); err != nil {
						t.Fatal(err)
					}
				}
				made[key] = tok
				return tok
			}
			routes := docRoutes(t, e.OpenAPI)
			var creds []func(r docRoute) cred
			creds = append(creds,
				func(docRoute) cred { return cred{name: "none", bad: true} },
				func(docRoute) cred { return cred{name: "wrong", header: "Bearer mls_not_a_token", bad: true} },
				func(docRoute) cred { return cred{name: "malformed", header: "Basic " + boot, bad: true} },
				func(docRoute) cred { return cred{name: "bootstrap", header: "Bearer " + boot, role: 4} },
			)
			other := func(r docRoute) string {
				if r.pipeline == "sensors" {
					return "titanic"
				}
				return "sensors"
			}
			for ri := 1; ri < len(tokenRoles); ri++ {
				role := tokenRoles[ri]
				for _, p := range apitest.Names {
					mk(role, p, nil, false)
				}
				creds = append(creds,
					func(docRoute) cred { return cred{name: role, header: "Bearer " + mk(role, "", nil, false), role: ri} },
					func(r docRoute) cred {
						if r.pipeline == "" {
							return cred{name: role + "/titanic", header: "Bearer " + mk(role, "titanic", nil, false), role: ri, pipe: "own"}
						}
						return cred{name: role + "/own", header: "Bearer " + mk(role, r.pipeline, nil, false), role: ri, pipe: "own"}
					},
					func(r docRoute) cred {
						return cred{name: role + "/other", header: "Bearer " + mk(role, other(r), nil, false), role: ri, pipe: "other"}
					},
					func(docRoute) cred {
						return cred{name: role + "/expired", header: "Bearer " + mk(role, "", &past, false), bad: true}
					},
					func(docRoute) cred {
						return cred{name: role + "/revoked", header: "Bearer " + mk(role, "", nil, true), bad: true}
					},
				)
			}
			// Every token exists before the first request: the server's
			// token cache is read once.
			for _, r := range routes {
				for _, mkc := range creds {
					mkc(r)
				}
			}
			for _, r := range routes {
				public, read, need := routeNeed(t, r.id)
				for _, mkc := range creds {
					c := mkc(r)
					want := 0 // not refused
					switch {
					case public || read && mode == "open-read":
					case c.bad:
						want = http.StatusUnauthorized
					case c.role < need:
						want = http.StatusForbidden
					case c.pipe == "other" && (r.pipeline != "" || !read):
						want = http.StatusForbidden
					case c.pipe == "own" && r.pipeline == "" && !read:
						want = http.StatusForbidden
					}
					body := ""
					ctype := ""
					if r.method == http.MethodPost {
						body, ctype = "{}", "application/json"
					}
					req := e.Request(t, r.method, r.path, ctype, body)
					if c.header != "" {
						req.Header.Set("Authorization", c.header)
					}
					res := e.Send(t, req)
					refused := res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden
					switch {
					case want == 0 && refused:
						t.Errorf("%s %s (%s) with %s: %d %s, want it not refused", r.method, r.path, r.id, c.name, res.Status, res.Body)
					case want != 0 && res.Status != want:
						t.Errorf("%s %s (%s) with %s: %d %s, want %d", r.method, r.path, r.id, c.name, res.Status, res.Body, want)
					case want != 0:
						var env struct {
							Error struct{ Code, Message string }
						}
						if err := json.Unmarshal(res.Body, &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
							t.Errorf("%s %s with %s: body %s is not the error envelope", r.method, r.path, c.name, res.Body)
						}
						if tok := strings.TrimSpace(strings.TrimPrefix(c.header, "Bearer ")); tok != "" && strings.Contains(string(res.Body), tok) {
							t.Errorf("%s %s with %s: the answer repeats the token: %s", r.method, r.path, c.name, res.Body)
						}
						if want == http.StatusUnauthorized && res.Header.Get("WWW-Authenticate") == "" {
							t.Errorf("%s %s with %s: 401 without WWW-Authenticate", r.method, r.path, c.name)
						}
					}
				}
			}
			if len(routes) < 30 {
				t.Fatalf("only %d routes in /openapi.json", len(routes))
			}
			t.Logf("%d routes × %d credentials checked", len(routes), len(creds))
		})
	}
}

// hashToken is the sha256 the store keeps of a token, computed here
// independently of package auth.
func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}
