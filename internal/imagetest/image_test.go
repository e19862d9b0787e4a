package imagetest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/sampledata"
	"github.com/mlserve/mlserve/internal/testenv"
	"github.com/mlserve/mlserve/internal/testenv/testdb"
)

// repo is the repository's root, relative to this package.
const repo = "../.."

// TestImage builds the image with `make image` and runs it. Run it alone
// with
//
//	GOTESTFLAGS='-run TestImage -v' scripts/test.sh ./internal/imagetest
//
// The image's size is in its log.
func TestImage(t *testing.T) {
	p := newPodman(t)
	const image = "localhost/mlserve:imagetest"
	stage := filepath.Join(p.dir, "stage")
	build := exec.Command("make", "image", "IMAGE="+image, "VERSION=0.0.0-imagetest")
	build.Dir = repo
	build.Env = append(p.env, "IMAGE_STAGE="+stage, "CONTAINER_ENGINE=podman")
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	size, err := strconv.ParseInt(p.must(t, "image", "inspect", "--format", "{{.Size}}", image), 10, 64)
	if err != nil {
		t.Fatalf("image size: %v", err)
	}
	t.Logf("built %s in %.1f s: %d bytes (%.1f MiB)", image, time.Since(start).Seconds(), size, float64(size)/(1<<20))
	if v := p.must(t, "run", "--rm", "--runtime", "runc", "--network", "host", "--read-only", image, "--version"); v != "mlserve version 0.0.0-imagetest" {
		t.Errorf("mlserve --version in the image: %q, want the VERSION the build stamped", v)
	}

	t.Run("Filesystem", func(t *testing.T) { testFilesystem(t, p, image, filepath.Join(stage, "context")) })
	t.Run("Demo", func(t *testing.T) { testDemo(t, p, image) })
	t.Run("Roles", func(t *testing.T) { testRoles(t, p, image) })
}

// entry is one file of an image or of its build context, as the image
// must hold it.
type entry struct {
	mode     fs.FileMode
	uid, gid uint32
	sha256   string // regular files only
}

func (e entry) String() string {
	s := fmt.Sprintf("%v %d:%d", e.mode, e.uid, e.gid)
	if e.sha256 != "" {
		s += " sha256:" + e.sha256[:12]
	}
	return s
}

// tree lists the files under dir by path relative to it, prefixed with
// prefix; owner, when set, replaces their owner (what COPY --chown does).
func tree(t testing.TB, dir, prefix string, owner *[2]uint32, into map[string]entry) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(filepath.Join(prefix, rel))
		if name == "." {
			return nil
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		e := entry{mode: info.Mode(), uid: st.Uid, gid: st.Gid}
		if owner != nil {
			e.uid, e.gid = owner[0], owner[1]
		}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			e.sha256 = hex.EncodeToString(sum[:])
		}
		into[name] = e
		return nil
	})
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
}

// testFilesystem compares the image's files with the folder
// scripts/image-rootfs.sh laid out (Containerfile: root/ owned by root at /,
// data/ owned by 65532 at /data), checks the binary is static and the
// nonroot user exists, and that the Dockerfile's final stage is the
// Containerfile with its COPY sources in the build stage. The Dockerfile
// itself is not built here (its golang base cannot be pulled): what makes
// the two images the same filesystem is that the same script lays out both
// and the same final-stage instructions copy it.
func testFilesystem(t *testing.T, p *podman, image, context string) {
	mnt := p.must(t, "image", "mount", image)
	t.Cleanup(func() { p.run(t.Context(), "image", "unmount", image) })
	got := map[string]entry{}
	tree(t, mnt, "", nil, got)
	want := map[string]entry{}
	tree(t, filepath.Join(context, "root"), "", &[2]uint32{0, 0}, want)
	tree(t, filepath.Join(context, "data"), "data", &[2]uint32{65532, 65532}, want)
	var names []string
	for n := range got {
		names = append(names, n)
	}
	for n := range want {
		if _, ok := got[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		g, inImage := got[n]
		w, inContext := want[n]
		switch {
		case !inContext:
			t.Errorf("/%s (%v) is in the image but not laid out by scripts/image-rootfs.sh", n, g)
		case !inImage:
			t.Errorf("/%s (%v) was laid out but is not in the image", n, w)
		case g != w:
			t.Errorf("/%s: image has %v, want %v", n, g, w)
		}
	}
	t.Logf("the image holds %d files and folders, as laid out", len(got))
	for _, must := range []string{"usr/local/bin/mlserve", "etc/ssl/certs/ca-certificates.crt", "etc/passwd", "etc/group", "data/mlserve.yaml", "tmp"} {
		if _, ok := got[must]; !ok {
			t.Errorf("the image has no /%s", must)
		}
	}
	if e := got["tmp"]; e.mode != fs.ModeDir|fs.ModeSticky|0o777 {
		t.Errorf("/tmp has mode %v, want drwxrwxrwt", e.mode)
	}
	for _, shell := range []string{"bin/sh", "bin/bash", "usr/bin/sh"} {
		if _, ok := got[shell]; ok {
			t.Errorf("the image holds a shell: /%s", shell)
		}
	}
	f, err := elf.Open(filepath.Join(mnt, "usr/local/bin/mlserve"))
	if err != nil {
		t.Fatalf("the image's binary: %v", err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Error("the image's binary has an ELF interpreter: it is dynamically linked, and scratch has no libc")
		}
	}
	passwd, err := os.ReadFile(filepath.Join(mnt, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(passwd), "\nnonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot user 65532:\n%s", passwd)
	}

	docker := finalStage(t, filepath.Join(repo, "Dockerfile"), "--from=build ", "/out/image/")
	containerfile := finalStage(t, filepath.Join(repo, "Containerfile"))
	if !slices.Equal(docker, containerfile) {
		t.Errorf("the Dockerfile's final stage (COPY sources in the build stage stripped) differs from the Containerfile:\nDockerfile:\n  %s\nContainerfile:\n  %s",
			strings.Join(docker, "\n  "), strings.Join(containerfile, "\n  "))
	}
}

// finalStage returns the instructions of a container file from its last
// FROM on, without comments and blank lines, with each strip removed.
func finalStage(t testing.TB, path string, strip ...string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stage []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stage = nil
		}
		for _, s := range strip {
			line = strings.ReplaceAll(line, s, "")
		}
		stage = append(stage, line)
	}
	if len(stage) == 0 || stage[0] != "FROM scratch" {
		t.Fatalf("%s: the final stage is not FROM scratch: %q", path, stage)
	}
	return stage
}

