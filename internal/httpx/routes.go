package httpx

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// CacheLiteralRoutes serves mux, remembering for each literal GET route (a
// pattern without wildcards, such as "GET /{$}" or "GET /metrics") the
// handler it resolved to, so that later GET requests for the same path skip
// ServeMux's pattern matching. Only a request that mux resolved to a
// literal pattern whose path is exactly the request's is remembered, so the
// memory is bounded by the routes registered. mux must not have patterns
// with a host: a remembered route is served whatever the request's Host.
func CacheLiteralRoutes(mux *http.ServeMux) http.Handler {
	f := &literalRoutes{mux: mux}
	f.routes.Store(&map[string]literalRoute{})
	return f
}

type literalRoutes struct {
	mux    *http.ServeMux
	mu     sync.Mutex // serialises writers of routes
	routes atomic.Pointer[map[string]literalRoute]
}

// literalRoute is what a GET of a path resolved to.
type literalRoute struct {
	h       http.Handler
	pattern string
}

func (f *literalRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		f.mux.ServeHTTP(w, r)
		return
	}
	if rt, ok := (*f.routes.Load())[r.URL.Path]; ok {
		r.Pattern = rt.pattern
		rt.h.ServeHTTP(w, r)
		return
	}
	f.mux.ServeHTTP(w, r) // sets r.Pattern
	if path, ok := literalPath(r.Pattern); ok && path == r.URL.Path {
		f.learn(r, path)
	}
}

// literalPath returns the path of a "GET /path" pattern without wildcards
// ("{$}" at its end is allowed: it only anchors the path).
func literalPath(pattern string) (string, bool) {
	rest, ok := strings.CutPrefix(pattern, "GET /")
	if !ok {
		return "", false // another method, no method, or a host
	}
	rest = strings.TrimSuffix(rest, "{$}")
	if strings.IndexByte(rest, '{') >= 0 {
		return "", false
	}
	return "/" + rest, true
}

// learn remembers the route of r, a GET of the literal path.
func (f *literalRoutes) learn(r *http.Request, path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := *f.routes.Load()
	if _, ok := cur[path]; ok {
		return
	}
	h, pattern := f.mux.Handler(r)
	if pattern != r.Pattern {
		return
	}
	next := make(map[string]literalRoute, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[path] = literalRoute{h: h, pattern: pattern}
	f.routes.Store(&next)
}
