package app

import (
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/config"
)

// TestEngineFor checks which HTTP server each role mix runs under each
// MLSERVE_HTTP_ENGINE setting, and that the settings it cannot honour are
// refused with the variable's name.
func TestEngineFor(t *testing.T) {
	api, up, ingest, trainer := Roles{API: true}, Roles{API: true, Trainer: true, Ingest: true}, Roles{Ingest: true}, Roles{Trainer: true}
	for _, c := range []struct {
		setting string
		roles   Roles
		want    string // "" for an error
	}{
		{"", api, config.EngineFastHTTP},
		{"auto", api, config.EngineFastHTTP},
		{"auto", Roles{API: true, Trainer: true}, config.EngineFastHTTP},
		{"", up, config.EngineNetHTTP},
		{"auto", ingest, config.EngineNetHTTP},
		{"auto", trainer, config.EngineNetHTTP},
		{"fasthttp", api, config.EngineFastHTTP},
		{"fasthttp", up, ""},
		{"fasthttp", ingest, ""},
		{"fasthttp", trainer, ""},
		{"net/http", api, config.EngineNetHTTP},
		{"net/http", up, config.EngineNetHTTP},
		{"nginx", api, ""},
	} {
		got, err := EngineFor(c.setting, c.roles)
		if c.want == "" {
			if err == nil || !strings.Contains(err.Error(), config.EnvHTTPEngine) {
				t.Errorf("EngineFor(%q, %+v) = %q, %v; want an error naming %s", c.setting, c.roles, got, err, config.EnvHTTPEngine)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("EngineFor(%q, %+v) = %q, %v; want %q", c.setting, c.roles, got, err, c.want)
		}
	}
}
