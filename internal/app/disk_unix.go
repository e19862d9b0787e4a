//go:build unix

package app

import (
	"fmt"
	"syscall"

	"github.com/mlserve/mlserve/internal/store"
)

// minFreeBytes is the free space below which an embedded database's disk
// counts as full: SQLite needs room for its write-ahead log and new pages.
const minFreeBytes = 1 << 20

// diskSpace reports store.ErrDiskFull when the disk holding dir has less
// than minFreeBytes free for unprivileged writers. The message names no
// path (readiness answers are public).
func diskSpace(dir string) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return nil // cannot tell; the writes will say
	}
	if free := uint64(st.Bavail) * uint64(st.Bsize); free < minFreeBytes {
		return fmt.Errorf("%w: %d KiB free on the database's disk; it reads but cannot store anything until space is freed", store.ErrDiskFull, free>>10)
	}
	return nil
}
