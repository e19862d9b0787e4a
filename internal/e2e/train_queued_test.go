package e2e

import (
	"strings"
	"testing"
)

// TestTrainWithoutATrainerWarns checks that `train` without --wait, with
// no trainer running on the embedded store, says the run stays queued
// until one starts and points at --wait, instead of only "queued".
func TestTrainWithoutATrainerWarns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, dir, "init", "--example", "titanic")
	r := mustRun(t, dir, "--data-dir", "data", "train", "titanic")
	if !strings.Contains(r.stdout, "queued") {
		t.Errorf("stdout %q; want the run said queued", r.stdout)
	}
	if !strings.Contains(r.stderr, "stays queued until") || !strings.Contains(r.stderr, "--wait") {
		t.Errorf("stderr %q; want a warning that the run stays queued until a trainer starts, naming --wait", r.stderr)
	}
}
