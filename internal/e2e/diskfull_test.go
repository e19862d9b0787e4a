package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/testenv"
)

// mountSmallDisk mounts a tmpfs of size (e.g. "16m") on a new folder and
// returns it; it is unmounted in t.Cleanup. Mounting needs root (the test
// is skipped otherwise, saying so).
func mountSmallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "a full disk is a small tmpfs, and mounting one needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		testenv.Missing(t, "cannot mount a tmpfs for a full disk: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillDisk writes zeros into dir/filler until the disk is full and
// returns the file's path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			break
		}
	}
	// The last pages too: a write of one byte at a time until none fits.
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
	return path
}

// TestDiskFull fills the disk of the embedded database while `up` runs and
// restarts it (SIGKILL, as a crash or an impatient operator does): it must
// start, serve the production model it has, list the database as degraded
// in /readyz, and answer ingest and train-now with 503 naming the full
// disk; once space is freed it stores rows and trains again without a
// restart.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := mountSmallDisk(t, "16m")
	csvPath := writePipeline(t, dir, strings.Replace(slowPipeline,
		"algorithm: gbdt\n      params: {n_trees: 100000, max_depth: 8, learning_rate: 0.01}", "algorithm: logistic", 1))
	mustRun(t, dir, "ingest-file", "titanic", csvPath)
	mustRun(t, dir, "train", "titanic", "--wait")

	s := startServer(t, dir, "up")
	const predict = "/v1/models/titanic/predict?class=1&sex=female&age=30&embarked=S"
	s.getJSON(t, predict, http.StatusOK, nil)
	filler := fillDisk(t, dir)
	s.kill()

	s = startServer(t, dir, "up")
	s.getJSON(t, predict, http.StatusOK, nil)
	var ready struct {
		Status   string            `json:"status"`
		Degraded map[string]string `json:"degraded"`
	}
	s.getJSON(t, "/readyz", http.StatusOK, &ready)
	if !strings.Contains(ready.Degraded["database"], "disk full") {
		t.Errorf("/readyz on a full disk: %+v; want the database listed as degraded: disk full", ready)
	}
	row := []byte("survived,class,sex,age,embarked\n1,1,female,30,S\n")
	fullAnswer := func(what string, code int, body []byte) {
		t.Helper()
		if code != http.StatusServiceUnavailable || !bytes.Contains(body, []byte("disk full")) || bytes.Contains(body, []byte(dir)) {
			t.Errorf("%s on a full disk: %d %s; want 503 naming the full disk (and no path)", what, code, body)
		}
	}
	code, body := s.do(http.MethodPost, "/v1/datasets/titanic/rows", "text/csv", row)
	fullAnswer("ingest", code, body)
	t.Logf("on a full disk: readyz degraded %q; ingest %d %s", ready.Degraded, code, bytes.TrimSpace(body))
	code, body = s.do(http.MethodPost, "/v1/pipelines/titanic/runs", "", nil)
	fullAnswer("train-now", code, body)
	if t.Failed() {
		return
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, 100*time.Millisecond, "rows stored after space was freed", func() bool {
		code, _ := s.do(http.MethodPost, "/v1/datasets/titanic/rows", "text/csv", row)
		return code == http.StatusOK
	})
	var run apiRun
	eventually(t, 15*time.Second, 100*time.Millisecond, "train-now accepted after space was freed", func() bool {
		code, body := s.do(http.MethodPost, "/v1/pipelines/titanic/runs", "", nil)
		return code == http.StatusAccepted && jsonInto(body, &run)
	})
	eventually(t, 30*time.Second, 100*time.Millisecond, "the run trains after space was freed", func() bool {
		r, _ := s.run(run.ID)
		return r.State == "succeeded" || r.State == "failed"
	})
	var after struct {
		Degraded map[string]string `json:"degraded"`
	}
	s.getJSON(t, "/readyz", http.StatusOK, &after)
	if len(after.Degraded) != 0 {
		t.Errorf("/readyz after space was freed: %+v; want nothing degraded", after)
	}
}

// jsonInto decodes body into v and reports whether it could.
func jsonInto(body []byte, v any) bool { return json.Unmarshal(body, v) == nil }
