// Package auth is the one authorisation decision of mlserve's routes, for
// both HTTP engines: which role a route needs, whether the deployment lets
// it be read without a token (MLSERVE_AUTH), and whether the bearer token a
// request carries (MLSERVE_ADMIN_TOKEN, or a scoped token stored by
// `mlserve token create`) grants it. net/http routes pass through Wrap;
// the fasthttp server's hot routes through Route.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/serving"
)

// Role is what a token may do. Each role includes the ones before it:
// ingest may predict, operator may ingest, admin may do everything.
type Role int

// The roles, weakest first.
const (
	RoleNone     Role = iota
	RolePredict       // predict, infer and read routes
	RoleIngest        // + POST rows
	RoleOperator      // + train, promote, rollback, read and replay the quarantine
	RoleAdmin         // + every other route (tokens, export)
)

var roleNames = []string{"", "predict", "ingest", "operator", "admin"}

// String returns the role's name.
func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("role(%d)", int(r))
	}
	return roleNames[r]
}

// ParseRole returns the role named s, or an error naming the known ones.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames {
		if i > 0 && n == s {
			return Role(i), nil
		}
	}
	return RoleNone, fmt.Errorf("role %q: want predict, ingest, operator or admin", s)
}

// Rule is what a route needs.
type Rule struct {
	// Role is the least role that may call the route.
	Role Role
	// Read routes (predict, infer, metadata, lists) need no token under
	// config.AuthOpenRead.
	Read bool
	// Public routes (health, readiness, CORS preflight, unknown routes'
	// 404) never need a token.
	Public bool
}

// RuleFor returns the rule of a route pattern as net/http's ServeMux names
// it ("POST /v1/models/{name}/predict"). A route this table does not know
// needs the admin role: a new route is closed until it is classified.
func RuleFor(pattern string) Rule {
	method, path, _ := strings.Cut(pattern, " ")
	switch {
	case pattern == "/" || pattern == "/v2" || pattern == "/v2/" || method == http.MethodOptions:
		return Rule{Public: true} // fallbacks (404/405) and CORS preflight
	case path == "/healthz" || path == "/readyz" || strings.HasPrefix(path, "/v2/health/"):
		return Rule{Public: true}
	case method == http.MethodPost && path == "/v1/datasets/{name}/rows":
		return Rule{Role: RoleIngest}
	case method == http.MethodPost && (path == "/v1/pipelines/{name}/runs" || path == "/v1/models/{name}/rollback" ||
		path == "/v1/models/{name}/versions/{v}/promote"):
		return Rule{Role: RoleOperator}
	case strings.HasPrefix(path, "/v1/datasets/{name}/quarantine"):
		return Rule{Role: RoleOperator} // read it, replay it
	case method == http.MethodGet && path == "/v1/models/{name}/versions/{v}/artifact":
		return Rule{Role: RoleAdmin} // the model itself, exported
	case method == http.MethodPost && (path == "/v1/models/{name}/predict" || strings.HasSuffix(path, "/infer")):
		return Rule{Role: RolePredict, Read: true}
	case method == http.MethodGet && (strings.Contains(path, "/export") || strings.HasPrefix(path, "/v1/tokens")):
		return Rule{Role: RoleAdmin}
	case method == http.MethodGet || method == http.MethodHead:
		return Rule{Role: RolePredict, Read: true}
	}
	return Rule{Role: RoleAdmin}
}

