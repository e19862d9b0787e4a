package api

import (
	"net/http"
	"slices"

	"github.com/mlserve/mlserve/internal/httpx"
)

// corsMaxAge is how long (seconds) a browser may cache a preflight answer.
const corsMaxAge = "600"

// cors lets browsers on the configured origins call a prediction route:
// it adds Access-Control-Allow-Origin to answers for an allowed Origin.
// Without configured origins it is not mounted at all.
func (s *Server) cors(next http.Handler) http.Handler {
	if len(s.corsOrigins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o, ok := s.allowedOrigin(r); ok {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
			if o != "*" {
				h.Add("Vary", "Origin")
			}
		}
		next.ServeHTTP(w, r)
	})
}

// allowedOrigin returns the Access-Control-Allow-Origin value for r's
// Origin, if it is allowed.
func (s *Server) allowedOrigin(r *http.Request) (string, bool) {
	o := r.Header.Get("Origin")
	switch {
	case o == "":
		return "", false
	case slices.Contains(s.corsOrigins, "*"):
		return "*", true
	case slices.Contains(s.corsOrigins, o):
		return o, true
	}
	return "", false
}

// preflight answers a CORS preflight (OPTIONS) for a route that allows
// methods.
func (s *Server) preflight(methods string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o, ok := s.allowedOrigin(r)
		if !ok {
			s.writeErr(w, r, httpx.Errorf(http.StatusForbidden, "origin_not_allowed",
				"origin %q may not call this route; the allowed origins are set by MLSERVE_CORS_ORIGINS", r.Header.Get("Origin")))
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", o)
		if o != "*" {
			h.Add("Vary", "Origin")
		}
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", "Content-Type, X-Request-Id")
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	}
}
