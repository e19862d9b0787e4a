package apitest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/fasthttpserver"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/serving"
)

// EngineEnv picks the HTTP server of the test servers: "fasthttp" (the
// default: what `mlserve api` runs) or "net/http" (what `mlserve up` and
// MLSERVE_HTTP_ENGINE=net/http run). scripts/test.sh runs the api suites
// under both.
const EngineEnv = "MLSERVE_TEST_HTTP_ENGINE"

// Engine returns the engine EngineEnv picks.
func Engine(t testing.TB) string {
	switch e := os.Getenv(EngineEnv); e {
	case "", config.EngineFastHTTP:
		return config.EngineFastHTTP
	case config.EngineNetHTTP:
		return e
	default:
		t.Fatalf("%s=%q: want %s or %s", EngineEnv, e, config.EngineFastHTTP, config.EngineNetHTTP)
		return ""
	}
}

// Serve serves handler on a loopback port until the test ends and returns
// its base URL: on the fasthttp server with the hot routes fast, as `mlserve
// api` does, or on net/http with the per-connection request state of
// httpx's servers, as Engine picks. o's Limits default to
// httpx.DefaultLimits.
func Serve(t testing.TB, handler http.Handler, fast []serving.Route, o fasthttpserver.Options) string {
	t.Helper()
	if Engine(t) == config.EngineNetHTTP {
		hs := httptest.NewUnstartedServer(handler)
		hs.Config.ConnContext = httpx.ConnContext // as httpx.Server: per-connection request state
		hs.Start()
		t.Cleanup(hs.Close)
		return hs.URL
	}
	if o.Limits == (httpx.Limits{}) {
		o.Limits = httpx.DefaultLimits
	}
	srv, err := fasthttpserver.Listen("127.0.0.1:0", handler, fast, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fasthttp server: %v", err)
		}
	})
	return "http://" + srv.Addr()
}

// BenchFront benchmarks one request through a fasthttp server's handler (see
// fasthttpserver.Server.Handler), without a connection: the request is built
// once and answered b.N times, so allocs/op is the server's own. The
// answer must be a 200.
func BenchFront(b *testing.B, h fasthttp.RequestHandler, method, target, body string) {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(target)
	req.Header.SetHost("127.0.0.1")
	if body != "" {
		req.Header.SetContentType("application/json")
		req.SetBodyString(body)
	}
	var c fasthttp.RequestCtx
	c.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	h(&c)
	if c.Response.StatusCode() != http.StatusOK {
		b.Fatalf("%s %s: status %d: %s", method, target, c.Response.StatusCode(), c.Response.Body())
	}
	b.SetBytes(int64(len(c.Response.Body())))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.Response.Reset()
		h(&c)
	}
	if c.Response.StatusCode() != http.StatusOK {
		b.Fatalf("status %d", c.Response.StatusCode())
	}
}
