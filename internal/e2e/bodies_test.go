package e2e

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/demo"
)

// trainedTitanic returns a folder whose embedded store holds a titanic
// model trained on 600 synthetic passengers (the demo feed's generator).
func trainedTitanic(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mustRun(t, dir, "init", "--example", "titanic")
	path := filepath.Join(dir, "passengers.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(demo.Columns)
	gen := demo.NewTitanic(1)
	for range 600 {
		w.Write(gen.Next().Record())
	}
	w.Flush()
	if err := f.Close(); err != nil || w.Error() != nil {
		t.Fatalf("write %s: %v %v", path, err, w.Error())
	}
	mustRun(t, dir, "ingest-file", "titanic", path)
	mustRun(t, dir, "train", "titanic", "--wait")
	return dir
}

// bodyTarget is a role on an HTTP engine, with a route that takes a body.
type bodyTarget struct {
	name        string
	args, env   []string
	path        string // POST route taking a body
	contentType string
}

var bodyTargets = []bodyTarget{
	{"api_fasthttp", []string{"api"}, []string{"MLSERVE_HTTP_ENGINE=fasthttp"}, "/v1/models/titanic/predict", "application/json"},
	{"api_nethttp", []string{"api"}, []string{"MLSERVE_HTTP_ENGINE=net/http"}, "/v1/models/titanic/predict", "application/json"},
	{"ingest_nethttp", []string{"ingest"}, nil, "/v1/datasets/titanic/rows", "text/csv"},
}

// vmRSS returns the resident memory of process pid, in bytes.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read VmRSS: %v", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// p99 times n sequential calls of probe, which must answer 200, and
// returns the 99th percentile.
func p99(t *testing.T, n int, probe func() int) time.Duration {
	t.Helper()
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		if code := probe(); code != http.StatusOK {
			t.Fatalf("probe %d: status %d, want 200", i, code)
		}
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	return ds[n*99/100]
}

// TestDeclaredBodiesCostNothing opens 200 connections that each declare an
// 8 MB body and send 1 byte of it, and holds them 5 s: the server's
// resident memory must rise by less than 100 MB (allocating the declared
// sizes is 1.6 GB), and a normal request's p99 over 500 sequential ones
// must stay under twice the p99 measured just before (in one of up to
// three measurements: see below). On both engines of
// the api and on the ingest role.
func TestDeclaredBodiesCostNothing(t *testing.T) {
	dir := trainedTitanic(t)
	const (
		conns    = 200
		declared = 8_000_000
		hold     = 5 * time.Second
		probes   = 500
	)
	for _, tg := range bodyTargets {
		t.Run(tg.name, func(t *testing.T) {
			s := startServerEnv(t, dir, tg.env, tg.args...)
			addr := strings.TrimPrefix(s.base, "http://")
			probe := func() int {
				code, _ := s.do(http.MethodPost, "/v1/models/titanic/predict", "application/json", []byte(`{"class": 1, "sex": "female", "age": 22, "embarked": "S"}`))
				return code
			}
			if tg.args[0] == "ingest" {
				probe = func() int { code, _ := s.get("/v1/datasets/titanic"); return code }
			}
			p99(t, 100, probe) // warm up
			// The bar is twice the p99 before, but never under 10 ms: a
			// one-millisecond p99 on a shared two-core machine swings to
			// 3-4 ms between runs whatever the server does (seen while
			// other builds ran), and the defect this guards against cost
			// 235-512 ms, far above either.
			measured := p99(t, probes, probe)
			base := max(measured, 5*time.Millisecond)
			rss0 := vmRSS(t, s.cmd.Process.Pid)

			start := time.Now()
			var open []net.Conn
			defer func() {
				for _, c := range open {
					c.Close()
				}
			}()
			for i := range conns {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatalf("connection %d: %v", i, err)
				}
				open = append(open, c)
				fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n{", tg.path, addr, tg.contentType, declared)
			}
			var mu sync.Mutex
			peak := rss0
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				tick := time.NewTicker(50 * time.Millisecond)
				defer tick.Stop()
				for {
					rss := vmRSS(t, s.cmd.Process.Pid)
					mu.Lock()
					peak = max(peak, rss)
					mu.Unlock()
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			})
			// The server takes the 200 connections in first (as it takes
			// in the warm-up's before base): p99 is of the requests
			// served while it holds them, not while they arrive.
			p99(t, 100, probe)
			// Sub-millisecond p99s move by a few ms when the machine is
			// busy: up to three measurements while the connections are
			// held, the best counting (allocating the declared bodies put
			// it at hundreds of ms, every time).
			var tries []time.Duration
			during := time.Duration(math.MaxInt64)
			for len(tries) < 3 && during >= 2*base {
				tries = append(tries, p99(t, probes, probe))
				during = min(during, tries[len(tries)-1])
			}
			if left := hold - time.Since(start); left > 0 {
				time.Sleep(left) // the connections must be held hold long whatever the probes took
			}
			close(stop)
			wg.Wait()
			// Every held connection is still open: none was answered.
			for i, c := range open {
				c.SetReadDeadline(time.Now().Add(time.Millisecond))
				if n, err := c.Read(make([]byte, 1)); n > 0 || err == nil {
					t.Errorf("held connection %d was answered", i)
					break
				}
			}
			rise := peak - rss0
			t.Logf("%s: %d connections x %d declared bytes held %.1f s: RSS %d MB -> peak %d MB (+%d MB); predict p99 %v before, %v during",
				tg.name, conns, declared, time.Since(start).Seconds(), rss0>>20, peak>>20, rise>>20, measured, tries)
			if rise >= 100<<20 {
				t.Errorf("RSS rose by %d MB holding %d declared-but-unsent bodies, want < 100 MB", rise>>20, conns)
			}
			if during >= 2*base {
				t.Errorf("p99 during the held bodies %v, want < 2 x %v (the p99 before, at least 5 ms)", during, base)
			}
			if strings.Contains(s.stderr.String(), `"level":"ERROR"`) {
				t.Errorf("ERROR lines in the log:\n%s", lastLines(s.stderr.String(), 20))
			}
		})
	}
}