// prototype is the prototype route's question and the shape of its answer.
const prototype = "/?class=1&sex=F&age=22&embarked=S"

type prototypeAnswer struct {
	Data struct {
		Result *float64 `json:"result"`
	} `json:"data"`
}

// testDemo runs `up --demo` in the image, read-only with a tmpfs for its
// data, and asks the prototype route.
func testDemo(t *testing.T, p *podman, image string) {
	c := p.start(t, image, "/healthz", []string{"--tmpfs", "/data/.mlserve:rw,mode=1777"}, "up", "--demo")
	// The demo feed trains the first model within seconds.
	body := c.waitHTTP(t, prototype, http.StatusOK, 90*time.Second)
	var a prototypeAnswer
	if err := json.Unmarshal(body, &a); err != nil || a.Data.Result == nil || *a.Data.Result < 0 || *a.Data.Result > 1 {
		t.Fatalf("GET %s: %s (%v), want data.result, a probability", prototype, body, err)
	}
	t.Logf("up --demo in the image: GET %s → %s", prototype, body)
	c.processIdentity(t)
	if out, err := c.healthcheck(); err != nil {
		t.Errorf("podman healthcheck run (mlserve healthcheck …/healthz): %v: %s", err, out)
	}
	t.Logf("up --demo exited 0 %.2f s after SIGTERM", c.stop(t).Seconds())
}

