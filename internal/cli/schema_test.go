package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs the command line in dir (through --config and --data-dir, so no
// chdir) and returns its exit code and streams.
func run(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	all := append(args, "--config", filepath.Join(dir, "mlserve.yaml"), "--data-dir", filepath.Join(dir, "data"))
	code := Main(Env{Args: all, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

// TestBadHeaderNamesItsLineOnce checks that a malformed CSV header is
// reported with its line and column exactly once, by every command that
// reads a CSV header.
func TestBadHeaderNamesItsLineOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, _, stderr := run(t, dir, "init"); code != ExitOK {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	for _, tc := range []struct{ name, body, says string }{
		{"unterminated.csv", "class,sex,\"age\n1,male,22\n", "line 1, column 11: unterminated quoted field"},
		{"bare_quote.csv", "class,sex,a\"ge\n1,male,22\n", "line 1, column 12: bare \""},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"schema", "infer", path},
			{"schema", "check", "titanic", path},
			{"init", "--csv", path, "--target", "sex", "--force"},
		} {
			code, _, stderr := run(t, dir, args...)
			if code != ExitFail {
				t.Errorf("%s on %s: exit %d, want %d; stderr:\n%s", args[:2], tc.name, code, ExitFail, stderr)
				continue
			}
			if !strings.Contains(stderr, tc.says) {
				t.Errorf("%s on %s: stderr %q, want it to contain %q", args[:2], tc.name, stderr, tc.says)
			}
			if n := strings.Count(stderr, "line "); n != 1 {
				t.Errorf("%s on %s: stderr names a line %d times, want once: %q", args[:2], tc.name, n, stderr)
			}
		}
	}
}

// TestMissingFileNamedOnce checks that a missing input file is named once.
func TestMissingFileNamedOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.csv")
	for _, args := range [][]string{
		{"schema", "infer", missing},
		{"datafill", "--csv", missing, "--to", "http://127.0.0.1:1", "--count", "1"},
	} {
		code, _, stderr := run(t, dir, args...)
		if code != ExitFail {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", args[0], code, ExitFail, stderr)
			continue
		}
		if n := strings.Count(stderr, missing); n != 1 {
			t.Errorf("%s: stderr names %s %d times, want once: %q", args[0], missing, n, stderr)
		}
	}
}
