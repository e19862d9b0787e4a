package imagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/testenv"
)

// podman runs podman as root on a storage of its own (a temp folder, removed
// at the end) with the settings this kind of machine needs: runc instead of
// crun, no default ulimits and cgroupfs (crun fails here on cgroups and
// RLIMIT_NOFILE), and the host's network.
type podman struct {
	dir string   // the temp folder: containers.conf, storage.conf, storage
	env []string // CONTAINERS_CONF and CONTAINERS_STORAGE_CONF added
}

// newPodman finds podman and prepares its configuration, or ends t through
// testenv.MissingTool (skipped on a developer's machine, failed under CI).
func newPodman(t *testing.T) *podman {
	t.Helper()
	const install = "apt-get install -y --no-install-recommends podman buildah runc"
	if _, err := exec.LookPath("podman"); err != nil {
		testenv.MissingTool(t, "podman is not installed (%s)", install)
	}
	if _, err := exec.LookPath("runc"); err != nil {
		testenv.MissingTool(t, "runc is not installed (%s)", install)
	}
	if os.Geteuid() != 0 {
		testenv.MissingTool(t, "the image test runs podman as root (it checks the container process's uid from the host)")
	}
	dir, err := os.MkdirTemp("", "mlserve-imagetest-")
	if err != nil {
		t.Fatal(err)
	}
	p := &podman{dir: dir}
	conf := "[containers]\ndefault_ulimits = []\n\n[engine]\ncgroup_manager = \"cgroupfs\"\nruntime = \"runc\"\n"
	storage := fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n",
		filepath.Join(dir, "storage"), filepath.Join(dir, "run"))
	for name, body := range map[string]string{"containers.conf": conf, "storage.conf": storage} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.env = append(os.Environ(),
		"CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"))
	t.Cleanup(func() {
		// Containers first (they hold layers mounted), then the storage.
		p.run(context.Background(), "rm", "--all", "--force", "--time", "0")
		p.run(context.Background(), "system", "reset", "--force")
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("remove podman's temp folder: %v", err)
		}
	})
	return p
}

// run runs podman with args and returns its stdout, stderr and error.
func (p *podman) run(ctx context.Context, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = p.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), stderr.String(), err
}

