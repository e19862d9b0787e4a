// Command soak runs mlserve's roles as separate processes (api on the
// fasthttp front, ingest and trainer on net/http) against one database and
// one artifact folder, and holds them under a mixed load for a while:
// clients on every predict route, an unknown-model route and the health
// routes; a batch of rows ingested every 50 ms; a promotion every 10 s;
// /metrics read every second. It fails when any answer is not 2xx (unknown
// models: 404), when /metrics fails or its series grow without bound, or
// when a role's resident memory keeps growing after the warm-up.
//
//	bash bench/soak/run.sh            (starts a throwaway PostgreSQL)
//	go run ./bench/soak -bin mlserve -db postgres://… -duration 5m
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mlserve/mlserve/internal/demo"
)

const token = "soak-admin-token"

func main() {
	bin := flag.String("bin", "mlserve", "the mlserve binary")
	db := flag.String("db", "", "MLSERVE_DATABASE_URL (postgres://…); empty: SQLite under -dir")
	dir := flag.String("dir", "", "working folder (default: a temp folder)")
	seed := flag.String("seed", "internal/sampledata/seed_titanic.csv", "the seed rows")
	duration := flag.Duration("duration", 5*time.Minute, "how long the load runs")
	clients := flag.Int("clients", 8, "concurrent predict clients")
	flag.Parse()
	if err := run(*bin, *db, *dir, *seed, *duration, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// role is one running mlserve process.
type role struct {
	name string
	cmd  *exec.Cmd
	addr string
	log  *os.File
}

func run(bin, db, dir, seed string, duration time.Duration, clients int) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "mlserve-soak")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	bin, err := exec.LookPath(bin)
	if err != nil {
		return err
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	if seed, err = filepath.Abs(seed); err != nil {
		return err
	}
	env := append(os.Environ(), "MLSERVE_ADMIN_TOKEN="+token,
		"MLSERVE_ARTIFACTS_URL=file://"+filepath.Join(dir, "artifacts"))
	if db != "" {
		env = append(env, "MLSERVE_DATABASE_URL="+db)
	}
	cli := func(args ...string) error {
		c := exec.Command(bin, args...)
		c.Dir, c.Env = dir, env
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("mlserve %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	fmt.Println("== setup: init, ingest the seed rows, train twice")
	for _, args := range [][]string{
		{"init", "--example", "titanic"},
		{"ingest-file", "titanic", seed},
		{"train", "titanic", "--wait"},
	} {
		if err := cli(args...); err != nil {
			return err
		}
	}
	// A second version on more rows, so that promotions have two to swap.
	gen := demo.NewTitanic(7)
	if err := cli("ingest-file", "titanic", writeRows(dir, gen, 300)); err != nil {
		return err
	}
	if err := cli("train", "titanic", "--wait"); err != nil {
		return err
	}

	var roles []*role
	defer func() {
		for _, r := range roles {
			r.cmd.Process.Signal(syscall.SIGTERM)
			r.cmd.Wait()
			r.log.Close()
		}
	}()
	for _, name := range []string{"api", "ingest", "trainer"} {
		r, err := start(bin, dir, env, name)
		if err != nil {
			return err
		}
		roles = append(roles, r)
	}
	api, ingest := "http://"+roles[0].addr, "http://"+roles[1].addr
	for _, r := range roles {
		if err := waitReady("http://"+r.addr+"/healthz", 30*time.Second); err != nil {
			return fmt.Errorf("%s: %w (log: %s)", r.name, err, r.log.Name())
		}
	}
	if err := waitReady(api+"/readyz", 30*time.Second); err != nil {
		return fmt.Errorf("api: %w", err)
	}

	fmt.Printf("== load for %s: %d clients, ingest every 50 ms, a promotion every 10 s\n", duration, clients)
	s := &stats{}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { s.predictLoop(ctx, api, uint64(i)) })
	}
	wg.Go(func() { s.ingestLoop(ctx, ingest, gen) })
	wg.Go(func() { s.promoteLoop(ctx, api) })
	wg.Go(func() { s.metricsLoop(ctx, api) })
	rss := make(map[string][]int64)
	tick := time.NewTicker(10 * time.Second)
	start := time.Now()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			line := fmt.Sprintf("%4.0fs  requests %d  non-2xx %d  ingested %d  promotions %d  metrics %d (series %d)  RSS MiB:",
				time.Since(start).Seconds(), s.requests.Load(), s.bad.Load(), s.rows.Load(), s.promotions.Load(),
				s.metricsOK.Load(), s.series.Load())
			for _, r := range roles {
				kb := rssKB(r.cmd.Process.Pid)
				rss[r.name] = append(rss[r.name], kb)
				line += fmt.Sprintf(" %s %.0f", r.name, float64(kb)/1024)
			}
			fmt.Println(line)
		}
	}
	tick.Stop()
	wg.Wait()

	fmt.Printf("== result: %d requests, %d non-2xx, %d rows ingested in %d batches, %d promotions, /metrics %d ok, %d failed, series max %d\n",
		s.requests.Load(), s.bad.Load(), s.rows.Load(), s.batches.Load(), s.promotions.Load(),
		s.metricsOK.Load(), s.metricsBad.Load(), s.seriesMax.Load())
	var problems []string
	if n := s.bad.Load(); n > 0 {
		problems = append(problems, fmt.Sprintf("%d answers were not 2xx (first: %s)", n, s.firstBad.Load()))
	}
	if n := s.metricsBad.Load(); n > 0 {
		problems = append(problems, fmt.Sprintf("/metrics failed %d times", n))
	}
	for _, r := range roles {
		samples := rss[r.name]
		if len(samples) < 4 {
			continue
		}
		// Flat: the last quarter's peak is within 20 % (or 20 MiB) of the
		// second quarter's peak (the first quarter is the warm-up).
		q := len(samples) / 4
		early, late := slices.Max(samples[q:2*q]), slices.Max(samples[3*q:])
		fmt.Printf("   %s RSS: warm %.0f MiB, end %.0f MiB\n", r.name, float64(early)/1024, float64(late)/1024)
		if late > early*6/5 && late-early > 20<<10 {
			problems = append(problems, fmt.Sprintf("%s RSS grew from %d to %d KiB", r.name, early, late))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	fmt.Println("PASS")
	return nil
}

// writeRows writes n generated passengers as a CSV in dir and returns its path.
func writeRows(dir string, gen *demo.Titanic, n int) string {
	path := filepath.Join(dir, "more.csv")
	os.WriteFile(path, []byte(csvRows(gen, n)), 0o644)
	return path
}

// csvRows is n generated passengers as CSV with a header.
func csvRows(gen *demo.Titanic, n int) string {
	var b strings.Builder
	b.WriteString(strings.Join(demo.Columns, ",") + "\n")
	for range n {
		b.WriteString(strings.Join(gen.Next().Record(), ",") + "\n")
	}
	return b.String()
}

// every calls fn every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// start runs `mlserve NAME` on a free port, logging to a file in dir.
func start(bin, dir string, env []string, name string) (*role, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	c := exec.Command(bin, name, "--addr", addr)
	c.Dir, c.Env, c.Stdout, c.Stderr = dir, env, log, log
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &role{name: name, cmd: c, addr: addr, log: log}, nil
}

func waitReady(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %s", url, limit)
}

// rssKB is a process's resident set size in KiB, from /proc.
func rssKB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// stats counts what the loops saw.
type stats struct {
	requests, bad, rows, batches, promotions atomic.Int64
	metricsOK, metricsBad, series, seriesMax atomic.Int64
	firstBad                                 atomic.Value
}

func (s *stats) fail(what string) {
	s.bad.Add(1)
	s.firstBad.CompareAndSwap(nil, what)
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// check sends a request and counts an answer whose status is not want.
func (s *stats) check(req *http.Request, want int) []byte {
	s.requests.Add(1)
	res, err := client.Do(req)
	if err != nil {
		if req.Context().Err() == nil {
			s.fail(fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err))
		}
		return nil
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		s.fail(fmt.Sprintf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, bytes.TrimSpace(body)))
	}
	return body
}

