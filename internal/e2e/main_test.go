package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/sampledata"
	"github.com/mlserve/mlserve/internal/testenv"
)

// dataDir holds the titanic, iris and tips CSVs (internal/sampledata).
var dataDir = sampledata.Dir()

// bin is the mlserve binary TestMain builds.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mlserve-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "mlserve")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mlserve")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/mlserve: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// childEnv is the environment of every mlserve process: the test's, without
// the variables that would point mlserve at another database, object store
// or address than the test's temporary ones.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MLSERVE_") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// result is a finished command.
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

func (r *result) String() string {
	return fmt.Sprintf("mlserve %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, lastLines(r.stdout, 50), lastLines(r.stderr, 50))
}

// mlserve runs one mlserve command in dir and returns its exit code and
// output; it fails the test only if the command cannot run at all.
func mlserve(t testing.TB, dir string, args ...string) *result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = childEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("mlserve %s: %v\nstderr:\n%s", strings.Join(args, " "), err, lastLines(r.stderr, 50))
	}
	return r
}

// mustRun runs a command that must exit 0.
func mustRun(t testing.TB, dir string, args ...string) *result {
	t.Helper()
	r := mlserve(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("want exit 0, got %s", r)
	}
	return r
}

// mustJSON runs a command that must exit 0 and decodes its stdout.
func mustJSON(t testing.TB, v any, dir string, args ...string) *result {
	t.Helper()
	r := mustRun(t, dir, args...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("mlserve %s: stdout is not one JSON document (%v):\n%s", strings.Join(args, " "), err, r.stdout)
	}
	return r
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is a running mlserve process (up, up --demo or a role).
type server struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	stderr  *testenv.Buffer
	started time.Time
	done    chan struct{} // closed when the process exited
	waitErr error
}

// startServer starts `mlserve ARGS… --addr 127.0.0.1:PORT --log-format json`
// in dir on a free port and waits until /healthz answers 200. The process is
// killed in t.Cleanup if it still runs, and its stderr goes to the test log
// when the test failed.
func startServer(t testing.TB, dir string, args ...string) *server {
	t.Helper()
	return startServerEnv(t, dir, nil, args...)
}

// startServerEnv is startServer with env (KEY=value) added to the
// process's environment.
func startServerEnv(t testing.TB, dir string, env []string, args ...string) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, err := tryStart(t, dir, env, args)
		if err == nil {
			return s
		}
		// Another process may have taken the port between freePort and the
		// bind; anything else is a failure.
		if attempt < 3 && strings.Contains(s.stderr.String(), "address already in use") {
			t.Logf("retrying on another port: %v", err)
			continue
		}
		t.Fatalf("mlserve %s: %v\nstderr (last 50 lines):\n%s", strings.Join(s.cmd.Args[1:], " "), err, lastLines(s.stderr.String(), 50))
	}
}

func tryStart(t testing.TB, dir string, env, args []string) (*server, error) {
	port := freePort(t)
	args = append(append([]string(nil), args...), "--addr", "127.0.0.1:"+strconv.Itoa(port), "--log-format", "json")
	s := &server{
		cmd: exec.Command(bin, args...), base: "http://127.0.0.1:" + strconv.Itoa(port),
		stderr: &testenv.Buffer{}, done: make(chan struct{}),
	}
	s.cmd.Dir = dir
	s.cmd.Env = append(childEnv(), env...)
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start mlserve: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("mlserve %s stderr (last 50 lines):\n%s", strings.Join(args, " "), lastLines(s.stderr.String(), 50))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			return s, fmt.Errorf("exited before answering /healthz: %v", s.waitErr)
		default:
		}
		if code, _ := s.get("/healthz"); code == http.StatusOK {
			return s, nil
		}
		if time.Now().After(deadline) {
			return s, errors.New("/healthz did not answer 200 within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the process if it still runs and waits for it.
func (s *server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// stop sends SIGTERM and requires exit code 0 within limit.
func (s *server) stop(t testing.TB, limit time.Duration) {
	t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(limit):
		t.Fatalf("mlserve did not exit within %v of SIGTERM", limit)
	}
	if s.waitErr != nil {
		t.Fatalf("after SIGTERM: %v, want exit status 0", s.waitErr)
	}
	t.Logf("mlserve exited 0 %.2f s after SIGTERM", time.Since(start).Seconds())
}

var client = &http.Client{
	Timeout:   15 * time.Second,
	Transport: &http.Transport{Proxy: nil}, // loopback: never through a proxy from the environment
}

// do sends a request and returns the status and body; a transport error is
// status 0.
func (s *server) do(method, path, contentType string, body []byte) (int, []byte) {
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, []byte(err.Error())
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, []byte(err.Error())
	}
	return resp.StatusCode, b
}

func (s *server) get(path string) (int, []byte) { return s.do(http.MethodGet, path, "", nil) }

// getJSON GETs path, requires status want and decodes the body into v.
func (s *server) getJSON(t testing.TB, path string, want int, v any) {
	t.Helper()
	code, body := s.get(path)
	decode(t, "GET "+path, code, body, want, v)
}

// postJSON POSTs body (JSON unless contentType says otherwise), requires
// status want and decodes the answer into v.
func (s *server) postJSON(t testing.TB, path, contentType string, body []byte, want int, v any) {
	t.Helper()
	if contentType == "" {
		contentType = "application/json"
	}
	code, b := s.do(http.MethodPost, path, contentType, body)
	decode(t, "POST "+path, code, b, want, v)
}

func decode(t testing.TB, what string, code int, body []byte, want int, v any) {
	t.Helper()
	if code != want {
		t.Fatalf("%s: status %d, want %d; body: %s", what, code, want, body)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: body is not JSON (%v): %s", what, err, body)
	}
}

// eventually calls f every interval until it returns true or timeout has
// passed since it started; then the test fails with what.
func eventually(t testing.TB, timeout, interval time.Duration, what string, f func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if f() {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(interval)
	}
}
