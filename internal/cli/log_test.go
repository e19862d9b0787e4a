package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
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

// TestJSONLogDurationsInSeconds checks that a JSON log line gives a
// duration in seconds (1.5), not slog's default of nanoseconds
// (1500000000), whatever the attribute's group.
func TestJSONLogDurationsInSeconds(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	g := &globals{logFormat: "json", env: Env{Stderr: &buf, Getenv: func(string) string { return "" }}}
	l, err := g.logger()
	if err != nil {
		t.Fatal(err)
	}
	l.Info("i", slog.Duration("took", 1500*time.Millisecond), slog.Group("g", slog.Duration("wait", 2*time.Second)))
	var v struct {
		Took any `json:"took"`
		G    struct {
			Wait any `json:"wait"`
		} `json:"g"`
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	if v.Took != 1.5 || v.G.Wait != float64(2) {
		t.Errorf("got took %v, g.wait %v; want 1.5 and 2 (seconds): %s", v.Took, v.G.Wait, buf.Bytes())
	}
}
