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

// TestInitBounds checks init --csv's --bounds flag end to end: the default
// writes no min/max and says what was seen in the comment; physical writes
// min: 0 on a column never negative; observed writes the extremes; an
// unknown policy is a usage error. A tiny file is warned about.
func TestInitBounds(t *testing.T) {
	t.Parallel()
	csv := "y,size,delta\n1,3.5,-2\n0,7.0,4\n1,5.25,1\n"
	tests := []struct {
		bounds   []string
		want     []string
		wantNot  []string
		wantCode int
	}{
		{nil, []string{"{name: size, type: number}", "seen 3.5 to 7, 0% missing, 3 distinct", "Bounds: none"}, []string{"min:"}, ExitOK},
		{[]string{"--bounds", "physical"}, []string{"{name: size, type: number, min: 0}", "{name: delta, type: integer}"}, []string{"max:"}, ExitOK},
		{[]string{"--bounds", "observed"}, []string{"{name: size, type: number, min: 3.5, max: 7}", "{name: delta, type: integer, min: -2, max: 4}"}, nil, ExitOK},
		{[]string{"--bounds", "wide"}, nil, nil, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"default"}, tt.bounds...), " "), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "d.csv")
			if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := run(t, dir, append([]string{"init", "--csv", path, "--target", "y"}, tt.bounds...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tt.wantCode, stderr)
			}
			if code != ExitOK {
				if !strings.Contains(stderr, "none, physical or observed") {
					t.Errorf("stderr %q, want the policies named", stderr)
				}
				return
			}
			if !strings.Contains(stderr, "only 3 rows") {
				t.Errorf("stderr %q, want a small-sample warning", stderr)
			}
			b, err := os.ReadFile(filepath.Join(dir, "mlserve.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range append(tt.want, "WARNING: only 3 rows") {
				if !strings.Contains(string(b), w) {
					t.Errorf("mlserve.yaml lacks %q:\n%s", w, b)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(string(b), w) {
					t.Errorf("mlserve.yaml has %q:\n%s", w, b)
				}
			}
		})
	}
}
