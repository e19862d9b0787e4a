package serving_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainPackagesLinkNoEngine proves the api and oip packages (the
// domain siblings on the serving core) depend on neither HTTP engine's
// package: not fasthttp, not the fast front. A domain package that imports
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
		if strings.HasPrefix(d, "github.com/valyala/fasthttp") || d == "github.com/mlserve/mlserve/internal/fastfront" {
			t.Errorf("internal/api or internal/oip depends on %s", d)
		}
	}
}
