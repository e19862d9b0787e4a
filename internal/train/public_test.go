package train_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/train"
)

// TestPublicError: what a run records of a failure a retry may fix names
// the part that failed and none of the text around it (hosts, users,
// endpoints).
func TestPublicError(t *testing.T) {
	t.Parallel()
	const secret = "user=leaky database=leakdb 10.9.8.7:5432"
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("read snapshot: %w: failed to connect to `%s`", store.ErrUnavailable, secret), "database unavailable"},
		{fmt.Errorf("upload artifact to object store s3://b (%s): %w: dial tcp", secret, blob.ErrUnavailable), "object store unavailable"},
		{fmt.Errorf("register version: ERROR at %s", secret), "server-side failure"},
		{fmt.Errorf("list versions at %s: %w", secret, context.Canceled), "interrupted"},
	}
	for _, tc := range cases {
		got := train.PublicError(tc.err)
		if !strings.HasPrefix(got, tc.want) || strings.ContainsAny(got, "=`:") || strings.Contains(got, "10.9.8.7") {
			t.Errorf("PublicError(%q) = %q, want %q and nothing of the error's text", tc.err, got, tc.want)
		}
	}
}
