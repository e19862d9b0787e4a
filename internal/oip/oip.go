// Package oip serves the Open Inference Protocol (KServe V2) over REST:
// server and model metadata, liveness and readiness, and inference with one
// input tensor per feature column. Routes without a version use the
// production model the api role serves; routes with /versions/{v} serve
// any version in the registry.
//
// Errors follow the protocol: a JSON object {"error": "message"} with a 4xx
// status for the caller's mistakes (400 bad request, 404 unknown model or
// version, 413 too large), 503 while a model has no production version, and
// 500 for our own failures.
package oip

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/served"
	"github.com/mlserve/mlserve/internal/serving"
	"github.com/mlserve/mlserve/internal/serving/nethttp"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/version"
)

// ServerName is the name GET /v2 reports.
const ServerName = "mlserve"

// Config configures a Server.
type Config struct {
	// Pipelines are the served pipelines' names (the protocol's models).
	Pipelines []string
	// Models holds the production models (hot-reloaded by the api role).
	Models *served.Models
	// Registry loads versions other than production; it caches by hash.
	Registry *registry.Registry
	Store    store.Store
	Logger   *slog.Logger
	// MaxBody caps request bodies (default config.DefaultMaxBody); MaxBatch
	// caps rows per inference (default config.DefaultMaxBatch).
	MaxBody  int64
	MaxBatch int
}

// Server serves the protocol's routes.
type Server struct {
	cfg    Config
	logger *slog.Logger
	// names maps each served model's name to itself: resolve replaces the
	// name a request gives (on the fasthttp server, bytes of the connection's
	// buffer, which its next request overwrites) with the configured
	// string before anything keeps it.
	names map[string]string

	// versions holds the registry records of versions the version routes
	// served. A version's artifact never changes once registered, so a
	// version route reads its record from the store once, not per request
	// (that read made it five times slower than the production route).
	mu       sync.Mutex
	versions map[versionKey]*store.Version
}

type versionKey struct {
	name    string
	version int
}

// maxVersions bounds Server.versions: past it the cache starts over.
const maxVersions = 1024

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = config.DefaultMaxBody
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = config.DefaultMaxBatch
	}
	s := &Server{cfg: cfg, logger: cfg.Logger, names: map[string]string{}, versions: map[versionKey]*store.Version{}}
	for _, n := range cfg.Pipelines {
		s.names[n] = n
	}
	return s
}

// Routes mounts the protocol's routes on mux, and a catch-all under /v2
// that answers unknown routes (404) and wrong methods (405 with Allow) in
// the protocol's error form.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v2", s.handleServerMetadata)
	mux.HandleFunc("GET /v2/{$}", s.handleServerMetadata)
	mux.HandleFunc("GET /v2/health/live", s.handleLive)
	mux.HandleFunc("GET /v2/health/ready", s.handleReady)
	mux.HandleFunc("GET /v2/models/{name}", s.handleModelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}", s.handleModelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/ready", s.handleModelReady)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}/ready", s.handleModelReady)
	nethttp.Mount(mux, s.ServingRoutes(), nethttp.Options{Logger: s.logger, MaxBody: s.cfg.MaxBody, ErrorBody: ErrorBody}, nil)
	fallback := func(w http.ResponseWriter, r *http.Request) {
		if allow := httpx.Allowed(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.fail(w, r, &Error{Status: http.StatusMethodNotAllowed,
				Message: fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", "))})
			return
		}
		s.fail(w, r, &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("no route %s %s in the inference protocol", r.Method, r.URL.Path)})
	}
	mux.HandleFunc("/v2", fallback)
	mux.HandleFunc("/v2/", fallback)
}

// The inference routes' patterns (see ServingRoutes): both engines label
// their metrics with them.
const (
	routeInfer        = "POST /v2/models/{name}/infer"
	routeInferVersion = "POST /v2/models/{name}/versions/{version}/infer"
)

// ServingRoutes are the inference routes, on production and on any
// version, written once for both engines: Routes mounts them on the
// net/http mux (internal/serving/nethttp) and the api's fasthttp server
// (internal/fasthttpserver) answers them without net/http.
func (s *Server) ServingRoutes() []serving.Route {
	return []serving.Route{
		{Pattern: routeInfer, Serve: s.serveInfer},
		{Pattern: routeInferVersion, Serve: s.serveInfer},
	}
}