// requestsCounted returns mlserve_http_requests_total for route by status
// class, from s's /metrics.
func requestsCounted(t *testing.T, s *server, route string) map[string]float64 {
	t.Helper()
	code, body := s.get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(body), "\n") {
		if !strings.HasPrefix(line, "mlserve_http_requests_total{") || !strings.Contains(line, `route="`+route+`"`) {
			continue
		}
		labels, value, _ := strings.Cut(line[strings.IndexByte(line, '{')+1:], "} ")
		_, class, _ := strings.Cut(labels, `status_class="`)
		class, _, _ = strings.Cut(class, `"`)
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[class] += v
	}
	return out
}

// total sums a metric's values.
func total(m map[string]float64) (n float64) {
	for _, v := range m {
		n += v
	}
	return n
}

// TestBrokenBodies sends each body route of each role and engine a
// malformed chunked body and a body cut off by the client's hang-up: the
// first must be answered 400, and both must be counted as 4xx in the
// request metric, never 5xx, and leave no ERROR line in the log.
func TestBrokenBodies(t *testing.T) {
	dir := trainedTitanic(t)
	routes := map[string][][2]string{ // target: {path, metric route}
		"api": {
			{"/v1/models/titanic/predict", "POST /v1/models/{name}/predict"},
			{"/v2/models/titanic/infer", "POST /v2/models/{name}/infer"},
			{"/v2/models/titanic/versions/1/infer", "POST /v2/models/{name}/versions/{version}/infer"},
		},
		"ingest": {{"/v1/datasets/titanic/rows", "POST /v1/datasets/{name}/rows"}},
	}
	for _, tg := range bodyTargets {
		t.Run(tg.name, func(t *testing.T) {
			s := startServerEnv(t, dir, tg.env, tg.args...)
			addr := strings.TrimPrefix(s.base, "http://")
			for _, rt := range routes[tg.args[0]] {
				path, route := rt[0], rt[1]
				// counted sends one request and requires it counted as one
				// more 4xx of route, no 5xx.
				counted := func(t *testing.T, send func(c net.Conn)) {
					t.Helper()
					before := requestsCounted(t, s, route)
					c, err := net.Dial("tcp", addr)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					send(c)
					var after map[string]float64
					eventually(t, 10*time.Second, 20*time.Millisecond, "the request counted in "+route, func() bool {
						after = requestsCounted(t, s, route)
						return total(after) > total(before)
					})
					if after["4xx"] != before["4xx"]+1 || after["5xx"] != before["5xx"] {
						t.Errorf("request counted as %v (before %v), want one more 4xx and no 5xx", after, before)
					}
				}
				t.Run(path+"/malformed_chunked", func(t *testing.T) {
					counted(t, func(c net.Conn) {
						fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", path, addr, tg.contentType)
						c.SetReadDeadline(time.Now().Add(10 * time.Second))
						res, err := http.ReadResponse(bufio.NewReader(c), nil)
						if err != nil {
							t.Fatalf("read the answer: %v", err)
						}
						res.Body.Close()
						if res.StatusCode != http.StatusBadRequest {
							t.Errorf("malformed chunked body: status %d, want 400", res.StatusCode)
						}
					})
				})
				t.Run(path+"/cut_off", func(t *testing.T) {
					counted(t, func(c net.Conn) {
						// More than the fasthttp server's 8 KiB prefetch, so that
						// the route's handler is the one reading when the
						// client goes.
						fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n[%s", path, addr, tg.contentType, strings.Repeat(" ", 20000))
						c.Close()
					})
				})
			}
			if strings.Contains(s.stderr.String(), `"level":"ERROR"`) {
				t.Errorf("ERROR lines in the log:\n%s", lastLines(s.stderr.String(), 20))
			}
		})
	}
}
