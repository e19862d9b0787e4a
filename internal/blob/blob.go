// Package blob stores keyed bytes: model artifacts, data-validation reports
// and snapshots. Backends live in subpackages (fs for a local folder, s3 for
// S3-compatible servers) and must pass the conformance suite in blobtest.
package blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned by Get for a key that does not exist.
var ErrNotFound = errors.New("blob not found")

// ErrUnavailable wraps errors that mean the backend could not be reached
// (as opposed to a missing key), so callers can say "the object store is
// down" and retry.
var ErrUnavailable = errors.New("object store unavailable")

// Bucket is a flat namespace of keyed byte strings. Every method is safe for
// concurrent use.
type Bucket interface {
	// Put stores data under key. It is complete or absent: a reader never
	// sees a partial object, and after an error the key holds its previous
	// content (or nothing).
	Put(ctx context.Context, key string, data []byte) error
	// Get returns the bytes stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// String describes the bucket for logs and errors (no secrets).
	String() string
}

// CheckKey reports whether key is acceptable to every backend: non-empty,
// slash-separated, relative, without "." or ".." segments, at most 512 bytes.
func CheckKey(key string) error {
	if key == "" || len(key) > 512 {
		return fmt.Errorf("blob key %q: must be 1 to 512 bytes", key)
	}
	if strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("blob key %q: must not start or end with /", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("blob key %q: empty, . or .. segment", key)
		}
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("blob key %q: control character or backslash", key)
		}
	}
	return nil
}
