// Package api is the api role's own routes: predictions from the served
// production models (internal/served) on the prototype's GET / route and
// /v1 predict, and the registry routes (models, versions, promote,
// rollback, runs). The Open Inference Protocol is its sibling, internal/oip.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"

	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/features"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/served"
	"github.com/mlserve/mlserve/internal/serving/nethttp"
	"github.com/mlserve/mlserve/internal/store"
)

// Pipeline is what the api knows of a configured pipeline.
type Pipeline struct {
	Name   string
	Schema schema.Schema
}

// Enqueuer starts training runs (the job queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, pipeline, reason string) (*store.Run, error)
}

// Server serves the api role's routes.
type Server struct {
	pipelines   []Pipeline
	byName      map[string]*Pipeline
	models      *served.Models
	registry    *registry.Registry
	store       store.Store
	queue       Enqueuer
	logger      *slog.Logger
	maxBody     int64
	maxBatch    int
	corsOrigins []string
	// protoArgs are the feature columns of the first pipeline: the
	// prototype route's "args".
	protoArgs []string
	schemaOf  func(pipeline string) (schema.Schema, bool)
}

// Config configures a Server.
type Config struct {
	Pipelines []Pipeline // the first is the default of GET /
	Models    *served.Models
	Registry  *registry.Registry
	Store     store.Store
	// Queue, if set, serves POST /v1/pipelines/{name}/runs.
	Queue  Enqueuer
	Logger *slog.Logger
	// MaxBody caps request bodies (default config.DefaultMaxBody); MaxBatch caps instances
	// per predict request (default config.DefaultMaxBatch).
	MaxBody  int64
	MaxBatch int
	// CORSOrigins are the browser origins allowed to call GET / and the
	// predict routes ("*": any). Empty: no CORS headers, no preflight route.
	CORSOrigins []string
	// Schema, if set, is a pipeline's current schema (its spec may change
	// while the process runs), shown by GET /v1/models/{name}; Pipelines'
	// is the fallback.
	Schema func(pipeline string) (schema.Schema, bool)
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{
		pipelines: cfg.Pipelines, byName: map[string]*Pipeline{}, models: cfg.Models,
		registry: cfg.Registry, store: cfg.Store, queue: cfg.Queue, logger: cfg.Logger,
		maxBody: cfg.MaxBody, maxBatch: cfg.MaxBatch, corsOrigins: cfg.CORSOrigins, schemaOf: cfg.Schema,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.maxBody == 0 {
		s.maxBody = config.DefaultMaxBody
	}
	if s.maxBatch == 0 {
		s.maxBatch = config.DefaultMaxBatch
	}
	for i := range s.pipelines {
		s.byName[s.pipelines[i].Name] = &s.pipelines[i]
	}
	if len(s.pipelines) > 0 {
		sc := s.pipelines[0].Schema
		for _, i := range sc.Features() {
			s.protoArgs = append(s.protoArgs, sc.Columns[i].Name)
		}
		slices.Sort(s.protoArgs)
	}
	return s
}

// The prediction routes' patterns (see ServingRoutes): both engines label
// their metrics with them.
const (
	routePrototype   = "GET /{$}"
	routePredictGet  = "GET /v1/models/{name}/predict"
	routePredictPost = "POST /v1/models/{name}/predict"
)

// Routes mounts the api role's routes on mux. admin wraps the write routes.
func (s *Server) Routes(mux *http.ServeMux, admin func(http.Handler) http.Handler) {
	// GET routes answer HEAD too (net/http drops the body).
	nethttp.Mount(mux, s.ServingRoutes(), nethttp.Options{Logger: s.logger, MaxBody: s.maxBody}, s.cors)
	if len(s.corsOrigins) > 0 {
		mux.HandleFunc("OPTIONS /{$}", s.preflight("GET, HEAD"))
		mux.HandleFunc("OPTIONS /v1/models/{name}/predict", s.preflight("GET, HEAD, POST"))
	}
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("GET /v1/models/{name}", s.handleModel)
	mux.HandleFunc("GET /v1/models/{name}/versions", s.handleVersions)
	mux.HandleFunc("GET /v1/models/{name}/versions/{v}", s.handleVersion)
	mux.Handle("GET /v1/models/{name}/versions/{v}/artifact", admin(http.HandlerFunc(s.handleArtifact)))
	mux.HandleFunc("GET /v1/models/{name}/promotions", s.handlePromotions)
	mux.Handle("POST /v1/models/{name}/versions/{v}/promote", admin(http.HandlerFunc(s.handlePromote)))
	mux.Handle("POST /v1/models/{name}/rollback", admin(http.HandlerFunc(s.handleRollback)))
	mux.Handle("POST /v1/pipelines/{name}/runs", admin(http.HandlerFunc(s.handleTrain)))
	mux.HandleFunc("GET /v1/runs", s.handleRuns)
	mux.HandleFunc("GET /v1/runs/{id}", s.handleRun)
}

func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(w, r, s.logger, err)
}