// Authorizer decides whether a request may call a route. Its zero value
// (besides Mode) is not useful: build it with the deployment's settings.
type Authorizer struct {
	// Mode is config.AuthOpenRead ("" means it) or config.AuthAll.
	Mode string
	// Bootstrap is MLSERVE_ADMIN_TOKEN: an admin token that needs no
	// record. Without it, a request without a token to a route that needs
	// one is let through when Local says it is a local client's (the
	// guard of a fresh install; see httpx.Guard).
	Bootstrap string
	// Tokens looks up stored tokens; nil: only Bootstrap.
	Tokens *Cache
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Request is what the decision reads of a request.
type Request struct {
	Pattern  string
	Pipeline string // the {name} of the route, "" when none
	// Authorization is the request's Authorization header.
	Authorization string
	// Local, if set, returns why the request is not a local client's
	// ("" when it is); nil means it cannot be local-checked.
	Local func() string
}

// Decide returns nil when req may call its route, or the error to answer:
// 401 for a missing, malformed, unknown, expired or revoked token, 403 for
// a token whose role or pipeline does not cover the route (or a non-local
// client while no MLSERVE_ADMIN_TOKEN is set). Every decision is logged,
// never with the token nor the request's path values: debug when allowed,
// warn when refused.
func (a *Authorizer) Decide(ctx context.Context, req Request) *httpx.Error {
	rule := RuleFor(req.Pattern)
	if rule.Public || rule.Read && a.Mode != config.AuthAll {
		return nil
	}
	// Not the request's pipeline: the path is the caller's text, and
	// logs carry no payload (the route and the token's record suffice).
	log := a.logger().With("route", req.Pattern, "needs", rule.Role.String())
	tok, ok := bearer(req.Authorization)
	if !ok {
		if a.Bootstrap == "" && req.Local != nil {
			if why := req.Local(); why != "" {
				log.Warn("request refused", "why", why)
				return httpx.Errorf(http.StatusForbidden, "forbidden",
					"without MLSERVE_ADMIN_TOKEN the routes that need a token answer local clients only, and %s; set MLSERVE_ADMIN_TOKEN and send Authorization: Bearer <token>", why)
			}
			log.Debug("request allowed", "by", "local client")
			return nil
		}
		log.Warn("request refused", "why", "no bearer token")
		return unauthorized()
	}
	if a.Bootstrap != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.Bootstrap)) == 1 {
		log.Debug("request allowed", "by", "MLSERVE_ADMIN_TOKEN")
		return nil
	}
	if a.Tokens == nil {
		log.Warn("request refused", "why", "unknown token")
		return unauthorized()
	}
	rec, err := a.Tokens.Lookup(ctx, Hash(tok))
	if err != nil {
		log.Error("cannot check a token", "err", err)
		return httpx.Errorf(http.StatusServiceUnavailable, "unavailable", "cannot check the token now; retry")
	}
	if rec == nil {
		log.Warn("request refused", "why", "unknown token")
		return unauthorized()
	}
	log = log.With("token_id", rec.ID, "token_role", rec.Role)
	now := a.now()
	switch {
	case rec.RevokedAt != nil:
		log.Warn("request refused", "why", "token revoked")
		return unauthorized()
	case rec.ExpiresAt != nil && !now.Before(*rec.ExpiresAt):
		log.Warn("request refused", "why", "token expired")
		return unauthorized()
	}
	role, err := ParseRole(rec.Role)
	if err != nil || role < rule.Role {
		log.Warn("request refused", "why", "role does not cover the route")
		return httpx.Errorf(http.StatusForbidden, "forbidden", "token %s has role %s; %s needs role %s or above", rec.ID, rec.Role, req.Pattern, rule.Role)
	}
	if rec.Pipeline != "" && req.Pipeline != rec.Pipeline && (req.Pipeline != "" || !rule.Read) {
		log.Warn("request refused", "why", "token is for another pipeline", "token_pipeline", rec.Pipeline)
		return httpx.Errorf(http.StatusForbidden, "forbidden", "token %s is limited to pipeline %s", rec.ID, rec.Pipeline)
	}
	log.Debug("request allowed", "by", "token")
	return nil
}

func unauthorized() *httpx.Error {
	return httpx.Errorf(http.StatusUnauthorized, "unauthorized",
		"this route needs Authorization: Bearer <token> with a valid, unexpired, unrevoked token (mlserve token create, or MLSERVE_ADMIN_TOKEN)")
}

func (a *Authorizer) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

func (a *Authorizer) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

// Hash returns the hex sha256 of a token: what the store keeps.
func Hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// bearer returns the token of an Authorization header with the Bearer
// scheme (in any case, RFC 7235), spaces around it ignored.
func bearer(header string) (string, bool) {
	header = strings.Trim(header, " \t")
	i := strings.IndexAny(header, " \t")
	if i < 0 || !strings.EqualFold(header[:i], "Bearer") {
		return "", false
	}
	tok := strings.Trim(header[i:], " \t")
	return tok, tok != ""
}

// Wrap returns mux behind the decision: the route is the pattern mux
// resolves the request to; refused requests get the error envelope.
// Local is the local-client check of httpx.Guard (nil: none).
func (a *Authorizer) Wrap(mux *http.ServeMux, local func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		req := Request{Pattern: pattern, Pipeline: pathValue(pattern, r.URL.Path, "name"), Authorization: r.Header.Get("Authorization")}
		if local != nil {
			req.Local = func() string { return local(r) }
		}
		if e := a.Decide(r.Context(), req); e != nil {
			if e.Status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", httpx.Challenge)
			}
			httpx.WriteError(w, r, a.logger(), e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Route returns rt behind the decision, for the fasthttp server's hot
// routes (which net/http's Wrap does not see).
func (a *Authorizer) Route(rt serving.Route) serving.Route {
	idx := -1
	for i, n := range serving.Wildcards(rt.Pattern) {
		if n == "name" {
			idx = i
		}
	}
	serve, pattern := rt.Serve, rt.Pattern
	rt.Serve = func(r *serving.Request, rp *httpx.Reply) {
		req := Request{Pattern: pattern, Authorization: r.Header("Authorization")}
		if idx >= 0 {
			req.Pipeline = r.Values[idx]
		}
		if e := a.Decide(r.Context, req); e != nil {
			rp.SetError(e)
			return
		}
		serve(r, rp)
	}
	return rt
}

// pathValue returns the segment of path in the place of pattern's {name}
// wildcard, or "".
func pathValue(pattern, path, name string) string {
	_, p, _ := strings.Cut(pattern, " ")
	ps, rs := strings.Split(p, "/"), strings.Split(path, "/")
	for i, s := range ps {
		if s == "{"+name+"}" && i < len(rs) {
			return rs[i]
		}
	}
	return ""
}
