package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"m/010_later.up.sql": {Data: []byte("B")},
		"m/002_first.up.sql": {Data: []byte("A")},
		"m/README.md":        {Data: []byte("not a migration")},
	}
	ms, err := ReadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0] != (Migration{2, "first", "A"}) || ms[1] != (Migration{10, "later", "B"}) {
		t.Fatalf("ReadMigrations = %+v", ms)
	}

	for name, fsys := range map[string]fstest.MapFS{
		"name must be NNN_name": {"m/first.up.sql": {}},
		"appears twice":         {"m/001_a.up.sql": {}, "m/0001_b.up.sql": {}},
	} {
		if _, err := ReadMigrations(fsys, "m"); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("err = %v, want one saying %q", err, name)
		}
	}
}
