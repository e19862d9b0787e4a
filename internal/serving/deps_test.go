package serving_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDomainPackagesLinkNoEngine proves the api and oip packages (the
// domain siblings on the serving core) depend on neither HTTP engine's
// package: not fasthttp, not the fasthttp server. A domain package that imports
// one again fails here.
func TestDomainPackagesLinkNoEngine(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}",
		"github.com/mlserve/mlserve/internal/api", "github.com/mlserve/mlserve/internal/oip").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), deps)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/valyala/fasthttp") || d == "github.com/mlserve/mlserve/internal/fasthttpserver" {
			t.Errorf("internal/api or internal/oip depends on %s", d)
		}
	}
}

// TestSiblingsShareNoCode checks that the inference protocol (internal/oip)
// does not import internal/api: both answer from the served-model set
// (internal/served) and the serving core, as siblings.
func TestSiblingsShareNoCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "github.com/mlserve/mlserve/internal/oip").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/mlserve/mlserve/internal/served") {
		t.Fatal("internal/oip does not depend on internal/served (the served-model set)")
	}
	if slices.Contains(deps, "github.com/mlserve/mlserve/internal/api") {
		t.Error("internal/oip depends on internal/api; the served-model set lives in internal/served")
	}
}
