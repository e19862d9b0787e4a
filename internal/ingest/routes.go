package ingest

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/store"
)

// DefaultMaxBody is the default request body limit of the rows route.
const DefaultMaxBody = 64 << 20

// Routes mounts the ingest role's routes on mux:
//
//	POST /v1/datasets/{name}/rows  (JSON array, NDJSON or CSV; Idempotency-Key)
//	GET  /v1/datasets/{name}
//	GET  /v1/datasets/{name}/quarantine?limit=N&cursor=C
//	POST /v1/datasets/{name}/quarantine/replay
//
// admin wraps the write routes and the quarantine, which holds raw user
// rows (authorisation).
func (s *Service) Routes(mux *http.ServeMux, maxBody int64, admin func(http.Handler) http.Handler) {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	mux.Handle("POST /v1/datasets/{name}/rows", admin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.handleRows(w, r, maxBody)
	})))
	mux.HandleFunc("GET /v1/datasets/{name}", s.handleInfo)
	mux.Handle("GET /v1/datasets/{name}/quarantine", admin(http.HandlerFunc(s.handleQuarantine)))
	mux.Handle("POST /v1/datasets/{name}/quarantine/replay", admin(http.HandlerFunc(s.handleReplay)))
}

func (s *Service) handleRows(w http.ResponseWriter, r *http.Request, maxBody int64) {
	name := r.PathValue("name")
	ctype := r.Header.Get("Content-Type")
	format := FormatOf(ctype)
	if format == "" {
		what := fmt.Sprintf("Content-Type %q is not supported", ctype)
		if ctype == "" {
			what = "Content-Type is missing"
		}
		s.writeErr(w, r, httpx.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"%s: send application/json (an array of objects), application/x-ndjson or text/csv", what))
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		s.writeErr(w, r, httpx.Errorf(http.StatusBadRequest, "bad_request", "Idempotency-Key is longer than 255 characters"))
		return
	}
	httpx.LimitBody(w, r, maxBody)
	res, err := s.Ingest(r.Context(), &Request{
		Pipeline: name, Format: format, Body: r.Body, Source: "http", IdempotencyKey: key,
	})
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	httpx.WriteJSON(w, status, storeconv.IngestAnswer(res))
}

func (s *Service) handleInfo(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := s.Schema(name); err != nil {
		s.writeErr(w, r, err)
		return
	}
	info, err := s.store.DatasetInfo(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		info = &store.DatasetInfo{Pipeline: name}
		err = nil
	}
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, storeconv.Dataset(info))
}

// writeErr writes err in the error envelope: the ingest's own errors (a
// bad body, an unknown pipeline) as they say, anything else as
// httpx.Classify maps it for every route. Only real storage unavailability
// is 503; an unknown error is ours, a 500 logged with the request id.
func (s *Service) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var bre *BadRequestError
	switch {
	case errors.As(err, &bre):
		err = &httpx.Error{Status: http.StatusBadRequest, Code: "bad_request", Message: bre.Msg, Fields: bre.Fields}
	case errors.Is(err, ErrUnknownPipeline):
		err = httpx.Errorf(http.StatusNotFound, "not_found", "%v; pipelines: %v", err, s.order)
	}
	httpx.WriteError(w, r, s.logger, err)
}
