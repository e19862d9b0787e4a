package api_test

// The fasthttp server hands its hot routes (and, through fasthttp's adaptor,
// the net/http handler) strings that share the connection's buffers, which
// the connection's next request overwrites. These tests send over raw
// keep-alive connections and read GET /metrics, where such bytes surfaced:
// nothing a request sends may outlive it in the server's state.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// wire is one keep-alive connection to a test server, written byte for
// byte: a request target goes out as given, where net/http's client would
// escape it, refuse it or pool connections behind the test's back.
type wire struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
}

func newWire(t testing.TB, url string) *wire {
	w := &wire{addr: strings.TrimPrefix(url, "http://")}
	t.Cleanup(w.close)
	return w
}

func (w *wire) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// wireID is the X-Request-Id of every request a wire sends, so that an
// answer that carries the id (an infer answer without its own) is the same
// on every path.
const wireID = "wire-request"

// do sends one request (with a JSON body when it is a POST) and reads the
// answer. It dials when the connection is closed and closes it when the
// server says it will or anything fails.
func (w *wire) do(method, target string, body []byte) (*response, error) {
	if w.conn == nil {
		c, err := net.Dial("tcp", w.addr)
		if err != nil {
			return nil, err
		}
		w.conn, w.br = c, bufio.NewReader(c)
	}
	w.conn.SetDeadline(time.Now().Add(20 * time.Second))
	req := fmt.Appendf(nil, "%s %s HTTP/1.1\r\nHost: mlserve.test\r\nX-Request-Id: %s\r\n", method, target, wireID)
	if method == http.MethodPost {
		req = fmt.Appendf(req, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	req = append(append(req, "\r\n"...), body...)
	if _, err := w.conn.Write(req); err != nil {
		w.close()
		return nil, fmt.Errorf("%s %q: write: %w", method, target, err)
	}
	res, err := http.ReadResponse(w.br, &http.Request{Method: method})
	if err != nil {
		w.close()
		return nil, fmt.Errorf("%s %q: read the answer: %w", method, target, err)
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		w.close()
		return nil, fmt.Errorf("%s %q: read the body: %w", method, target, err)
	}
	if res.Close {
		w.close()
	}
	return &response{status: res.StatusCode, header: res.Header, body: data}, nil
}

func (w *wire) must(t testing.TB, method, target string, body []byte, status int) *response {
	t.Helper()
	r, err := w.do(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, target, r.status, status, r.body)
	}
	return r
}

// Valid requests for titanic (the test server's model).
const (
	predictQuery = "class=1&sex=F&age=22&embarked=S"
	predictBody  = `{"class": 1, "sex": "F", "age": 22, "embarked": "S"}`
	inferBody    = `{"inputs": [{"name": "class", "shape": [1], "datatype": "BYTES", "data": ["1"]}, ` +
		`{"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["female"]}, {"name": "age", "shape": [1], "datatype": "FP64", "data": [22]}]}`
)

// TestRequestBytesStayInRequest sends each hot route that names a model on
// a keep-alive connection, then a request whose target puts other bytes
// where the model's name was: the metrics must still say the model's name,
// and hold each series once, also after new connections add their own
// requests.
func TestRequestBytesStayInRequest(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	const secret = "HUNTER2" // as long as "titanic"
	routes := []struct {
		method, target string
		body           []byte
	}{
		{http.MethodPost, "/v2/models/titanic/infer", []byte(inferBody)},
		{http.MethodPost, "/v2/models/titanic/versions/2/infer", []byte(inferBody)},
		{http.MethodGet, "/v1/models/titanic/predict?" + predictQuery, nil},
		{http.MethodPost, "/v1/models/titanic/predict", []byte(predictBody)},
	}
	// overwrite is a target with text at the offset of the model's name in
	// target, shorter than target, so that the connection's buffer holds it
	// in the same place.
	overwrite := func(target, text string) string {
		off := strings.Index(target, "titanic")
		return "/" + strings.Repeat("a", off-1) + text
	}
	held := make([]*wire, len(routes))
	for i, rt := range routes {
		held[i] = newWire(t, b.url)
		held[i].must(t, rt.method, rt.target, rt.body, http.StatusOK)
		held[i].must(t, http.MethodGet, overwrite(rt.target, secret), nil, http.StatusNotFound)
	}
	text := scrape(t, b.url, nil)
	if strings.Contains(text, secret) {
		t.Errorf("GET /metrics holds bytes of a request it never counted (%s):\n%s", secret, grepLines(text, secret))
	}
	for _, rt := range routes {
		if !strings.Contains(text, fmt.Sprintf(`model="titanic",route=%q,status_class="2xx"`, rt.method+" "+patternOf(rt.target))) {
			t.Errorf("GET /metrics has no 2xx series of titanic on %s %s:\n%s", rt.method, patternOf(rt.target), grepLines(text, "mlserve_http_requests_total"))
		}
	}
	// New connections count the same requests; the held ones put the
	// model's name back where it was.
	for _, rt := range routes {
		newWire(t, b.url).must(t, rt.method, rt.target, rt.body, http.StatusOK)
	}
	for i, rt := range routes {
		held[i].must(t, http.MethodGet, overwrite(rt.target, "titanic"), nil, http.StatusNotFound)
	}
	scrape(t, b.url, nil)
}

// patternOf is the route pattern of a test target.
func patternOf(target string) string {
	switch path, _, _ := strings.Cut(target, "?"); {
	case strings.HasSuffix(path, "/predict"):
		return "/v1/models/{name}/predict"
	case strings.Contains(path, "/versions/"):
		return "/v2/models/{name}/versions/{version}/infer"
	default:
		return "/v2/models/{name}/infer"
	}
}

// grepLines returns the lines of text that hold s.
func grepLines(text, s string) string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// Label values the test server's request metrics may have: the
// configured pipelines, their registered versions, the status classes and
// the patterns of the routes the tests reach ("/" is the fallback that
// answers unknown routes 404; "unmatched" when no pattern matched at all).
// Anything else came from a request.
var knownLabels = map[string][]string{
	"model":        {"", "titanic", "sensors"},
	"version":      {"", "1", "2"},
	"status_class": {"1xx", "2xx", "3xx", "4xx", "5xx"},
	"route": {"unmatched", "/", "GET /{$}", "GET /v1/models/{name}/predict", "POST /v1/models/{name}/predict",
		"POST /v2/models/{name}/infer", "POST /v2/models/{name}/versions/{version}/infer", "GET /readyz", "GET /metrics",
		"GET /v1/models/{name}", "/v2", "/v2/"},
}

// maxRequestSeries bounds the series of mlserve_http_requests_total the
// tests may create: each has a known route, model, version and status
// class, and only some combinations happen (a model with a version only on
// the routes that serve one).
const maxRequestSeries = 80

// scrape GETs /metrics on a new connection and checks it: a 200, each
// series once, every label of mlserve's request metrics a known value,
// and at most maxRequestSeries series of mlserve_http_requests_total. A
// failure stops the test unless failed is set, which then counts it.
func scrape(t testing.TB, url string, failed *atomic.Int64) string {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		if failed == nil {
			t.Fatalf(format, args...)
		}
		if failed.Add(1) < 5 {
			t.Errorf(format, args...)
		}
	}
	w := &wire{addr: strings.TrimPrefix(url, "http://")}
	defer w.close()
	r, err := w.do(http.MethodGet, "/metrics", nil)
	if err != nil {
		fail("GET /metrics: %v", err)
		return ""
	}
	text := string(r.body)
	if r.status != http.StatusOK {
		fail("GET /metrics: status %d: %s", r.status, r.body)
		return text
	}
	seen := map[string]bool{}
	requestSeries := 0
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		key := line[:max(strings.LastIndexByte(line, ' '), 0)]
		if seen[key] {
			fail("GET /metrics has series %s twice", key)
		}
		seen[key] = true
		name, labels, err := parseSeries(key)
		if err != nil {
			fail("GET /metrics: %v", err)
			continue
		}
		if !strings.HasPrefix(name, "mlserve_http_") && name != "mlserve_predictions_total" {
			continue
		}
		if name == "mlserve_http_requests_total" {
			requestSeries++
		}
		for k, v := range labels {
			if known, ok := knownLabels[k]; ok && !slices.Contains(known, v) {
				fail("GET /metrics: series %s has %s %q, not a value the server knows (%q)", key, k, v, known)
			}
		}
	}
	if requestSeries > maxRequestSeries {
		fail("GET /metrics has %d series of mlserve_http_requests_total, want at most %d", requestSeries, maxRequestSeries)
	}
	return text
}

