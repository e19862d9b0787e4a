// Package nethttp serves a serving.Route on net/http: the handler the
// net/http mux mounts at the route's Pattern. The fasthttp server
// (internal/fasthttpserver) serves the same Route from the same Pattern,
// so each hot route is written once, in its domain package, and both
// engines answer it alike: the path's values, query, headers and request
// id handed to the route, a POST's body read whole within the body limit
// and the server's body budget first, the route's Reply written as
// httpx.WriteReply writes it (its model, version and rows noted for the
// request metrics).
package nethttp

import (
	"log/slog"
	"net/http"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/serving"
)

// Options configure the handler of a route.
type Options struct {
	// Logger receives the failures to read a body (see httpx.Report).
	Logger *slog.Logger
	// MaxBody caps a POST's body; 0 means config.DefaultMaxBody.
	MaxBody int64
	// ErrorBody, when set, may write the answer to a body that could not
	// be read in the error form of the protocol the route belongs to: it
	// returns the body for e, or nil to keep the JSON error envelope (the
	// fasthttp server's Options.ErrorBody, so both engines answer alike).
	ErrorBody func(path []byte, e *httpx.Error) []byte
}

// Handler returns the net/http handler of rt, to mount at rt.Pattern. It
// panics when rt.Pattern is not one serving.Split accepts, as
// http.ServeMux.Handle does for a pattern it cannot read: routes are
// written in code.
func Handler(rt serving.Route, o Options) http.Handler {
	method, _, err := serving.Split(rt.Pattern)
	if err != nil {
		panic(err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = config.DefaultMaxBody
	}
	return &handler{rt: rt, post: method == http.MethodPost, names: serving.Wildcards(rt.Pattern), o: o}
}

// Mount mounts each of routes on mux at its pattern, through wrap when
// wrap is not nil (a route's CORS headers, say).
func Mount(mux *http.ServeMux, routes []serving.Route, o Options, wrap func(http.Handler) http.Handler) {
	for _, rt := range routes {
		h := Handler(rt, o)
		if wrap != nil {
			h = wrap(h)
		}
		mux.Handle(rt.Pattern, h)
	}
}

type handler struct {
	rt    serving.Route
	post  bool
	names []string // the pattern's wildcards, in order
	o     Options
}

// exchange is a request's view, body and reply, pooled.
type exchange struct {
	r    serving.Request
	body []byte
	rp   httpx.Reply
}

var exchanges = serving.NewPool(func(x *exchange) bool {
	x.r = serving.Request{} // no request kept alive by the pool
	x.rp.Reset()
	x.body = x.body[:0]
	return cap(x.body) <= serving.MaxKeep && cap(x.rp.Body) <= serving.MaxKeep
})

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := exchanges.Get()
	defer exchanges.Put(x)
	x.r = serving.Request{Context: r.Context(), RawQuery: r.URL.RawQuery, ID: httpx.RequestID(r), Headers: r.Header}
	for i, name := range h.names {
		x.r.Values[i] = r.PathValue(name)
	}
	if h.post {
		var err error
		if x.body, err = httpx.ReadRequestBody(x.body[:0], r, h.o.MaxBody); err != nil {
			e := httpx.Report(r.Context(), h.o.Logger, err, x.r.ID, "method", r.Method, "path", r.URL.Path)
			x.rp.SetError(e)
			if h.o.ErrorBody != nil {
				if b := h.o.ErrorBody([]byte(r.URL.Path), e); b != nil {
					x.rp.Body = b
				}
			}
			httpx.WriteReply(w, r, &x.rp)
			return
		}
		x.r.Body = x.body
	}
	h.rt.Serve(&x.r, &x.rp)
	httpx.WriteReply(w, r, &x.rp)
}
