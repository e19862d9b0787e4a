package e2e

import (
	"net"
	"strings"
	"testing"
)

// TestUpOnATakenPort checks that `up` on a port another process holds
// fails with one line that says the port is taken and how to pick another
// (--addr), rather than a bare "address already in use".
func TestUpOnATakenPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	mustRun(t, dir, "init", "--example", "titanic")
	r := mlserve(t, dir, "--data-dir", "data", "up", "--addr", ln.Addr().String())
	if r.code != 1 {
		t.Fatalf("want exit 1, got %s", r)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	msg := lines[len(lines)-1] // after the process's log lines
	if !strings.Contains(msg, ln.Addr().String()+" is taken") || !strings.Contains(msg, "--addr") {
		t.Errorf("up on a taken port: %q; want it to say %s is taken and to pick another with --addr", msg, ln.Addr())
	}
}
