package config

import (
	"path/filepath"
	"testing"
)

func TestDataDirBeside(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, want string }{
		{"", ".mlserve"},
		{"mlserve.yaml", ".mlserve"},
		{"wine/mlserve.yaml", "wine/.mlserve"},
		{"a/b/pipes.yaml", "a/b/.mlserve"},
	} {
		if got := DataDirBeside(tc.file); got != filepath.FromSlash(tc.want) {
			t.Errorf("DataDirBeside(%q) = %q, want %q", tc.file, got, tc.want)
		}
	}
}