// parseSeries splits a series of the text exposition format,
// name{label="value",…}, into its name and labels.
func parseSeries(s string) (string, map[string]string, error) {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return s, nil, nil
	}
	name, rest := s[:i], s[i+1:]
	labels := map[string]string{}
	for rest != "}" {
		k, after, ok := strings.Cut(rest, `="`)
		if !ok {
			return "", nil, fmt.Errorf("series %q: no label after %q", s, rest)
		}
		var v strings.Builder
		j := 0
		for ; j < len(after) && after[j] != '"'; j++ {
			if after[j] == '\\' && j+1 < len(after) {
				j++
				if after[j] == 'n' {
					v.WriteByte('\n')
					continue
				}
			}
			v.WriteByte(after[j])
		}
		if j == len(after) {
			return "", nil, fmt.Errorf("series %q: label %s is not closed", s, k)
		}
		labels[k] = v.String()
		rest = strings.TrimPrefix(after[j+1:], ",")
	}
	return name, labels, nil
}

// loadOp is one request of the mixed load (TestMixedLoadMetrics) and of
// FuzzKeepAlive, made from bytes by nextOp.
type loadOp struct {
	conn           int // which of the shared connections sends it
	method, target string
	body           []byte
	model          string // the model the target names, if any
	// compare is set when the target is one net/http takes as it is: the
	// net/http handler, in process, must give the same answer.
	compare bool
}