// serveInfer is Infer for a serving.Route: the path's values are the model
// and, on the version route, the version (else "").
func (s *Server) serveInfer(r *serving.Request, rp *httpx.Reply) {
	call := InferCall{Name: r.Values[0], Version: r.Values[1], Body: r.Body, RequestID: r.ID,
		BinaryExtension: r.Header(headerBinary) != ""}
	s.Infer(r.Context, &call, rp)
}

// Error is a protocol error: a status and the message of {"error": "…"}.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// fail writes err in the protocol's error form (see setError).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var rp httpx.Reply
	s.setError(r.Context(), &rp, err, httpx.RequestID(r), r.URL.Path)
	httpx.WriteReply(w, r, &rp)
}

// setError makes rp the protocol's error form of err, keeping the model
// rp noted. An *Error is the protocol's own; any other error gets the
// status, message and Retry-After httpx.Report gives every route (and is
// logged as it says), in the protocol's form.
func (s *Server) setError(ctx context.Context, rp *httpx.Reply, err error, requestID, where string) {
	var e *Error
	if !errors.As(err, &e) {
		he := httpx.Report(ctx, s.logger, err, requestID, "path", where)
		e = &Error{Status: he.Status, Message: he.Message}
		rp.RetryAfter = he.RetryAfter
	}
	rp.Status, rp.Body, rp.Rows = e.Status, appendError(rp.Body[:0], e.Message), 0
}

// appendError appends the protocol's error form: {"error": message}.
func appendError(b []byte, message string) []byte {
	data, _ := json.Marshal(map[string]string{"error": message}) // a map of strings always encodes
	return append(append(b, data...), '\n')
}

// ErrorBody is the answer in the protocol's error form to a request under
// /v2 whose body could not be read (over the limit, say), or nil for other
// paths: the engines' Options.ErrorBody (internal/serving/nethttp,
// internal/fasthttpserver).
func ErrorBody(path []byte, e *httpx.Error) []byte {
	if string(path) != "/v2" && !bytes.HasPrefix(path, []byte("/v2/")) {
		return nil
	}
	return appendError(nil, e.Message)
}

// ServerMetadata is the answer of GET /v2.
type ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

func (s *Server) handleServerMetadata(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, &ServerMetadata{Name: ServerName, Version: version.Version, Extensions: []string{}})
}

func (s *Server) handleLive(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]bool{"live": true})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Models.Ready(ctx); err != nil {
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "error": "not ready: " + err.Error()})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

// model is a resolved model: a pipeline's version and its loaded artifact.
type model struct {
	name    string
	version int
	m       *artifact.Model
}

// resolve finds the model a route names: the served production model when
// version is "", else that version from the registry. It notes the model
// and, once known, the version on rp for the request metrics. name and
// version may be request bytes that do not outlive the request: what
// resolve keeps or returns holds the configured name instead, and an
// unknown name is noted nowhere.
func (s *Server) resolve(ctx context.Context, name, version string, rp *httpx.Reply) (*model, error) {
	canon, ok := s.names[name]
	if !ok {
		return nil, errorf(http.StatusNotFound, "model %q is not served here; models: %s", name, strings.Join(s.cfg.Pipelines, ", "))
	}
	name = canon
	rp.Model, rp.Version = name, 0
	sv := s.cfg.Models.Get(name)
	if version == "" {
		if sv == nil {
			if err := s.cfg.Models.LoadError(name); err != nil {
				return nil, errorf(http.StatusServiceUnavailable, "%v", err)
			}
			return nil, errorf(http.StatusServiceUnavailable,
				"model %s has no production version yet: ingest rows and train (`mlserve train %s --wait`); the first version is promoted automatically", name, name)
		}
		rp.Version = sv.Version.Version
		return &model{name: name, version: sv.Version.Version, m: sv.Model}, nil
	}
	v, err := strconv.Atoi(version)
	if err != nil || v < 1 {
		return nil, errorf(http.StatusNotFound, "model %s has no version %q (versions are whole numbers from 1)", name, version)
	}
	if sv != nil && sv.Version.Version == v {
		rp.Version = v
		return &model{name: name, version: v, m: sv.Model}, nil
	}
	sv2, err := s.version(ctx, name, v)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusNotFound, "model %s has no version %d", name, v)
	}
	if err != nil {
		return nil, fmt.Errorf("read version %d of %s: %w", v, name, err)
	}
	m, err := s.cfg.Registry.Load(ctx, sv2)
	if err != nil {
		return nil, fmt.Errorf("load version %d of %s: %w", v, name, err)
	}
	rp.Version = v
	return &model{name: name, version: v, m: m}, nil
}

