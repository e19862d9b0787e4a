package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/spec"
)

// WatchEveryDefault is how often `up` reads its pipeline file for changes:
// an edit is applied well within 5 s.
const WatchEveryDefault = time.Second

// watchFile reads the pipeline file at path every period and applies it
// when its bytes change: a valid file's changed pipelines become new spec
// versions (which this process then follows); a file with errors, or a
// change the stored data cannot follow, is logged and the current specs
// stay. It returns when ctx is done.
func (a *App) watchFile(ctx context.Context, path string, every time.Duration) {
	every = max(every, 10*time.Millisecond)
	last := fileSum(path)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sum := fileSum(path)
		if bytes.Equal(sum, last) {
			continue
		}
		last = sum
		f, err := config.Load(path)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				a.Logger.Error("the pipeline file changed but has errors; keeping the current specs", "file", path, "err", err)
			}
			continue
		}
		res, err := spec.Apply(ctx, &spec.ApplyParams{Store: a.Store, File: f, Source: "file:" + path})
		if err != nil {
			if ctx.Err() == nil {
				a.Logger.Error("the pipeline file changed but cannot be applied; keeping the current specs", "file", path, "err", err)
			}
			continue
		}
		n := 0
		for _, r := range res {
			if r.Changed() {
				n++
			}
			if _, ok := a.Specs.Get(r.Pipeline); !ok && r.Changed() {
				a.Logger.Warn("the pipeline file has a new pipeline; restart to run it", "pipeline", r.Pipeline, "file", path)
			}
		}
		if n > 0 {
			a.Logger.Debug("applied the changed pipeline file", "file", path, "pipelines", n)
			a.SpecsChanged.Publish("")
		}
	}
}

// fileSum is the sha256 of the file's bytes, nil when it cannot be read.
func fileSum(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := sha256.Sum256(b)
	return s[:]
}
