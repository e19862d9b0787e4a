package httpx

import (
	"net/http"
	"strings"
)

// probeMethods are the methods Allowed tries, in the order an Allow header
// lists them.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// Allowed returns the methods that mux routes to a method-specific pattern
// for r's path: what an Allow header should list when r's own method is not
// among them. HEAD is allowed wherever GET is.
func Allowed(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	probe := r.Clone(r.Context())
	for _, m := range probeMethods {
		probe.Method = m
		_, pattern := mux.Handler(probe)
		want := m
		if m == http.MethodHead {
			want = http.MethodGet
		}
		if strings.HasPrefix(pattern, want+" ") {
			out = append(out, m)
		}
	}
	return out
}

// Fallback mounts a catch-all on mux so that requests no route takes get
// the JSON error envelope instead of Go's plain-text answers: 405 with an
// Allow header when the path has routes for other methods, 404 otherwise.
// Mount it once, on the mux that serves every route.
func Fallback(mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := Allowed(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			WriteJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": Errorf(http.StatusMethodNotAllowed, "method_not_allowed",
				"%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", "))})
			return
		}
		WriteJSON(w, http.StatusNotFound, map[string]any{"error": Errorf(http.StatusNotFound, "not_found",
			"no route %s %s; GET /openapi.json lists the routes", r.Method, r.URL.Path)})
	})
}