// pipeline returns the named pipeline or a 404 listing the known ones.
func (s *Server) pipeline(name string) (*Pipeline, error) {
	p, ok := s.byName[name]
	if !ok {
		names := make([]string, len(s.pipelines))
		for i, p := range s.pipelines {
			names[i] = p.Name
		}
		return nil, httpx.Errorf(http.StatusNotFound, "model_not_found", "no model named %q; models: %v", name, names)
	}
	return p, nil
}

// lookup returns the named pipeline and its production model; the error is
// a 404 for an unknown pipeline (nil pipeline) or a 503 that says how to get
// a model.
func (s *Server) lookup(name string) (*Pipeline, *served.Served, error) {
	p, err := s.pipeline(name)
	if err != nil {
		return nil, nil, err
	}
	sv := s.models.Get(name)
	if sv == nil {
		if err := s.models.LoadError(name); err != nil {
			return p, nil, &httpx.Error{Status: http.StatusServiceUnavailable, Code: "model_unloadable", RetryAfter: httpx.RetryAfter, Message: err.Error()}
		}
		return p, nil, &httpx.Error{Status: http.StatusServiceUnavailable, Code: "no_model", RetryAfter: httpx.RetryAfter,
			Message: fmt.Sprintf("pipeline %s has no production model yet: ingest rows (POST /v1/datasets/%s/rows or `mlserve ingest-file %s FILE.csv`), then train (`mlserve train %s --wait`); the first model is promoted automatically", name, name, name, name)}
	}
	return p, sv, nil
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	out := make([]any, 0, len(s.pipelines))
	for _, p := range s.pipelines {
		m, err := s.modelInfo(r.Context(), &p, false)
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		out = append(out, m)
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"models": out})
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	p, err := s.pipeline(r.PathValue("name"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	m, err := s.modelInfo(r.Context(), p, true)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, m)
}

// ModelInfo is the answer of GET /v1/models/{name}.
type ModelInfo struct {
	Name              string            `json:"name"`
	Task              ml.Task           `json:"task,omitempty"`
	Schema            *schema.Schema    `json:"schema,omitempty"`
	ProductionVersion *int              `json:"production_version"`
	Production        *apitypes.Version `json:"production"`
	// ServedVersion is the version this process serves (it may lag the
	// registry by a few seconds).
	ServedVersion *int `json:"served_version"`
	// FeatureImportance maps input columns to their share of the model's
	// importance, when the algorithm reports it.
	FeatureImportance map[string]float64 `json:"feature_importance,omitempty"`
	// Params are the production model's resolved params.
	Params ml.Params `json:"params,omitempty"`
}

