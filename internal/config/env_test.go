package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		"MLSERVE_DATABASE_URL":  "postgres://u:pw@db:5432/ml",
		"MLSERVE_ARTIFACTS_URL": " s3://bucket/models?endpoint=minio:9000&secure=false ",
		"AWS_ACCESS_KEY_ID":     "AKIAEXAMPLE",
		"AWS_SECRET_ACCESS_KEY": "wJalrSECRET",
		"MLSERVE_ADMIN_TOKEN":   "tok-123",
		"MLSERVE_ADDR":          ":9000",
	}
	got := FromEnv(func(k string) string { return vars[k] })
	want := Env{
		DatabaseURL:        "postgres://u:pw@db:5432/ml",
		ArtifactsURL:       "s3://bucket/models?endpoint=minio:9000&secure=false",
		AWSAccessKeyID:     "AKIAEXAMPLE",
		AWSSecretAccessKey: "wJalrSECRET",
		AdminToken:         "tok-123",
		Addr:               ":9000",
	}
	if got != want {
		t.Errorf("got %#v, want %#v", got, want) // masked, but fields differ somewhere
	}
	if got.AddrFor("ingest") != ":9000" {
		t.Errorf("AddrFor ignores MLSERVE_ADDR")
	}
}

func TestEnvResolve(t *testing.T) {
	t.Parallel()
	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		got, err := Env{}.Resolve("")
		if err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(".mlserve")
		if want := "sqlite://" + abs + "/mlserve.db"; got.DatabaseURL != want {
			t.Errorf("got database %q, want %q", got.DatabaseURL, want)
		}
		if want := "file://" + abs; got.ArtifactsURL != want {
			t.Errorf("got artifacts %q, want %q", got.ArtifactsURL, want)
		}
		if !strings.HasPrefix(got.DatabaseURL, "sqlite:///") {
			t.Errorf("got %q, want an absolute path after sqlite://", got.DatabaseURL)
		}
		for role, want := range map[string]string{"api": ":1234", "up": ":1234", "ingest": ":1235", "trainer": ":1236"} {
			if a := got.AddrFor(role); a != want {
				t.Errorf("AddrFor(%s) = %q, want %q", role, a, want)
			}
		}
	})
	t.Run("DataDir", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		got, err := Env{}.Resolve(dir)
		if err != nil {
			t.Fatal(err)
		}
		// The bucket's keys start with artifacts/: rooted at the data
		// dir, they land in DIR/artifacts/PIPELINE/, not artifacts/artifacts.
		if got.DatabaseURL != "sqlite://"+dir+"/mlserve.db" || got.ArtifactsURL != "file://"+dir {
			t.Errorf("got %v", got)
		}
	})
	t.Run("DataDirOfAnOlderRelease", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "artifacts", "artifacts"), 0o755); err != nil {
			t.Fatal(err)
		}
		got, err := Env{}.Resolve(dir)
		if err != nil {
			t.Fatal(err)
		}
		if want := "file://" + dir + "/artifacts"; got.ArtifactsURL != want {
			t.Errorf("got artifacts %q, want the older layout's %q kept", got.ArtifactsURL, want)
		}
	})
	t.Run("Kept", func(t *testing.T) {
		t.Parallel()
		e := Env{DatabaseURL: "postgres://db/ml", ArtifactsURL: "s3://b/p"}
		got, err := e.Resolve("/data")
		if err != nil || got != e {
			t.Errorf("got %v, %v; want the URLs kept", got, err)
		}
	})
	for _, tt := range []struct{ name, db, art, words string }{
		{"BadDatabaseScheme", "mysql://root:hunter2@db/ml", "", `MLSERVE_DATABASE_URL has scheme "mysql"`},
		{"BadArtifactsScheme", "", "gs://bucket", `MLSERVE_ARTIFACTS_URL has scheme "gs"`},
		{"NotAURL", "host=db password=hunter2", "", "MLSERVE_DATABASE_URL host=db password=**** is not a URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Env{DatabaseURL: tt.db, ArtifactsURL: tt.art}.Resolve("")
			if err == nil || !strings.Contains(err.Error(), tt.words) {
				t.Fatalf("got %v, want an error containing %q", err, tt.words)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestEnvMasksSecrets(t *testing.T) {
	t.Parallel()
	e := Env{
		DatabaseURL:        "postgres://mlserve:s3cr3tpw@db:5432/ml?sslmode=disable&password=qpw1",
		ArtifactsURL:       "s3://bucket/p?endpoint=minio:9000&secret_key=sk9&region=eu",
		AWSAccessKeyID:     "AKIAEXAMPLE",
		AWSSecretAccessKey: "awsSECRETkey",
		AdminToken:         "admintok42",
		Addr:               ":1234",
	}
	secrets := []string{"s3cr3tpw", "qpw1", "sk9", "awsSECRETkey", "admintok42"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("start", "env", e)
	js, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"String":      e.String(),
		"%v":          fmt.Sprintf("%v", e),
		"%+v":         fmt.Sprintf("%+v", e),
		"%#v":         fmt.Sprintf("%#v", e),
		"%v pointer":  fmt.Sprintf("%v", &e),
		"%v nested":   fmt.Sprintf("%+v", struct{ E Env }{e}),
		"slog":        logged.String(),
		"json":        string(js),
		"LogValue":    e.LogValue().String(),
		"MaskURL(db)": MaskURL(e.DatabaseURL),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s shows secret %q: %s", name, s, out)
			}
		}
	}
	for _, keep := range []string{"mlserve:****@db:5432/ml", "sslmode=disable", "endpoint=minio:9000", "region=eu", "AKIAEXAMPLE", ":1234"} {
		if !strings.Contains(e.String(), keep) {
			t.Errorf("String() = %s, want it to show %q", e.String(), keep)
		}
	}
	if !strings.Contains(logged.String(), "env.admin_token=****") {
		t.Errorf("slog output %s lacks the masked token", logged.String())
	}
	if s := (Env{}).String(); strings.Contains(s, "****") {
		t.Errorf("unset secrets show as masked: %s", s)
	}
}

func TestMaskURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"sqlite:///data/mlserve.db", "sqlite:///data/mlserve.db"},
		{"postgres://u:p%40ss@h/db", "postgres://u:****@h/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db?user=u&password=pw", "postgres://h/db?user=u&password=****"},
		{"s3://b/p?access_key=AK&secret_key=SK&endpoint=h:9000", "s3://b/p?access_key=****&secret_key=****&endpoint=h:9000"},
		{"host=h user=u password=pw dbname=d", "host=h user=u password=**** dbname=d"},
		{"host=h password='p w' dbname=d", "host=h password=**** dbname=d"},
		{"postgres://u:p w@h/db", "postgres://u:****@h/db"},
	}
	for _, tt := range tests {
		if got := MaskURL(tt.in); got != tt.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEnvServingLimits(t *testing.T) {
	t.Parallel()
	read := func(vars map[string]string) (Env, error) {
		return FromEnv(func(k string) string { return vars[k] }).Resolve(t.TempDir())
	}
	e, err := read(map[string]string{"MLSERVE_MAX_BATCH": " 500 ", "MLSERVE_MAX_BODY": "1048576",
		"MLSERVE_MAX_CONNS": "300", "MLSERVE_MAX_BODY_BYTES_IN_FLIGHT": "67108864",
		"MLSERVE_CORS_ORIGINS": "https://app.example.com, http://localhost:3000 ,"})
	if err != nil {
		t.Fatal(err)
	}
	if e.MaxBatch != 500 || e.MaxBody != 1<<20 || e.MaxConns != 300 || e.MaxBodyInFlight != 64<<20 {
		t.Errorf("limits: got batch %d body %d conns %d in flight %d, want 500, 1048576, 300, 67108864", e.MaxBatch, e.MaxBody, e.MaxConns, e.MaxBodyInFlight)
	}
	if got := e.CORSList(); len(got) != 2 || got[0] != "https://app.example.com" || got[1] != "http://localhost:3000" {
		t.Errorf("CORSList: got %q", got)
	}
	if e, err := read(map[string]string{"MLSERVE_CORS_ORIGINS": "*"}); err != nil || len(e.CORSList()) != 1 {
		t.Errorf("wildcard: got %v %v", e.CORSList(), err)
	}
	for _, v := range []string{"auto", "fasthttp", "net/http"} {
		if e, err := read(map[string]string{"MLSERVE_HTTP_ENGINE": v}); err != nil || e.HTTPEngine != v {
			t.Errorf("MLSERVE_HTTP_ENGINE=%s: got %q, %v", v, e.HTTPEngine, err)
		}
	}
	if e, err := read(nil); err != nil || e.MaxBatch != 0 || e.MaxBody != 0 || e.MaxConns != 0 || e.MaxBodyInFlight != 0 || e.CORSList() != nil {
		t.Errorf("unset: got %d %d %v %v, want zero values (defaults)", e.MaxBatch, e.MaxBody, e.CORSList(), err)
	}
	for _, tc := range []struct{ name, value, want string }{
		{"MLSERVE_MAX_BATCH", "0", "MLSERVE_MAX_BATCH \"0\" must be a whole number between 1 and"},
		{"MLSERVE_MAX_BATCH", "ten", "MLSERVE_MAX_BATCH \"ten\""},
		{"MLSERVE_MAX_BODY", "-5", "MLSERVE_MAX_BODY \"-5\""},
		{"MLSERVE_MAX_BODY", "8MiB", "MLSERVE_MAX_BODY \"8MiB\""},
		{"MLSERVE_MAX_CONNS", "0", "MLSERVE_MAX_CONNS \"0\" must be a whole number between 1 and"},
		{"MLSERVE_MAX_BODY_BYTES_IN_FLIGHT", "1GB", "MLSERVE_MAX_BODY_BYTES_IN_FLIGHT \"1GB\""},
		{"MLSERVE_CORS_ORIGINS", "app.example.com", "MLSERVE_CORS_ORIGINS: \"app.example.com\" is not an origin"},
		{"MLSERVE_CORS_ORIGINS", "https://a.com/path", "is not an origin"},
		{"MLSERVE_HTTP_ENGINE", "nginx", "MLSERVE_HTTP_ENGINE \"nginx\": want auto, fasthttp or net/http"},
	} {
		_, err := read(map[string]string{tc.name: tc.value})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: got %v, want an error containing %q", tc.name, tc.value, err, tc.want)
		}
	}
}

func TestEnvRescueAfter(t *testing.T) {
	t.Parallel()
	e := FromEnv(func(k string) string {
		if k == EnvJobRescueAfter {
			return " 90s "
		}
		return ""
	})
	if d, err := e.RescueAfter(); err != nil || d != 90*time.Second {
		t.Fatalf("RescueAfter of 90s: %v %v", d, err)
	}
	if d, err := (Env{}).RescueAfter(); err != nil || d != 0 {
		t.Fatalf("RescueAfter unset: %v %v, want 0 (the default)", d, err)
	}
	for _, bad := range []string{"soon", "500ms", "-1m"} {
		_, err := Env{JobRescueAfter: bad}.Resolve(t.TempDir())
		if err == nil || !strings.Contains(err.Error(), EnvJobRescueAfter) {
			t.Errorf("%s=%q: Resolve error %v, want one naming the variable", EnvJobRescueAfter, bad, err)
		}
	}
}
