package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDemo runs `mlserve up --demo` as a new user would, in an empty folder:
// the synthetic feed (20 rows/s) must give a first model that answers the
// prototype's route within 60 s, and the new-rows trigger (every 200 rows
// after a 5 s debounce) a second version within 90 s.
func TestDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startServer(t, dir, "up", "--demo")

	first := eventually(t, 60*time.Second-time.Since(srv.started), 50*time.Millisecond, "a first prediction from the demo", func() bool {
		code, _ := srv.get("/?" + femaleFirst)
		return code == http.StatusOK
	})
	var p prototype
	srv.getJSON(t, "/?"+femaleFirst, http.StatusOK, &p)
	if p.Data.Result <= 0 || p.Data.Result >= 1 || p.Message.StatusCode != 200 {
		t.Errorf("demo prediction: %+v, want a probability in (0, 1) with status_code 200", p)
	}
	t.Logf("first prediction %.2f s after start (%.2f s of polling): P(survived | female, 1st class) = %.3f",
		time.Since(srv.started).Seconds(), first.Seconds(), p.Data.Result)

	var latest int
	eventually(t, 90*time.Second-time.Since(srv.started), 250*time.Millisecond, "the demo reaches version 2", func() bool {
		var vs versionList
		srv.getJSON(t, "/v1/models/titanic/versions", http.StatusOK, &vs)
		for _, v := range vs.Versions {
			latest = max(latest, v.Version)
		}
		return latest >= 2
	})
	t.Logf("version %d %.2f s after start", latest, time.Since(srv.started).Seconds())

	// The demo keeps its data in ./.mlserve/demo under the working folder.
	if _, err := os.Stat(filepath.Join(dir, ".mlserve", "demo")); err != nil {
		t.Errorf("demo data folder: %v", err)
	}
	srv.stop(t, 15*time.Second)
}

// BenchmarkDemoFirstPrediction measures what a new user waits for: from
// starting `mlserve up --demo` in an empty folder to the first 200 on the
// prototype's route.
func BenchmarkDemoFirstPrediction(b *testing.B) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		b.StartTimer()
		srv := startServer(b, dir, "up", "--demo")
		eventually(b, 60*time.Second, 10*time.Millisecond, "a first prediction from the demo", func() bool {
			code, _ := srv.get("/?" + femaleFirst)
			return code == http.StatusOK
		})
		took := time.Since(srv.started)
		b.StopTimer()
		total += took
		b.Logf("first prediction after %.3f s", took.Seconds())
		srv.stop(b, 15*time.Second)
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/first-prediction")
}