// opReader hands out a fuzz input's bytes, zeros past its end.
type opReader struct{ b []byte }

func (r *opReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// text reads n bytes as text of alphabet: a byte in it stays, any other
// becomes one of it.
func (r *opReader) text(n int, alphabet string) string {
	out := make([]byte, n)
	for i := range out {
		c := r.byte()
		if strings.IndexByte(alphabet, c) < 0 {
			c = alphabet[int(c)%len(alphabet)]
		}
		out[i] = c
	}
	return string(out)
}

// The bytes a made-up path segment and query are drawn from: none that
// net/http would refuse, unescape or clean (%, a "." segment), so that the
// net/http handler can be asked the same.
const (
	segmentAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~!$&'()*+,;=:@"
	queryAlphabet   = "abcdefghijklmnopqrstuvwxyzFMSQC0123456789=&%+;,._-~/?"
	numOps          = 8 // kinds of loadOp
	numConns        = 3 // connections FuzzKeepAlive shares
)

// nextOp reads one request: a byte for the connection and the kind of
// request, one for the model (titanic, sensors, or made-up bytes), then
// what the kind needs (a query, a body, a version). Kind 6 sends raw bytes
// (any but the request line's separators) as a model's name, and is only
// held to "never a 5xx".
func nextOp(r *opReader) loadOp {
	c := r.byte()
	op := loadOp{conn: int(c) % numConns, compare: true}
	kind := int(c) / numConns % numOps
	switch m := r.byte() % 4; m {
	case 1:
		op.model = "sensors"
	case 2:
		op.model = r.text(int(r.byte())%12+1, segmentAlphabet)
	default:
		op.model = "titanic"
	}
	query := func() string { return r.text(int(r.byte())%32, queryAlphabet) }
	body := func(template, value string) []byte {
		switch r.byte() % 3 {
		case 1:
			n := int(r.byte())
			raw := make([]byte, n)
			for i := range raw {
				raw[i] = r.byte()
			}
			return raw
		case 2:
			v, _ := json.Marshal(r.text(int(r.byte())%16, segmentAlphabet+" \"\\é"))
			value = string(v)
		}
		return []byte(strings.Replace(template, `"F"`, value, 1))
	}
	switch kind {
	case 0:
		op.method, op.target = http.MethodGet, "/?"+query()
	case 1:
		op.method, op.target = http.MethodGet, "/v1/models/"+op.model+"/predict?"+query()
	case 2:
		op.method, op.target, op.body = http.MethodPost, "/v1/models/"+op.model+"/predict", body(predictBody, `"F"`)
	case 3:
		op.method, op.target, op.body = http.MethodPost, "/v2/models/"+op.model+"/infer", body(strings.Replace(inferBody, `"female"`, `"F"`, 1), `"female"`)
	case 4:
		v := [...]string{"1", "2", "9", ""}[r.byte()%4]
		if v == "" {
			v = r.text(int(r.byte())%6+1, segmentAlphabet)
		}
		op.method, op.target = http.MethodPost, "/v2/models/"+op.model+"/versions/"+v+"/infer"
		op.body = body(strings.Replace(inferBody, `"female"`, `"F"`, 1), `"female"`)
	case 5:
		op.method, op.target = http.MethodGet, "/readyz"
	case 7: // a route the net/http handler serves on the fasthttp server too
		op.method, op.target = http.MethodGet, "/v1/models/"+op.model
	case 6:
		n := int(r.byte())%16 + 1
		raw := make([]byte, n)
		for i := range raw {
			switch c := r.byte(); c {
			case ' ', '\r', '\n', '?', '#', '/':
				raw[i] = 'x'
			default:
				raw[i] = c
			}
		}
		op.model, op.compare = string(raw), false
		op.method, op.target = http.MethodGet, "/v1/models/"+op.model+"/predict"
		if r.byte()%2 == 1 {
			op.method, op.target, op.body = http.MethodPost, "/v2/models/"+op.model+"/infer", []byte(inferBody)
		}
	}
	return op
}

// checkOp sends op on w and checks the answer: a 2xx or 4xx (a 503 only
// for sensors, which has no model), and when op.compare the status,
// Retry-After and body the net/http handler gives in process.
func (b *testBundle) checkOp(w *wire, op loadOp) error {
	r, err := w.do(op.method, op.target, op.body)
	if err != nil {
		return err
	}
	if r.status >= 500 && !(r.status == http.StatusServiceUnavailable && op.model == "sensors") {
		return fmt.Errorf("%s %q %q: status %d: %s", op.method, op.target, op.body, r.status, r.body)
	}
	if !op.compare {
		return nil
	}
	hr := httptest.NewRequest(op.method, op.target, bytes.NewReader(op.body))
	hr.Header.Set("X-Request-Id", wireID)
	if op.method == http.MethodPost {
		hr.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, hr)
	if rec.Code != r.status || rec.Header().Get("Retry-After") != r.header.Get("Retry-After") || !bytes.Equal(rec.Body.Bytes(), r.body) {
		return fmt.Errorf("%s %q %q: on the connection %d (Retry-After %q) %s; on the net/http handler %d (Retry-After %q) %s",
			op.method, op.target, op.body, r.status, r.header.Get("Retry-After"), r.body, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	return nil
}

// soakEnv sets how long TestMixedLoadMetrics runs (a Go duration; 5s
// unless set). `make soak` runs it for 60s (SOAK=…).
const soakEnv = "MLSERVE_TEST_SOAK"

// TestMixedLoadMetrics sends a mixed load from several goroutines, each on
// a keep-alive connection it redials now and then: valid requests to
// every hot route, readiness, and made-up model names, versions, queries
// and bodies. Every answer is checked (checkOp), GET /metrics answers 200
// all along, and at the end its series are known and bounded (scrape).
func TestMixedLoadMetrics(t *testing.T) {
	t.Parallel()
	d := 5 * time.Second
	if s := os.Getenv(soakEnv); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a positive duration such as 60s", soakEnv, s)
		}
	}
	_, b := setup(t)
	deadline := time.Now().Add(d)
	var failed, sent atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			w := newWire(t, b.url)
			buf := make([]byte, 64)
			for i := 0; time.Now().Before(deadline) && failed.Load() == 0; i++ {
				if i%50 == 49 {
					w.close() // the next request on a new connection
				}
				for j := range buf {
					buf[j] = byte(rng.Uint32())
				}
				if err := b.checkOp(w, nextOp(&opReader{buf})); err != nil {
					if failed.Add(1) < 5 {
						t.Error(err)
					}
				}
				sent.Add(1)
			}
		})
	}
	wg.Go(func() { // a Prometheus server's scrapes, five a second
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for time.Now().Before(deadline) && failed.Load() == 0 {
			scrape(t, b.url, &failed)
			<-tick.C
		}
	})
	wg.Wait()
	t.Logf("%d requests in %v", sent.Load(), d)
	if failed.Load() == 0 {
		if text := scrape(t, b.url, nil); !strings.Contains(text, `mlserve_http_requests_total{model="titanic"`) {
			t.Errorf("GET /metrics counts no request of titanic after the load:\n%s", grepLines(text, "mlserve_http_requests_total{"))
		}
	}
}