// must runs podman with args, fails t on an error and returns its stdout
// without the trailing newline.
func (p *podman) must(t testing.TB, args ...string) string {
	t.Helper()
	out, _, err := p.run(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// container is a container started by start.
type container struct {
	p    *podman
	name string
	base string // http://127.0.0.1:PORT
}

// start runs image detached, read-only, on the host's network, listening on
// a free loopback port it passes in MLSERVE_ADDR, with health as its
// healthcheck URL path (run on demand by healthcheck). opts are more podman
// run options; args the mlserve command. Its log goes to the test log if t
// failed.
func (p *podman) start(t *testing.T, image, health string, opts []string, args ...string) *container {
	t.Helper()
	port := freePort(t)
	c := &container{p: p, name: "mlserve-imagetest-" + randHex(4), base: "http://127.0.0.1:" + strconv.Itoa(port)}
	run := []string{"run", "--detach", "--name", c.name, "--runtime", "runc", "--network", "host", "--read-only",
		"--env", "MLSERVE_ADDR=127.0.0.1:" + strconv.Itoa(port),
		"--health-cmd", fmt.Sprintf(`["/usr/local/bin/mlserve", "healthcheck", "%s%s"]`, c.base, health),
		"--health-interval", "disable"}
	run = append(append(append(run, opts...), image), args...)
	p.must(t, run...)
	t.Cleanup(func() {
		if t.Failed() {
			out, errOut, _ := p.run(context.Background(), "logs", "--tail", "40", c.name)
			t.Logf("%s (mlserve %s) log, last 40 lines:\n%s%s", c.name, strings.Join(args, " "), out, errOut)
		}
		p.run(context.Background(), "rm", "--force", "--time", "0", c.name)
	})
	return c
}

// inspect returns a field of podman inspect (a Go template like
// {{.State.Pid}}).
func (c *container) inspect(t testing.TB, format string) string {
	t.Helper()
	return c.p.must(t, "inspect", "--format", format, c.name)
}

// waitHTTP polls path until it answers want, for up to limit.
func (c *container) waitHTTP(t testing.TB, path string, want int, limit time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		code, body := get(c.base + path)
		if code == want {
			return body
		}
		if state := c.inspect(t, "{{.State.Status}}"); state != "running" {
			t.Fatalf("%s: container %s while waiting for GET %s", c.name, state, path)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: GET %s answered %d within %v, want %d: %s", c.name, path, code, limit, want, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// healthcheck runs the container's healthcheck (mlserve healthcheck inside
// it) once and returns podman's verdict.
func (c *container) healthcheck() (string, error) {
	out, errOut, err := c.p.run(context.Background(), "healthcheck", "run", c.name)
	return strings.TrimSpace(out + errOut), err
}

// processIdentity checks, from the host's /proc, that the container's
// process runs as uid and gid 65532 (real, effective, saved and filesystem)
// and that its root filesystem is mounted read-only.
func (c *container) processIdentity(t testing.TB) {
	t.Helper()
	pid := c.inspect(t, "{{.State.Pid}}")
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatalf("%s: read the status of its process %s: %v", c.name, pid, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		name, ids, ok := strings.Cut(line, ":")
		if !ok || (name != "Uid" && name != "Gid") {
			continue
		}
		for _, id := range strings.Fields(ids) {
			if id != "65532" {
				t.Errorf("%s: process %s has %s %q, want 65532 in every field", c.name, pid, name, strings.TrimSpace(ids))
				break
			}
		}
	}
	mounts, err := os.ReadFile("/proc/" + pid + "/mountinfo")
	if err != nil {
		t.Fatalf("%s: read the mounts of its process %s: %v", c.name, pid, err)
	}
	found := false
	for _, line := range strings.Split(string(mounts), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[4] != "/" {
			continue
		}
		found = true
		if opts := strings.Split(f[5], ","); opts[0] != "ro" {
			t.Errorf("%s: root filesystem mounted %s, want ro", c.name, f[5])
		}
	}
	if !found {
		t.Errorf("%s: no root mount in /proc/%s/mountinfo", c.name, pid)
	}
}

// noPrivileges checks, from the host's /proc, that the container's process
// has no capabilities, not even in its bounding set (--cap-drop all), and
// cannot gain privileges (no_new_privs).
func (c *container) noPrivileges(t testing.TB) {
	t.Helper()
	pid := c.inspect(t, "{{.State.Pid}}")
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatalf("%s: read the status of its process %s: %v", c.name, pid, err)
	}
	want := map[string]string{"CapEff": "0000000000000000", "CapBnd": "0000000000000000", "CapPrm": "0000000000000000", "NoNewPrivs": "1"}
	for _, line := range strings.Split(string(status), "\n") {
		name, value, _ := strings.Cut(line, ":")
		if w, ok := want[name]; ok {
			if got := strings.TrimSpace(value); got != w {
				t.Errorf("%s: process %s has %s %s, want %s", c.name, pid, name, got, w)
			}
			delete(want, name)
		}
	}
	for name := range want {
		t.Errorf("%s: /proc/%s/status has no %s", c.name, pid, name)
	}
}

// stop stops the container (SIGTERM, SIGKILL after 30 s) and requires exit
// code 0; it returns how long the stop took.
func (c *container) stop(t testing.TB) time.Duration {
	t.Helper()
	start := time.Now()
	c.p.must(t, "stop", "--time", "30", c.name)
	took := time.Since(start)
	if code := c.inspect(t, "{{.State.ExitCode}}"); code != "0" {
		t.Fatalf("%s: exit code %s after SIGTERM, want 0", c.name, code)
	}
	return took
}

var client = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{Proxy: nil}, // loopback: never through a proxy from the environment
}

// get GETs url and returns the status and body; a transport error is
// status 0.
func get(url string) (int, []byte) {
	return do(http.MethodGet, url, "", nil)
}

// do sends a request with an optional bearer token and returns the status
// and body; a transport error is status 0.
func do(method, url, token string, body []byte) (int, []byte) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, []byte(err.Error())
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return 0, []byte(err.Error())
	}
	return resp.StatusCode, b.Bytes()
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

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
