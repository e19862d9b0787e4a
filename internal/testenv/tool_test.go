package testenv

import (
	"strings"
	"testing"
)

// TestMissingTool: a missing tool fails only under CI; a developer's run
// skips even when scripts/test.sh started the services.
func TestMissingTool(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{env: nil, want: "SKIP"},
		{env: []string{RequiredEnv + "=1"}, want: "SKIP"},
		{env: []string{"CI=false"}, want: "SKIP"},
		{env: []string{"CI=true"}, want: "FAIL"},
		{env: []string{"CI=1", RequiredEnv + "=1"}, want: "FAIL"},
	} {
		out, passed := runChild(t, "MissingTool", tt.env...)
		if got := verdict(out); got != tt.want || passed != (tt.want != "FAIL") || !strings.Contains(out, "sometool is not installed") || strings.Contains(out, "reached the end") {
			t.Errorf("env %q: got %s (exit ok %v), want %s naming the tool and stopping there; output:\n%s", tt.env, got, passed, tt.want, out)
		}
	}
}