func newRequest(ctx context.Context, method, url, contentType, body string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// predictLoop sends a mix of every serving route until ctx ends.
func (s *stats) predictLoop(ctx context.Context, api string, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	sexes := []string{"male", "female", "M", "F"}
	for ctx.Err() == nil {
		class, sex, age := 1+r.IntN(3), sexes[r.IntN(4)], r.IntN(80)
		var req *http.Request
		want := http.StatusOK
		switch r.IntN(8) {
		case 0, 1:
			req = newRequest(ctx, "GET", fmt.Sprintf("%s/?class=%d&sex=%s&age=%d&embarked=S", api, class, sex, age), "", "")
		case 2:
			req = newRequest(ctx, "GET", fmt.Sprintf("%s/v1/models/titanic/predict?class=%d&sex=%s&age=%d", api, class, sex, age), "", "")
		case 3:
			req = newRequest(ctx, "POST", api+"/v1/models/titanic/predict", "application/json",
				fmt.Sprintf(`{"instances": [{"class": %d, "sex": %q, "age": %d, "embarked": "C"}]}`, class, sex, age))
		case 4:
			req = newRequest(ctx, "POST", api+"/v2/models/titanic/infer", "application/json",
				fmt.Sprintf(`{"inputs": [{"name": "class", "shape": [1], "datatype": "INT64", "data": [%d]}, {"name": "sex", "shape": [1], "datatype": "BYTES", "data": [%q]}, {"name": "age", "shape": [1], "datatype": "FP64", "data": [%d]}]}`, class, sex, age))
		case 5:
			req = newRequest(ctx, "POST", api+"/v2/models/titanic/versions/1/infer", "application/json",
				fmt.Sprintf(`{"inputs": [{"name": "class", "shape": [1], "datatype": "INT64", "data": [%d]}, {"name": "sex", "shape": [1], "datatype": "BYTES", "data": [%q]}]}`, class, sex))
		case 6:
			// an unknown model whose name is fresh bytes each time: a 404,
			// and nothing of it may stay in the metrics
			req = newRequest(ctx, "POST", fmt.Sprintf("%s/v2/models/x%08x/infer", api, r.Uint32()), "application/json", `{"inputs": []}`)
			want = http.StatusNotFound
		default:
			req = newRequest(ctx, "GET", api+"/readyz", "", "")
		}
		s.check(req, want)
	}
}

// ingestLoop posts five generated rows every 50 ms.
func (s *stats) ingestLoop(ctx context.Context, ingest string, gen *demo.Titanic) {
	every(ctx, 50*time.Millisecond, func() {
		req := newRequest(ctx, "POST", ingest+"/v1/datasets/titanic/rows", "text/csv", csvRows(gen, 5))
		req.Header.Set("Authorization", "Bearer "+token)
		if body := s.check(req, http.StatusOK); body != nil {
			var ans struct{ Accepted int }
			if json.Unmarshal(body, &ans) == nil {
				s.rows.Add(int64(ans.Accepted))
				s.batches.Add(1)
			}
		}
	})
}

// promoteLoop promotes, every 10 s, a version other than production.
func (s *stats) promoteLoop(ctx context.Context, api string) {
	every(ctx, 10*time.Second, func() {
		body := s.check(newRequest(ctx, "GET", api+"/v1/models/titanic/versions", "", ""), http.StatusOK)
		var list struct {
			Versions []struct {
				Version int
				State   string
			}
		}
		if json.Unmarshal(body, &list) != nil {
			return
		}
		var pick []int
		for _, v := range list.Versions {
			if v.State != "production" {
				pick = append(pick, v.Version)
			}
		}
		if len(pick) == 0 {
			return
		}
		req := newRequest(ctx, "POST", fmt.Sprintf("%s/v1/models/titanic/versions/%d/promote?reason=soak", api, pick[rand.IntN(len(pick))]), "", "")
		req.Header.Set("Authorization", "Bearer "+token)
		if s.check(req, http.StatusOK) != nil {
			s.promotions.Add(1)
		}
	})
}

// metricsLoop reads /metrics every second: it must answer 200, and its
// series are counted.
func (s *stats) metricsLoop(ctx context.Context, api string) {
	every(ctx, time.Second, func() {
		res, err := client.Do(newRequest(ctx, "GET", api+"/metrics", "", ""))
		if err != nil {
			if ctx.Err() == nil {
				s.metricsBad.Add(1)
			}
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			s.metricsBad.Add(1)
			return
		}
		s.metricsOK.Add(1)
		var n int64
		for line := range strings.Lines(string(body)) {
			if line != "" && line[0] != '#' {
				n++
			}
		}
		s.series.Store(n)
		if n > s.seriesMax.Load() {
			s.seriesMax.Store(n)
		}
	})
}