func (s *Server) modelInfo(ctx context.Context, p *Pipeline, full bool) (*ModelInfo, error) {
	sc := p.Schema
	if s.schemaOf != nil {
		if cur, ok := s.schemaOf(p.Name); ok {
			sc = cur
		}
	}
	mi := &ModelInfo{Name: p.Name, Task: features.TaskOf(sc)}
	if full {
		mi.Schema = &sc
	}
	prod, err := s.store.VersionProduction(ctx, p.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("read production version of %s: %w", p.Name, err)
	default:
		mi.ProductionVersion, mi.Production = &prod.Version, storeconv.Version(prod)
	}
	if sv := s.models.Get(p.Name); sv != nil {
		v := sv.Version.Version
		mi.ServedVersion = &v
		mi.Task = sv.Model.Task()
		if full {
			mi.Params = sv.Model.Artifact.Params
			mi.FeatureImportance = sv.Model.Importance()
		}
	}
	return mi, nil
}

func (s *Server) handleVersions(w http.ResponseWriter, r *http.Request) {
	p, err := s.pipeline(r.PathValue("name"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	vs, err := s.store.VersionList(r.Context(), p.Name)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, storeconv.VersionList(vs))
}

func (s *Server) handlePromotions(w http.ResponseWriter, r *http.Request) {
	p, err := s.pipeline(r.PathValue("name"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	ps, err := s.store.PromotionList(r.Context(), p.Name)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, storeconv.PromotionList(ps))
}

func actor(r *http.Request) string { return "api:" + r.RemoteAddr }

func (s *Server) handlePromote(w http.ResponseWriter, r *http.Request) {
	p, err := s.pipeline(r.PathValue("name"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	v, err := strconv.Atoi(r.PathValue("v"))
	if err != nil || v < 1 {
		s.writeErr(w, r, &httpx.Error{Status: http.StatusBadRequest, Code: "bad_request",
			Message: "version must be a positive whole number", Fields: map[string]string{"v": "must be a positive whole number"}})
		return
	}
	pr, err := s.registry.Promote(r.Context(), p.Name, v, actor(r), r.URL.Query().Get("reason"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.reloadNow(r.Context())
	httpx.WriteJSON(w, http.StatusOK, storeconv.Promotion(pr))
}

func (s *Server) handleRollback(w http.ResponseWriter, r *http.Request) {
	p, err := s.pipeline(r.PathValue("name"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	pr, err := s.registry.Rollback(r.Context(), p.Name, actor(r), r.URL.Query().Get("reason"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.reloadNow(r.Context())
	httpx.WriteJSON(w, http.StatusOK, storeconv.Promotion(pr))
}

// reloadNow swaps the new production in before answering, so the caller's
// next prediction already sees it.
func (s *Server) reloadNow(ctx context.Context) {
	if err := s.models.Reload(ctx); err != nil {
		s.logger.WarnContext(ctx, "reload after registry change failed", "err", err)
	}
}

func (s *Server) handleTrain(w http.ResponseWriter, r *http.Request) {
	p, err := s.pipeline(r.PathValue("name"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if s.queue == nil {
		s.writeErr(w, r, httpx.Errorf(http.StatusServiceUnavailable, "unavailable", "this process has no job queue"))
		return
	}
	run, err := s.queue.Enqueue(r.Context(), p.Name, store.ReasonManual)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, storeconv.Run(run))
}

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		s.writeErr(w, r, &httpx.Error{Status: http.StatusBadRequest, Code: "bad_request",
			Message: "run id must be a positive whole number", Fields: map[string]string{"id": "must be a positive whole number"}})
		return
	}
	run, err := s.store.RunGet(r.Context(), id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, storeconv.Run(run))
}

func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("pipeline")
	if name != "" {
		if _, err := s.pipeline(name); err != nil {
			s.writeErr(w, r, err)
			return
		}
	}
	runs, err := s.store.RunList(r.Context(), &store.RunListParams{Pipeline: name})
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, storeconv.RunList(runs))
}