// FuzzKeepAlive interleaves the requests a fuzz input makes (nextOp: the
// routes, model names, path segments, queries and bodies) on a few
// shared keep-alive connections, checks every answer (checkOp: never a
// 5xx for bad input, the net/http handler's answer for any request it can
// be asked) and then GET /metrics (scrape: a 200, each series once, no
// label value the server does not know). `go test` runs the seeds; search
// for more with
//
//	go test -run '^$' -fuzz FuzzKeepAlive -fuzztime 2m ./internal/api
func FuzzKeepAlive(f *testing.F) {
	_, b := setup(f)
	op := func(conn, kind int, rest ...byte) []byte { return append([]byte{byte(kind*numConns + conn)}, rest...) }
	seg := func(s string) []byte { return append([]byte{2, byte(len(s) - 1)}, s...) }
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	for _, seed := range [][][]byte{
		// an infer, then a model name at the same offset on its connection
		{op(0, 3, 0, 0), op(0, 3, append(seg("HUNTER2"), 0)...), op(1, 3, 0, 0)},
		{op(0, 4, 0, 1, 0), op(0, 7, seg("HUNTER2")...), op(1, 4, 0, 1, 0), op(0, 7, 0), op(2, 1, append(seg("HUNTER2"), str("")...)...)},
		{op(0, 0, append([]byte{0}, str(predictQuery)...)...), op(1, 1, append([]byte{0}, str(predictQuery)...)...), op(2, 2, 0, 0)},
		{op(0, 4, 0, 1, 0), op(0, 4, 0, 0, 0), op(0, 4, 0, 2, 0), op(1, 4, 0, 3, 2, 'x', 'y', 'z', 0), op(2, 3, 1, 0)},
		{op(0, 2, 0, 1, 3, '{', '}', ']'), op(1, 3, 0, 2, 4, 'm', 'a', 'n', 'x'), op(2, 5, 0), op(0, 6, 0, 3, '%', 'z', 'z', 0xff, 1)},
		{op(0, 1, 1, 0), op(1, 2, append(seg("sen$ors"), 0)...), op(2, 3, 3, 1, 4, 'n', 'u', 'l', 'l')},
	} {
		f.Add(bytes.Join(seed, nil))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		wires := make([]*wire, numConns)
		for i := range wires {
			wires[i] = newWire(t, b.url)
		}
		r := &opReader{in}
		for n := 0; len(r.b) > 0 && n < 32; n++ {
			op := nextOp(r)
			if err := b.checkOp(wires[op.conn], op); err != nil {
				t.Fatal(err)
			}
		}
		scrape(t, b.url, nil)
	})
}
