package registry

import (
	"context"
	"fmt"
)

// PutReport stores a run's report (JSON) in the object store under key,
// beside the artifacts.
func (r *Registry) PutReport(ctx context.Context, key string, data []byte) error {
	if err := r.bucket.Put(ctx, key, data); err != nil {
		return fmt.Errorf("upload report %s to object store %s: %w", key, r.bucket, err)
	}
	return nil
}
