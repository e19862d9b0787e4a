package serving_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/serving"
)

func TestSplit(t *testing.T) {
	for _, c := range []struct{ pattern, method, path string }{
		{"GET /{$}", "GET", "/"},
		{"GET /metrics", "GET", "/metrics"},
		{"GET /v1/models/{name}/predict", "GET", "/v1/models/{}/predict"},
		{"POST /v2/models/{name}/versions/{version}/infer", "POST", "/v2/models/{}/versions/{}/infer"},
		{"GET /items/{name}/{$}", "GET", "/items/{}/"},
	} {
		m, p, err := serving.Split(c.pattern)
		if err != nil || m != c.method || p != c.path {
			t.Errorf("Split(%q) = %q, %q, %v; want %q, %q", c.pattern, m, p, err, c.method, c.path)
		}
	}
	for _, c := range []struct{ pattern, want string }{
		{"PUT /x", "GET or POST"},
		{"/x", "GET or POST"},
		{"GET x/{a}", "does not start with /"},
		{"GET /{a}/{b}/{c}", "more than 2 wildcards"},
		{"GET /a{b}", "whole segment"},
		{"GET /{a}b", "whole segment"},
		{"GET /{rest...}", "whole segment"},
		{"GET /{$}/x", "whole segment"},
	} {
		if _, _, err := serving.Split(c.pattern); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Split(%q) error = %v; want one saying %q", c.pattern, err, c.want)
		}
	}
}

func TestWildcards(t *testing.T) {
	for _, c := range []struct {
		pattern string
		want    []string
	}{
		{"GET /{$}", nil},
		{"GET /v1/models/{name}/predict", []string{"name"}},
		{"POST /v2/models/{name}/versions/{version}/infer", []string{"name", "version"}},
		{"GET /items/{name}/{$}", []string{"name"}},
	} {
		if got := serving.Wildcards(c.pattern); !slices.Equal(got, c.want) {
			t.Errorf("Wildcards(%q) = %q; want %q", c.pattern, got, c.want)
		}
	}
}
