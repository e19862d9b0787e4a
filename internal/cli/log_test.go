package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestLogger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		level, format string            // flags
		env           map[string]string // environment
		wantErr       string            // in the error
		debug         bool              // debug lines are written
		json          bool              // lines are JSON
	}{
		{name: "defaults", json: true}, // stderr is no terminal: auto is JSON
		{name: "env", env: map[string]string{"MLSERVE_LOG_LEVEL": "debug", "MLSERVE_LOG_FORMAT": "text"}, debug: true},
		{name: "flags over env", level: "info", format: "json", env: map[string]string{"MLSERVE_LOG_LEVEL": "debug", "MLSERVE_LOG_FORMAT": "text"}, json: true},
		{name: "bad env level", env: map[string]string{"MLSERVE_LOG_LEVEL": "loud"}, wantErr: `MLSERVE_LOG_LEVEL "loud"`},
		{name: "bad env format", env: map[string]string{"MLSERVE_LOG_FORMAT": "xml"}, wantErr: `MLSERVE_LOG_FORMAT "xml"`},
		{name: "bad flag format", format: "xml", wantErr: `--log-format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			g := &globals{logLevel: tt.level, logFormat: tt.format, env: Env{Stderr: &buf, Getenv: func(k string) string { return tt.env[k] }}}
			l, err := g.logger()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l.Debug("d")
			l.InfoContext(context.Background(), "i", slog.Int("n", 1))
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if got := len(lines) == 2; got != tt.debug {
				t.Errorf("debug written: got %v, want %v:\n%s", got, tt.debug, buf.String())
			}
			var v map[string]any
			if got := json.Unmarshal([]byte(lines[len(lines)-1]), &v) == nil; got != tt.json {
				t.Errorf("JSON: got %v, want %v:\n%s", got, tt.json, buf.String())
			}
		})
	}
}
