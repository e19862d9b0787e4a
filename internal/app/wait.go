package app

import (
	"context"
	"errors"
	"time"

	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/store"
)

// OpenWait is Open for long-running roles: while the database or the
// object store cannot be reached (a container starting beside them, a
// restart during an outage) it retries with backoff for up to patience,
// logging each failure, instead of failing at once. Any other error (a bad
// URL, refused credentials, a missing bucket it may not create) fails at
// once.
func OpenWait(ctx context.Context, opts Options, patience time.Duration) (*App, error) {
	deadline := time.Now().Add(patience)
	wait := 500 * time.Millisecond
	for {
		a, err := Open(ctx, opts)
		if err == nil || !(errors.Is(err, store.ErrUnavailable) || errors.Is(err, blob.ErrUnavailable)) ||
			time.Now().Add(wait).After(deadline) {
			return a, err
		}
		if opts.Logger != nil {
			opts.Logger.Warn("cannot start yet; retrying", "err", err, "retry_in", wait)
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}
