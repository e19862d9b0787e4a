// Package serving is the serving core both HTTP engines share: the table of
// routes a domain package (internal/api, internal/oip) answers without
// net/http, and the view of a request such a route sees. It imports no
// engine: internal/serving/nethttp mounts a route on the net/http mux by
// its Pattern, and the fasthttp server (internal/fasthttpserver) derives
// the method and path it matches from the same Pattern, so a route is
// written once and both engines serve it.
package serving

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlserve/mlserve/internal/httpx"
)

// Route is a route answered without net/http.
type Route struct {
	// Pattern is the route as net/http's ServeMux reads it: a method (GET
	// or POST), a space and a path whose wildcards ("{name}") are whole
	// segments, at most MaxValues of them, and which may end in "{$}"
	// ("POST /v2/models/{name}/versions/{version}/infer", "GET /{$}").
	// It also names the route in metrics and logs.
	Pattern string
	// Serve answers r into rp.
	Serve func(r *Request, rp *httpx.Reply)
}

// MaxValues is the most wildcards a route's pattern may hold.
const MaxValues = 2

// Request is what a route sees of a request. Its strings and body may
// share the connection's buffers, which its next request overwrites: they
// are only valid until Serve returns. Whatever outlives the request (the
// Reply's Model, a cache key, a log kept for later, an error, a goroutine)
// must hold a copy, or better the configured string a value names (a
// lookup among the served models), never one of these strings.
type Request struct {
	// Context is the request's context.
	Context context.Context
	// Values are the path's values in the places of the pattern's
	// wildcards, in order (the others empty).
	Values   [MaxValues]string
	RawQuery string // the query string as sent, without '?'
	Body     []byte // the whole body (within the server's body limit)
	// ID is the request's id, as the answer's X-Request-Id header says it.
	ID string
	// Headers gives the request's headers; nil when it has none.
	Headers Headers
}

// Headers reads a request's headers.
type Headers interface {
	// Get returns the value of header name, or "" when there is none.
	Get(name string) string
}

// Header returns the value of the request's header name, or "" when it has
// none.
func (r *Request) Header(name string) string {
	if r.Headers == nil {
		return ""
	}
	return r.Headers.Get(name)
}

// Wildcards returns the names of pattern's wildcards, in order
// ("POST /v2/models/{name}/versions/{version}/infer" → "name", "version"):
// the names net/http's Request.PathValue takes. pattern is one Split
// accepts.
func Wildcards(pattern string) []string {
	_, path, _ := strings.Cut(pattern, " ")
	var names []string
	for s := range strings.SplitSeq(path, "/") {
		if len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' && s != "{$}" {
			names = append(names, s[1:len(s)-1])
		}
	}
	return names
}

// Split returns the method of pattern and its path with each wildcard
// replaced by "{}" ("GET /v1/models/{name}/predict" → "GET",
// "/v1/models/{}/predict"; a final "{$}" is dropped: "GET /{$}" → "/"),
// or an error saying which rule pattern breaks.
func Split(pattern string) (method, path string, err error) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method != "GET" && method != "POST" {
		return "", "", fmt.Errorf("route %q: want a pattern starting with GET or POST and a space", pattern)
	}
	if !strings.HasPrefix(path, "/") {
		return "", "", fmt.Errorf("route %q: path does not start with /", pattern)
	}
	segs := strings.Split(path[1:], "/")
	n := 0
	for i, s := range segs {
		if !strings.ContainsAny(s, "{}") {
			continue
		}
		switch {
		case s == "{$}" && i == len(segs)-1:
			segs[i] = ""
		case len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' && !strings.ContainsAny(s[1:len(s)-1], "{}.$"):
			segs[i] = "{}"
			n++
		default:
			return "", "", fmt.Errorf("route %q: segment %q: each wildcard must be a whole segment {name}", pattern, s)
		}
	}
	if n > MaxValues {
		return "", "", fmt.Errorf("route %q: more than %d wildcards", pattern, MaxValues)
	}
	return method, "/" + strings.Join(segs, "/"), nil
}
