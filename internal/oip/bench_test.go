package oip_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/apitest"
)

// BenchmarkInfer measures POST /v2/models/titanic/infer through the
// handler (middleware, decoding, coercion, prediction, encoding), without
// the network, for 1 and 1,000 rows.
func BenchmarkInfer(b *testing.B) {
	env := apitest.Start(b, apitest.Options{})
	d := env.Data["titanic"]
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
	}
}
