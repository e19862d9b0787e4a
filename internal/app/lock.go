package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LockFile is the file in an embedded database's folder that a running
// role holds locked (flock), with its pid written in it.
const LockFile = "mlserve.lock"

// ErrDataDirInUse is returned by Open with Exclusive when another process
// holds the embedded data dir.
var ErrDataDirInUse = errors.New("the data dir is in use by another mlserve process")

// lockDataDir takes the embedded database folder's lock for the life of
// the App, so that two long-running processes never share one SQLite
// file and one artifacts folder (two trainers, two triggers). One-shot
// commands (train, runs, apply) do not take it: they may run beside `up`.
// PostgreSQL needs no lock: its processes share by design.
func (a *App) lockDataDir() error {
	u := a.Opts.Env.DatabaseURL
	if !strings.HasPrefix(u, "sqlite:") {
		return nil
	}
	path, err := sqlitePath(u)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create data dir %s: %w", dir, err)
	}
	unlock, holder, err := lockFile(filepath.Join(dir, LockFile))
	if err != nil {
		return err
	}
	if unlock == nil {
		who := "a process"
		if holder != "" {
			who = "pid " + holder
		}
		return fmt.Errorf("%w: %s holds %s; stop it, or give this one another --data-dir", ErrDataDirInUse, who, filepath.Join(dir, LockFile))
	}
	a.closers = append(a.closers, unlock)
	return nil
}
