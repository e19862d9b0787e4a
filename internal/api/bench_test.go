package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/apitest"
	"github.com/mlserve/mlserve/internal/fasthttpserver"
	"github.com/mlserve/mlserve/internal/httpx"
)

// The serving benchmarks drive the real handler (middleware, mux, api) with
// a reused request and a writer that keeps nothing, so that allocs/op is
// what the server does per request. `make bench-serving` measures the same
// routes over HTTP with wrk.

// benchWriter is a ResponseWriter that counts the answer and keeps its
// header map between requests.
type benchWriter struct {
	h      http.Header
	status int
	n      int
	body   []byte // last answer, when keep is set
	keep   bool
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	if w.keep {
		w.body = append(w.body, p...)
	}
	return len(p), nil
}

func (w *benchWriter) reset() {
	clear(w.h)
	w.status, w.n, w.body = 0, 0, w.body[:0]
}

// rewindBody is a request body that can be replayed.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// benchInstances returns a predict body with n titanic instances.
func benchInstances(n int) string {
	var sb strings.Builder
	sb.WriteString(`{"instances": [`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sex := "male"
		if i%2 == 1 {
			sex = "female"
		}
		age := fmt.Sprintf("%g", float64(i%80)+0.5)
		if i%7 == 0 {
			age = "null"
		}
		fmt.Fprintf(&sb, `{"class": %d, "sex": %q, "age": %s, "embarked": "%c"}`, 1+i%3, sex, age, "CSQ"[i%3])
	}
	sb.WriteString("]}")
	return sb.String()
}

func benchServe(b *testing.B, method, target, body string) {
	_, tb := setup(b)
	req, err := http.NewRequest(method, "http://127.0.0.1"+target, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	// as on a connection of httpx.Server: Middleware reuses its state
	req = req.WithContext(httpx.ConnContext(req.Context(), nil))
	var rb *rewindBody
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		rb = &rewindBody{}
		req.Body = rb
		req.ContentLength = int64(len(body))
	}
	w := &benchWriter{h: http.Header{}}
	serve := func() {
		if rb != nil {
			rb.Reset([]byte(body))
			req.Body = rb // the handler wraps it (http.MaxBytesReader)
		}
		w.reset()
		tb.handler.ServeHTTP(w, req)
	}
	w.keep = true
	serve()
	if w.status != http.StatusOK {
		b.Fatalf("%s %s: status %d: %s", method, target, w.status, w.body)
	}
	w.keep = false
	b.SetBytes(int64(w.n))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve()
	}
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
}

// BenchmarkServe measures one request through the api's handler.
func BenchmarkServe(b *testing.B) {
	const query = "class=1&sex=male&age=22&embarked=S"
	// hello is the bench peer hello.go's handler (a fixed JSON answer on a
	// bare ServeMux) in the same rig: the floor the others compare with.
	b.Run("hello", func(b *testing.B) {
		body := []byte(`{"data":{"result":0.5},"message":{"status_code":200,"status_message":"OK"}}` + "\n")
		mux := http.NewServeMux()
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		w := &benchWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			mux.ServeHTTP(w, req)
		}
	})
	requests := []struct{ name, method, target, body string }{
		{"prototype", http.MethodGet, "/?" + query, ""},
		{"predict_get", http.MethodGet, "/v1/models/titanic/predict?" + query, ""},
		{"predict_post_1", http.MethodPost, "/v1/models/titanic/predict", `{"class": 1, "sex": "male", "age": 22, "embarked": "S"}`},
		{"predict_post_1000", http.MethodPost, "/v1/models/titanic/predict", benchInstances(1000)},
	}
	for _, rq := range requests {
		b.Run(rq.name, func(b *testing.B) { benchServe(b, rq.method, rq.target, rq.body) })
	}
	// The same requests through the fasthttp server's handler, as `mlserve api`
	// serves them, without net/http.
	for _, rq := range requests {
		b.Run("fasthttp/"+rq.name, func(b *testing.B) { benchFront(b, rq.method, rq.target, rq.body) })
	}
}

func benchFront(b *testing.B, method, target, body string) {
	srv, tb := setup(b)
	front, err := fasthttpserver.Listen("127.0.0.1:0", tb.handler, srv.ServingRoutes(),
		fasthttpserver.Options{Observe: tb.metrics.Request, Limits: httpx.DefaultLimits})
	if err != nil {
		b.Fatal(err)
	}
	apitest.BenchFront(b, front.Handler(), method, target, body)
}