// testRoles runs the api and trainer roles in containers on the test
// PostgreSQL and S3 server, shaped like the Helm chart's pods: the pipeline
// file mounted read-only at /config, empty /data and /tmp, every
// capability dropped, no new privileges. `mlserve migrate` runs first, as
// the chart's hook does; rows go in with `mlserve ingest-file` in another
// container; a training asked of the api runs on the trainer, the api
// serves its model, then a request in flight when the api gets SIGTERM is
// answered and both exit 0.
func testRoles(t *testing.T, p *podman, image string) {
	token := randHex(16)
	cfg, err := filepath.Abs(filepath.Join(repo, "deploy", "mlserve.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pod := []string{
		"--env", "MLSERVE_DATABASE_URL=" + testdb.Postgres(t, "imagetest_"),
		"--env", "MLSERVE_ARTIFACTS_URL=" + testdb.Bucket(t, "imagetest-"),
		"--env", "AWS_ACCESS_KEY_ID=" + testenv.Getenv(t, "AWS_ACCESS_KEY_ID", "S3 server's access key"),
		"--env", "AWS_SECRET_ACCESS_KEY=" + testenv.Getenv(t, "AWS_SECRET_ACCESS_KEY", "S3 server's secret key"),
		"--env", "MLSERVE_ADMIN_TOKEN=" + token,
		"--volume", cfg + ":/config/mlserve.yaml:ro",
		"--tmpfs", "/data:rw,mode=1777", "--tmpfs", "/tmp:rw,mode=1777",
		"--cap-drop", "all", "--security-opt", "no-new-privileges",
	}
	flags := []string{"--config", "/config/mlserve.yaml", "--log-format", "json"}
	once := func(args ...string) string {
		run := append(append([]string{"run", "--rm", "--runtime", "runc", "--network", "host", "--read-only"}, pod...), image)
		return p.must(t, append(run, args...)...)
	}
	once(append([]string{"migrate"}, flags...)...)
	seed := sampledata.Path(sampledata.SeedTitanic)
	pod = append(pod, "--volume", seed+":/input/seed.csv:ro")
	t.Logf("ingest-file in the image: %s", once(append([]string{"ingest-file", "titanic", "/input/seed.csv"}, flags...)...))

	api := p.start(t, image, "/readyz", pod, append([]string{"api"}, flags...)...)
	trainer := p.start(t, image, "/readyz", pod, append([]string{"trainer"}, flags...)...)
	api.waitHTTP(t, "/healthz", http.StatusOK, 60*time.Second)
	trainer.waitHTTP(t, "/readyz", http.StatusOK, 60*time.Second)
	for _, c := range []*container{api, trainer} {
		c.processIdentity(t)
		c.noPrivileges(t)
	}

	code, body := do(http.MethodPost, api.base+"/v1/pipelines/titanic/runs", token, nil)
	if code != http.StatusAccepted {
		t.Fatalf("POST /v1/pipelines/titanic/runs: %d %s, want 202", code, body)
	}
	var run struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &run); err != nil {
		t.Fatalf("the run: %v: %s", err, body)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for run.State != "succeeded" {
		if run.State == "failed" || time.Now().After(deadline) {
			t.Fatalf("run %d: %s %s, want succeeded within 2 min", run.ID, run.State, run.Error)
		}
		time.Sleep(200 * time.Millisecond)
		code, body := get(fmt.Sprintf("%s/v1/runs/%d", api.base, run.ID))
		if code != http.StatusOK || json.Unmarshal(body, &run) != nil {
			t.Fatalf("GET /v1/runs/%d: %d %s", run.ID, code, body)
		}
	}
	body = api.waitHTTP(t, "/v1/models/titanic/predict?class=1&sex=F&age=22&embarked=S", http.StatusOK, 30*time.Second)
	t.Logf("the trainer's run %d is served by the api: %s", run.ID, body)
	body = api.waitHTTP(t, prototype, http.StatusOK, 10*time.Second)
	var a prototypeAnswer
	if err := json.Unmarshal(body, &a); err != nil || a.Data.Result == nil {
		t.Fatalf("GET %s: %s (%v), want data.result", prototype, body, err)
	}
	for _, c := range []*container{api, trainer} {
		if out, err := c.healthcheck(); err != nil {
			t.Errorf("%s: podman healthcheck run (mlserve healthcheck …/readyz): %v: %s", c.name, err, out)
		}
	}
	// The same command fails when the URL does not answer 2xx.
	if out, _, err := p.run(t.Context(), "exec", api.name, "/usr/local/bin/mlserve", "healthcheck", api.base+"/no-such-route"); err == nil {
		t.Errorf("mlserve healthcheck of a 404 route exited 0: %s", out)
	}

	drain(t, api)
	t.Logf("trainer exited 0 %.2f s after SIGTERM", trainer.stop(t).Seconds())
}

// drain sends half of a prediction request to the api, stops the container
// (SIGTERM) while it is in flight, waits until new connections are refused,
// sends the rest and requires the whole answer and exit code 0.
func drain(t *testing.T, api *container) {
	addr := strings.TrimPrefix(api.base, "http://")
	body := `{"instances": [{"class": 1, "sex": "female", "age": 22, "embarked": "S"}, {"class": 3, "sex": "male", "age": 40}]}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Expect: 100-continue makes the server say when the handler reads the
	// body: SIGTERM then finds the request in flight, not in the kernel's
	// accept queue.
	fmt.Fprintf(conn, "POST /v1/models/titanic/predict HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", addr, len(body))
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	cont, err := http.ReadResponse(br, nil)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("waiting for 100 Continue: %v, %v", cont, err)
	}
	half := len(body) / 2
	if _, err := conn.Write([]byte(body[:half])); err != nil {
		t.Fatalf("send half of the body: %v", err)
	}

	type stopped struct {
		took time.Duration
		err  error
	}
	done := make(chan stopped, 1)
	go func() {
		start := time.Now()
		_, _, err := api.p.run(context.Background(), "stop", "--time", "30", api.name)
		done <- stopped{time.Since(start), err}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the api still accepts connections 15 s after podman stop")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := conn.Write([]byte(body[half:])); err != nil {
		t.Fatalf("send the rest of the body: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read the answer of the request in flight: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var got struct {
		Predictions []json.RawMessage `json:"predictions"`
	}
	if err := json.Unmarshal(b, &got); err != nil || res.StatusCode != http.StatusOK || len(got.Predictions) != 2 {
		t.Fatalf("request in flight: %d %s (%v); want 200 with 2 predictions", res.StatusCode, b, err)
	}
	s := <-done
	if s.err != nil {
		t.Fatal(s.err)
	}
	if code := api.inspect(t, "{{.State.ExitCode}}"); code != "0" {
		t.Fatalf("api: exit code %s after SIGTERM, want 0", code)
	}
	t.Logf("api answered the request in flight and exited 0 %.2f s after podman stop", s.took.Seconds())
}
