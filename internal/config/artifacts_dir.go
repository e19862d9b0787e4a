package config

import (
	"os"
	"path/filepath"
)

// defaultArtifactsURL is the artifact store under data dir dir (a slash
// path): the dir itself, since the registry's keys start with
// "artifacts/" (so artifacts land in DIR/artifacts/PIPELINE/SHA.json). A
// data dir an older release wrote, whose artifacts are under
// DIR/artifacts/artifacts, keeps that root, so its versions stay
// loadable.
func defaultArtifactsURL(dir string) string {
	if fi, err := os.Stat(filepath.Join(filepath.FromSlash(dir), "artifacts", "artifacts")); err == nil && fi.IsDir() {
		return "file://" + dir + "/artifacts"
	}
	return "file://" + dir
}
