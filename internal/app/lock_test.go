package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/config"
)

// TestExclusiveOpenRefusesSecond opens one embedded data dir twice for
// long-running roles: the second is refused, naming the holder's pid (this
// process), until the first is closed. One-shot opens are not refused.
func TestExclusiveOpenRefusesSecond(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := config.Env{DatabaseURL: "sqlite://" + dir + "/db/mlserve.db", ArtifactsURL: "file://" + dir + "/artifacts"}
	open := func(exclusive bool) (*App, error) {
		return Open(context.Background(), Options{File: titanicFile(t), Env: env, Exclusive: exclusive})
	}
	first, err := open(true)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	_, err = open(true)
	if !errors.Is(err, ErrDataDirInUse) {
		t.Fatalf("second exclusive Open: err = %v, want ErrDataDirInUse", err)
	}
	for _, want := range []string{"pid " + strconv.Itoa(os.Getpid()), filepath.Join(dir, "db", LockFile), "--data-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second Open's error %q lacks %q", err, want)
		}
	}
	oneShot, err := open(false)
	if err != nil {
		t.Fatalf("one-shot Open beside an exclusive one: %v", err)
	}
	oneShot.Close()
	first.Close()
	again, err := open(true)
	if err != nil {
		t.Fatalf("exclusive Open after the first closed: %v", err)
	}
	again.Close()
}
