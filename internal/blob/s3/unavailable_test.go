//go:build unix

package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/testenv"
)

// versitygw is a versitygw process of the test's own, which the test may
// stop and kill.
type versitygw struct {
	cmd      *exec.Cmd
	endpoint string
	out      bytes.Buffer
}

// startVersitygw runs versitygw on a free loopback port over a temp folder.
// The binary is testenv.Versitygw's: without one the test skips, or fails
// in CI.
func startVersitygw(t *testing.T, accessKey, secretKey string) *versitygw {
	t.Helper()
	bin := testenv.Versitygw(t)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := l.Addr().String()
	l.Close()

	g := &versitygw{endpoint: endpoint}
	g.cmd = exec.Command(bin, "--port", endpoint, "posix", t.TempDir())
	g.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+accessKey, "ROOT_SECRET_ACCESS_KEY="+secretKey)
	g.cmd.Stdout, g.cmd.Stderr = &syncWriter{w: &g.out}, &syncWriter{w: &g.out}
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	done := make(chan struct{})
	go func() { g.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		g.cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("versitygw output:\n%s", g.out.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", endpoint, time.Second)
		if err == nil {
			c.Close()
			return g
		}
		select {
		case <-done:
			t.Fatalf("versitygw exited: %s", g.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw is not listening on %s after 10s", endpoint)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopProcess sends SIGSTOP to p and waits until every one of its threads
// is stopped: kill(2) returns before a thread running on another core has
// stopped, and a request sent in that window would still be answered. The
// wait reads /proc (Linux); elsewhere it trusts the signal.
func stopProcess(t *testing.T, p *os.Process) {
	t.Helper()
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("stop versitygw: %v", err)
	}
	tasks := fmt.Sprintf("/proc/%d/task", p.Pid)
	if _, err := os.Stat(tasks); err != nil {
		return
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		running, err := runningThreads(tasks)
		if err != nil {
			t.Fatalf("stop versitygw: %v", err)
		}
		if running == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stop versitygw: %d threads still running 5s after SIGSTOP", running)
		}
		time.Sleep(time.Millisecond)
	}
}

// runningThreads counts the threads under a /proc/PID/task folder whose
// state is not stopped ("T") or traced ("t").
func runningThreads(tasks string) (int, error) {
	ids, err := os.ReadDir(tasks)
	if err != nil {
		return 0, err
	}
	running := 0
	for _, id := range ids {
		stat, err := os.ReadFile(filepath.Join(tasks, id.Name(), "stat"))
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread exited
		}
		if err != nil {
			return 0, err
		}
		// "pid (comm) state ...": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) {
			return 0, fmt.Errorf("read %s: no state in %q", id.Name(), stat)
		}
		if s := stat[i+2]; s != 'T' && s != 't' {
			running++
		}
	}
	return running, nil
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestServerStopped checks that a server which stops answering, then dies,
// makes every operation fail soon with an error wrapping
// blob.ErrUnavailable, and never hang.
func TestServerStopped(t *testing.T) {
	t.Parallel()
	g := startVersitygw(t, "stopkey", "stopsecret")
	ctx := context.Background()
	url := fmt.Sprintf("s3://stopped/models?endpoint=%s&secure=false&region=us-east-1", g.endpoint)
	cfg := Config{URL: url, AccessKey: "stopkey", SecretKey: "stopsecret", CreateBucket: true, Timeout: time.Second, MaxRetries: 2}
	b, err := Open(ctx, &cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := b.Put(ctx, "a", []byte("model")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	// The same bucket with the default (long) timeout: only the caller's
	// deadline will end its waits.
	patient, err := Open(ctx, &Config{URL: url, AccessKey: "stopkey", SecretKey: "stopsecret"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}

	// Every operation, at once, each within bound.
	checkAll := func(t *testing.T, bound time.Duration) {
		t.Helper()
		ops := map[string]func() error{
			"Get":    func() error { _, err := b.Get(ctx, "a"); return err },
			"Put":    func() error { return b.Put(ctx, "b", bytes.Repeat([]byte("x"), 1<<20)) },
			"List":   func() error { _, err := b.List(ctx, ""); return err },
			"Delete": func() error { return b.Delete(ctx, "a") },
		}
		var wg sync.WaitGroup
		for name, op := range ops {
			wg.Go(func() {
				start := time.Now()
				err := op()
				took := time.Since(start)
				if !errors.Is(err, blob.ErrUnavailable) {
					t.Errorf("%s: err = %v, want one wrapping ErrUnavailable", name, err)
				}
				if took > bound {
					t.Errorf("%s took %v, want at most %v", name, took, bound)
				}
				t.Logf("%s after %v: %v", name, took.Round(time.Millisecond), err)
			})
		}
		wg.Wait()
	}

	t.Run("NotAnswering", func(t *testing.T) {
		// A stopped process still has its socket: connections are accepted
		// by the kernel and then nothing comes back.
		stopProcess(t, g.cmd.Process)
		// 2 tries of at most 1s each, plus backoff.
		checkAll(t, 6*time.Second)

		start := time.Now()
		_, err := Open(ctx, &cfg)
		if !errors.Is(err, blob.ErrUnavailable) || time.Since(start) > 6*time.Second {
			t.Errorf("Open after %v: err = %v, want one wrapping ErrUnavailable", time.Since(start), err)
		}

		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start = time.Now()
		_, err = patient.Get(dctx, "a")
		if !errors.Is(err, blob.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Get with a caller deadline: err = %v, want ErrUnavailable and DeadlineExceeded", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("Get with a 300ms deadline took %v", took)
		}
	})

	t.Run("Killed", func(t *testing.T) {
		if err := g.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		checkAll(t, 3*time.Second)

		_, err := Open(ctx, &cfg)
		if !errors.Is(err, blob.ErrUnavailable) {
			t.Fatalf("Open: err = %v, want one wrapping ErrUnavailable", err)
		}
		checkNames(t, err, `"stopped"`, g.endpoint)
		t.Logf("Open: %v", err)
	})

}
