package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/store"
)

// version reads the {name} and {v} of a version route and returns the
// stored version: 404 for an unknown pipeline or version, 400 for a {v}
// that is no version number.
func (s *Server) version(r *http.Request) (*store.Version, error) {
	p, err := s.pipeline(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	v, err := strconv.Atoi(r.PathValue("v"))
	if err != nil || v < 1 {
		return nil, &httpx.Error{Status: http.StatusBadRequest, Code: "bad_request",
			Message: "version must be a positive whole number", Fields: map[string]string{"v": "must be a positive whole number"}}
	}
	return s.store.VersionGet(r.Context(), p.Name, v)
}

// handleVersion answers GET /v1/models/{name}/versions/{v}: the version
// with its model's algorithm, params, lineage, training statistics and
// importances or coefficients, read from its verified artifact.
func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	v, err := s.version(r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	m, err := s.registry.Load(r.Context(), v)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, storeconv.VersionDetail(v, m))
}

// handleArtifact answers GET /v1/models/{name}/versions/{v}/artifact (an
// admin route): the artifact's canonical bytes, verified against the
// version's artifact_sha256, so a user can keep or move the model.
func (s *Server) handleArtifact(w http.ResponseWriter, r *http.Request) {
	v, err := s.version(r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	data, err := s.registry.Artifact(r.Context(), v)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-v%d.json"`, v.Pipeline, v.Version))
	h.Set("ETag", `"`+v.ArtifactSHA256+`"`)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}
