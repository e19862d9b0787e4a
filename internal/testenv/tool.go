package testenv

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// CI reports whether the tests run in CI: CI set to a true value (CI=true,
// as CI systems set it, or 1).
func CI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// MissingTool ends t for want of a tool a developer may not have installed
// (podman, helm): it fails under CI, which installs it (.ci/run), and skips
// otherwise, even when scripts/test.sh started the services.
func MissingTool(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if CI() {
		t.Fatalf("%s; under CI=%s a missing tool fails the test instead of skipping it (.ci/run installs it)", msg, os.Getenv("CI"))
	}
	t.Skip(msg + "; skipped (under CI=true this fails)")
}
