// Package mount builds the HTTP handler of mlserve's roles from their
// already-built collaborators: the one place that says which routes a
// process serves, called by app.Serve and by the test servers alike, so a
// test cannot pass on wiring production lacks.
package mount

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mlserve/mlserve/internal/api"
	"github.com/mlserve/mlserve/internal/auth"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/metrics"
	"github.com/mlserve/mlserve/internal/oip"
	"github.com/mlserve/mlserve/internal/openapi"
	"github.com/mlserve/mlserve/internal/served"
	"github.com/mlserve/mlserve/internal/serving"
)

// Options are the collaborators of the roles a process runs. A nil role
// part is not mounted.
type Options struct {
	// Logger receives the middleware's and /metrics' lines.
	Logger *slog.Logger
	// Admin guards the write routes (tests without Auth); nil when Auth
	// decides.
	Admin func(http.Handler) http.Handler
	// Auth, if set, decides every route (net/http's and the fasthttp
	// server's hot routes alike); NotLocal is its local-client check
	// (httpx.Guard.NotLocal) for a server without MLSERVE_ADMIN_TOKEN.
	Auth     *auth.Authorizer
	NotLocal func(*http.Request) string

	// API is the api role's server: predict, registry and CORS routes.
	API *api.Server
	// OIP is the api role's Open Inference Protocol server.
	OIP *oip.Server
	// Models, with API, adds the "models" readiness check.
	Models *served.Models
	// Ingest is the ingest role's service, mounted with body limit
	// IngestMaxBody (0: its default).
	Ingest        *ingest.Service
	IngestMaxBody int64

	// Required and Soft are the readiness checks (httpx.Readiness) besides
	// the models' one.
	Required, Soft map[string]httpx.Check
	// OpenAPI, if set, is generated once and served at GET /openapi.json.
	OpenAPI *openapi.Options
	// Metrics observes every request; Gatherer, if set, is served at
	// GET /metrics.
	Metrics  *metrics.Metrics
	Gatherer prometheus.Gatherer
}

// Mounted is the built handler of the roles.
type Mounted struct {
	// Handler answers every route behind httpx's middleware.
	Handler http.Handler
	// Fast are the hot routes the fasthttp server answers without Handler.
	Fast []serving.Route
	// OpenAPI is the served document (nil when none).
	OpenAPI []byte
}

// Roles mounts the routes of the roles o carries on one mux: the api's
// (predict, registry, CORS preflight, inference protocol), the ingest's,
// readiness and health, /openapi.json, /metrics, and the fallback that
// answers unknown routes and methods; the middleware observes every
// request into o.Metrics.
func Roles(o Options) (*Mounted, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	out := &Mounted{}
	if o.Admin == nil {
		o.Admin = func(h http.Handler) http.Handler { return h }
	}
	required := map[string]httpx.Check{}
	for k, c := range o.Required {
		required[k] = c
	}
	if o.API != nil {
		o.API.Routes(mux, o.Admin)
		out.Fast = append(out.Fast, o.API.ServingRoutes()...)
	}
	if o.OIP != nil {
		o.OIP.Routes(mux)
		out.Fast = append(out.Fast, o.OIP.ServingRoutes()...)
	}
	if o.Models != nil {
		required["models"] = o.Models.Ready
	}
	if o.Ingest != nil {
		o.Ingest.Routes(mux, o.IngestMaxBody, o.Admin)
	}
	httpx.Readiness(mux, required, o.Soft)
	if o.OpenAPI != nil {
		doc, err := openapi.Generate(o.OpenAPI)
		if err != nil {
			return nil, err
		}
		mux.Handle("GET /openapi.json", openapi.Handler(doc))
		out.OpenAPI = doc
	}
	if o.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}))
	}
	httpx.Fallback(mux)
	var observe httpx.Observer
	if m := o.Metrics; m != nil {
		observe = func(r *http.Request, pattern string, status int, d time.Duration) {
			model, version, rows := httpx.Noted(r)
			m.Request(pattern, model, version, status, rows, d)
		}
	}
	var h http.Handler = httpx.CacheLiteralRoutes(mux)
	if o.Auth != nil {
		h = o.Auth.Wrap(mux, o.NotLocal, h)
		for i, rt := range out.Fast {
			out.Fast[i] = o.Auth.Route(rt)
		}
	}
	out.Handler = httpx.Middleware(logger, observe, h)
	return out, nil
}
