//go:build !unix

package app

// lockFile is a no-op where flock is missing: the data dir is not
// guarded there.
func lockFile(string) (func() error, string, error) { return func() error { return nil }, "", nil }
