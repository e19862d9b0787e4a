// Package testenv decides what a test does when something it needs from
// outside the process is missing: a service (PostgreSQL at
// MLSERVE_TEST_DATABASE_URL, S3 at MLSERVE_TEST_S3_URL), a binary
// (versitygw) or a file. On a developer's machine the test skips, saying
// what is missing; in CI, or when scripts/test.sh started the services, it
// fails, so that a suite can never silently not run where it must.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// RequiredEnv, set to 1, makes a missing service fail the tests.
// scripts/test.sh sets it when it started the services.
const RequiredEnv = "MLSERVE_TEST_SERVICES_REQUIRED"

// Required reports why a missing service must fail the test instead of
// skipping it, "" when it may skip: CI set to a true value (CI=true, as CI
// systems set it, or 1) or RequiredEnv=1.
func Required() string {
	if ci, err := strconv.ParseBool(os.Getenv("CI")); err == nil && ci {
		return "CI=" + os.Getenv("CI")
	}
	if os.Getenv(RequiredEnv) == "1" {
		return RequiredEnv + "=1"
	}
	return ""
}

// Missing ends t for want of what the message names: it fails when Required
// says so and skips otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if why := Required(); why != "" {
		t.Fatalf("%s; under %s a missing service fails the test instead of skipping it", msg, why)
	}
	t.Skip(msg + "; skipped (scripts/test.sh starts the services; under CI=true this fails)")
}

// Getenv returns the environment variable name, or ends t through Missing
// when it is unset or empty; what names the service it points at
// ("PostgreSQL server").
func Getenv(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Missing(t, "%s is not set: no %s to test against", name, what)
	}
	return v
}

// Versitygw returns the path of the versitygw binary (an S3 server):
// $MLSERVE_TEST_VERSITYGW, else versitygw on PATH, else in $(go env
// GOPATH)/bin. Without one it ends t through Missing.
func Versitygw(t testing.TB) string {
	t.Helper()
	const install = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	if p := os.Getenv("MLSERVE_TEST_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			Missing(t, "MLSERVE_TEST_VERSITYGW: %v", err)
		}
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "versitygw")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	Missing(t, "versitygw not found (MLSERVE_TEST_VERSITYGW, PATH, $(go env GOPATH)/bin): %s", install)
	return ""
}

// Buffer is a bytes.Buffer that a process or logger may write while a test
// reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
