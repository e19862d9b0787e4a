package oip_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/apitest"
	"github.com/mlserve/mlserve/internal/fasthttpserver"
	"github.com/mlserve/mlserve/internal/httpx"
)

// BenchmarkInfer measures POST /v2/models/titanic/infer for 1 and 1,000
// rows without the network: through the net/http handler (middleware,
// decoding, coercion, prediction, encoding), through the fasthttp server's
// handler as `mlserve api` serves it, and through that front's adaptor to
// the net/http handler (the route's path before it was a hot route).
func BenchmarkInfer(b *testing.B) {
	env := apitest.Start(b, apitest.Options{})
	d := env.Data["titanic"]
	front, err := fasthttpserver.Listen("127.0.0.1:0", env.Handler, env.Hot, fasthttpserver.Options{Limits: httpx.DefaultLimits})
	if err != nil {
		b.Fatal(err)
	}
	// The same front without hot routes: infer through fasthttp's adaptor
	// to the net/http handler, as before infer had a hot route.
	adapted, err := fasthttpserver.Listen("127.0.0.1:0", env.Handler, nil, fasthttpserver.Options{Limits: httpx.DefaultLimits})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 1000} {
		recs := make([]int, n)
		for i := range recs {
			recs[i] = i % len(d.Records)
		}
		req := body(b, map[string]any{"inputs": tensors(b, d, recs)})
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/v2/models/titanic/infer", strings.NewReader(req))
				w := httptest.NewRecorder()
				env.Handler.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(fmt.Sprintf("adaptor/rows=%d", n), func(b *testing.B) {
			apitest.BenchFront(b, adapted.Handler(), http.MethodPost, "/v2/models/titanic/infer", req)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(fmt.Sprintf("fasthttp/rows=%d", n), func(b *testing.B) {
			apitest.BenchFront(b, front.Handler(), http.MethodPost, "/v2/models/titanic/infer", req)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
