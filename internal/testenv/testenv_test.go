package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// childEnv, set to a helper's name, makes TestChild run that helper
// against a missing service: the parent tests run it in a subprocess (a
// test that fails cannot be observed from inside itself).
const childEnv = "MLSERVE_TESTENV_CHILD"

// absent is a variable no environment sets.
const absent = "MLSERVE_TESTENV_ABSENT_SERVICE_URL"

func TestChild(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "":
		return // only run in the subprocesses of the tests below
	case "Getenv":
		Getenv(t, absent, "test server")
	case "Versitygw":
		Versitygw(t)
	case "MissingTool":
		MissingTool(t, "sometool is not installed")
	}
	t.Log("reached the end")
}

// runChild runs TestChild with helper in a subprocess under env (on top of
// the parent's environment without CI and RequiredEnv) and returns its
// output and whether it passed.
func runChild(t *testing.T, helper string, env ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.v", "-test.count=1")
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return name == "CI" || name == RequiredEnv || name == absent || name == childEnv
	})
	cmd.Env = append(cmd.Env, append(env, childEnv+"="+helper)...)
	out, err := cmd.CombinedOutput()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("run %s: %v", os.Args[0], err)
	}
	return string(out), err == nil
}

func TestMissingService(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      []string
		want     string // "PASS", "SKIP" or "FAIL"
		required string // the reason a failure must name
	}{
		{name: "Developer", want: "SKIP"},
		{name: "CIFalse", env: []string{"CI=false"}, want: "SKIP"},
		{name: "CI", env: []string{"CI=true"}, want: "FAIL", required: "CI=true"},
		{name: "CIOne", env: []string{"CI=1"}, want: "FAIL", required: "CI=1"},
		{name: "ScriptStartedServices", env: []string{RequiredEnv + "=1"}, want: "FAIL", required: RequiredEnv + "=1"},
		{name: "CIWithService", env: []string{"CI=true", absent + "=postgres://127.0.0.1:1/x"}, want: "PASS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, passed := runChild(t, "Getenv", tt.env...)
			if got := verdict(out); got != tt.want || passed != (tt.want != "FAIL") {
				t.Fatalf("env %q: got %s (exit ok %v), want %s; output:\n%s", tt.env, got, passed, tt.want, out)
			}
			switch tt.want {
			case "PASS":
				if !strings.Contains(out, "reached the end") {
					t.Errorf("the test did not run to its end:\n%s", out)
				}
			default:
				if !strings.Contains(out, absent) || strings.Contains(out, "reached the end") {
					t.Errorf("the message must name %s and the test must stop there:\n%s", absent, out)
				}
				if !strings.Contains(out, tt.required) {
					t.Errorf("the failure must name why it is required (%s):\n%s", tt.required, out)
				}
			}
		})
	}
}

// TestMissingVersitygw: no versitygw anywhere (an empty PATH, a GOPATH
// without it) fails under CI and skips otherwise.
func TestMissingVersitygw(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build tests: %v", err)
	}
	// PATH holds only a folder with go in it, so `go env GOPATH` still runs.
	pathDir := t.TempDir()
	if err := os.Symlink(goBin, filepath.Join(pathDir, "go")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{env: nil, want: "SKIP"},
		{env: []string{"CI=true"}, want: "FAIL"},
	} {
		out, _ := runChild(t, "Versitygw", append(tt.env, "PATH="+pathDir, "GOPATH="+empty, "MLSERVE_TEST_VERSITYGW=")...)
		if got := verdict(out); got != tt.want || !strings.Contains(out, "versitygw not found") {
			t.Errorf("env %q: got %s, want %s naming the missing versitygw; output:\n%s", tt.env, got, tt.want, out)
		}
	}
}

// verdict is go test -v's word for TestChild: PASS, SKIP or FAIL.
func verdict(out string) string {
	for _, v := range []string{"PASS", "SKIP", "FAIL"} {
		if strings.Contains(out, "--- "+v+": TestChild") {
			return v
		}
	}
	return "none"
}