// version returns the registry's record of a version: from the store the
// first time, then from memory.
func (s *Server) version(ctx context.Context, name string, v int) (*store.Version, error) {
	k := versionKey{name, v}
	s.mu.Lock()
	sv, ok := s.versions[k]
	s.mu.Unlock()
	if ok {
		return sv, nil
	}
	sv, err := s.cfg.Store.VersionGet(ctx, name, v)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.versions) >= maxVersions {
		clear(s.versions)
	}
	s.versions[k] = sv
	s.mu.Unlock()
	return sv, nil
}

// resolveRequest is resolve for a net/http request's path, noting the
// model on r.
func (s *Server) resolveRequest(r *http.Request) (*model, error) {
	var rp httpx.Reply
	md, err := s.resolve(r.Context(), r.PathValue("name"), r.PathValue("version"), &rp)
	if rp.Model != "" {
		httpx.NoteModel(r, rp.Model, rp.Version)
	}
	return md, err
}

// TensorMetadata describes an input or output tensor.
type TensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// ModelMetadata is the answer of GET /v2/models/{name}[/versions/{v}].
type ModelMetadata struct {
	Name     string           `json:"name"`
	Versions []string         `json:"versions"`
	Platform string           `json:"platform"`
	Inputs   []TensorMetadata `json:"inputs"`
	Outputs  []TensorMetadata `json:"outputs"`
}

func (s *Server) handleModelMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := s.resolveRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	vs, err := s.cfg.Store.VersionList(r.Context(), md.name)
	if err != nil {
		s.fail(w, r, fmt.Errorf("list versions of %s: %w", md.name, err))
		return
	}
	out := &ModelMetadata{Name: md.name, Versions: make([]string, 0, len(vs)), Platform: "mlserve_" + md.m.Artifact.Algorithm,
		Inputs: Inputs(md.m.Schema().Schema()), Outputs: Outputs(md.m.Schema().Schema(), len(md.m.Classes()))}
	for _, v := range vs {
		out.Versions = append(out.Versions, strconv.Itoa(v.Version))
	}
	slices.SortFunc(out.Versions, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	httpx.WriteJSON(w, http.StatusOK, out)
}

// Inputs lists a schema's input tensors: one per feature column, in schema
// order, of shape [-1] (one element per row).
func Inputs(sc schema.Schema) []TensorMetadata {
	var out []TensorMetadata
	for _, i := range sc.Features() {
		c := sc.Columns[i]
		out = append(out, TensorMetadata{Name: c.Name, Datatype: Datatype(c.Type), Shape: []int64{-1}})
	}
	return out
}

// Outputs lists a model's output tensors: label (BYTES [-1]) and
// probabilities (FP64 [-1, classes]) for classification, value (FP64 [-1])
// for regression. classes is 0 for regression.
func Outputs(sc schema.Schema, classes int) []TensorMetadata {
	t := sc.Columns[sc.TargetIndex()].Type
	if t == schema.Number || t == schema.Integer {
		return []TensorMetadata{{Name: OutputValue, Datatype: FP64, Shape: []int64{-1}}}
	}
	k := int64(classes)
	if k == 0 {
		k = -1
	}
	return []TensorMetadata{
		{Name: OutputLabel, Datatype: BYTES, Shape: []int64{-1}},
		{Name: OutputProbabilities, Datatype: FP64, Shape: []int64{-1, k}},
	}
}

func (s *Server) handleModelReady(w http.ResponseWriter, r *http.Request) {
	md, err := s.resolveRequest(r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusServiceUnavailable {
			httpx.WriteJSON(w, e.Status, map[string]any{"name": r.PathValue("name"), "ready": false, "error": e.Message})
			return
		}
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"name": md.name, "ready": true})
}
