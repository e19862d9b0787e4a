package fs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/blob/blobtest"
	"github.com/mlserve/mlserve/internal/blob/fs"
)

func TestBucket(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, func(t *testing.T) blob.Bucket {
		b, err := fs.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

func TestPutLeavesNoTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(context.Background(), "artifacts/x.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
	if len(entries) != 1 {
		t.Errorf("got %d entries, want 1", len(entries))
	}
}
