package config

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by FromEnv.
const (
	EnvDatabaseURL        = "MLSERVE_DATABASE_URL"
	EnvArtifactsURL       = "MLSERVE_ARTIFACTS_URL"
	EnvAWSAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvAWSSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvAdminToken         = "MLSERVE_ADMIN_TOKEN"
	EnvAddr               = "MLSERVE_ADDR"
	// EnvLogLevel and EnvLogFormat set the log level (debug, info, warn,
	// error) and format (auto, json, text) when the flags do not.
	EnvLogLevel       = "MLSERVE_LOG_LEVEL"
	EnvLogFormat      = "MLSERVE_LOG_FORMAT"
	EnvJobRescueAfter = "MLSERVE_JOB_RESCUE_AFTER"
	EnvCORSOrigins    = "MLSERVE_CORS_ORIGINS"
	EnvMaxBatch       = "MLSERVE_MAX_BATCH"
	EnvMaxBody        = "MLSERVE_MAX_BODY"
	EnvHTTPEngine     = "MLSERVE_HTTP_ENGINE"
	// EnvAuth says which routes need a token: AuthOpenRead or AuthAll.
	EnvAuth = "MLSERVE_AUTH"
	// EnvMaxConns caps a process's open HTTP connections; EnvMaxBodyInFlight
	// caps the request body bytes it holds at once. Past either, requests
	// are answered 503 with Retry-After.
	EnvMaxConns        = "MLSERVE_MAX_CONNS"
	EnvMaxBodyInFlight = "MLSERVE_MAX_BODY_BYTES_IN_FLIGHT"
)

// Values of MLSERVE_HTTP_ENGINE: which HTTP server a process runs.
const (
	// EngineAuto (the default) runs fasthttp for the api role alone and
	// net/http for anything else.
	EngineAuto = "auto"
	// EngineFastHTTP runs fasthttp (api role alone only).
	EngineFastHTTP = "fasthttp"
	// EngineNetHTTP runs net/http for every role.
	EngineNetHTTP = "net/http"
)

// Values of MLSERVE_AUTH: which routes need a bearer token.
const (
	// AuthOpenRead (the default): predict and read routes need none.
	AuthOpenRead = "open-read"
	// AuthAll: every route but health and readiness needs one.
	AuthAll = "all"
)

// Defaults of the api role's request limits (MLSERVE_MAX_BODY, MLSERVE_MAX_BATCH):
// the one place they are typed; api, oip and the fasthttp server use them.
const (
	DefaultMaxBatch = 10000
	DefaultMaxBody  = 8 << 20
)

// DefaultDataDir is where the embedded database and artifacts live when
// --data-dir is not given.
const DefaultDataDir = "./.mlserve"

// DataDirBeside is the default data dir of a pipeline file: the folder
// DefaultDataDir names, beside the file (wine/mlserve.yaml keeps its data
// in wine/.mlserve, wherever the command runs).
func DataDirBeside(pipelineFile string) string {
	return filepath.Join(filepath.Dir(cmp.Or(pipelineFile, DefaultFile)), DefaultDataDir)
}

// DefaultAddrs are the listen addresses of the roles when MLSERVE_ADDR and
// --addr are not given.
var DefaultAddrs = map[string]string{
	"api":     ":1234",
	"up":      ":1234",
	"ingest":  ":1235",
	"trainer": ":1236",
}

// Env is everything a deployment differs in. Its String, GoString,
// LogValue and MarshalJSON mask the secrets: the admin token, the AWS
// secret key and any password or credential inside a URL.
type Env struct {
	// DatabaseURL is postgres://… or sqlite:///path/file.db.
	DatabaseURL string
	// ArtifactsURL is s3://bucket/prefix?endpoint=…&secure=…&region=… or
	// file:///path.
	ArtifactsURL string
	// AWSAccessKeyID and AWSSecretAccessKey are the S3 credentials.
	AWSAccessKeyID     string
	AWSSecretAccessKey string
	// AdminToken is the bearer token of the write and admin routes; empty
	// means those routes are open on loopback only.
	AdminToken string
	// Addr is the listen address; empty means the role's default (AddrFor).
	Addr string
	// JobRescueAfter is how long a training job may stay running before the
	// queue takes its trainer for dead and hands the job to another: a Go
	// duration ("90s"); empty means the default (1m). See RescueAfter.
	JobRescueAfter string
	// CORSOrigins lists, comma-separated, the browser origins allowed to
	// call the prediction routes ("*": any); empty turns CORS off.
	CORSOrigins string
	// MaxBatch caps the instances of one predict request; MaxBody caps
	// request bodies in bytes. Zero means the default.
	MaxBatch int
	MaxBody  int64
	// HTTPEngine picks the HTTP server: EngineAuto (empty means it),
	// EngineFastHTTP or EngineNetHTTP.
	HTTPEngine string
	// Auth is AuthOpenRead (empty means it) or AuthAll.
	Auth string
	// MaxConns caps open HTTP connections; MaxBodyInFlight caps the
	// request body bytes held at once, across connections. Zero means the
	// default (httpx.DefaultLimits).
	MaxConns        int
	MaxBodyInFlight int64

	bad string // what FromEnv could not read; Resolve reports it
}

// FromEnv reads the environment through getenv (os.Getenv in main, a map
// in tests). Flags the user gave override its fields afterwards.
func FromEnv(getenv func(string) string) Env {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	e := Env{
		DatabaseURL:        get(EnvDatabaseURL),
		ArtifactsURL:       get(EnvArtifactsURL),
		AWSAccessKeyID:     get(EnvAWSAccessKeyID),
		AWSSecretAccessKey: get(EnvAWSSecretAccessKey),
		AdminToken:         get(EnvAdminToken),
		Addr:               get(EnvAddr),
		JobRescueAfter:     get(EnvJobRescueAfter),
		CORSOrigins:        get(EnvCORSOrigins),
		HTTPEngine:         get(EnvHTTPEngine),
		Auth:               get(EnvAuth),
	}
	positive := func(name string, max int64) int64 {
		v := get(name)
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > max {
			if e.bad == "" {
				e.bad = fmt.Sprintf("%s %q must be a whole number between 1 and %d", name, v, max)
			}
			return 0
		}
		return n
	}
	e.MaxBatch = int(positive(EnvMaxBatch, 10_000_000))
	e.MaxBody = positive(EnvMaxBody, 1<<40)
	e.MaxConns = int(positive(EnvMaxConns, 1_000_000))
	e.MaxBodyInFlight = positive(EnvMaxBodyInFlight, 1<<40)
	return e
}

// CORSList returns the allowed origins of CORSOrigins, or nil.
func (e Env) CORSList() []string {
	var out []string
	for o := range strings.SplitSeq(e.CORSOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// RescueAfter parses JobRescueAfter: 0 when it is empty.
func (e Env) RescueAfter() (time.Duration, error) {
	if e.JobRescueAfter == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(e.JobRescueAfter)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("%s %q: want a duration of at least 1s, such as 90s or 2m", EnvJobRescueAfter, e.JobRescueAfter)
	}
	return d, nil
}

// Resolve returns e with the embedded defaults filled in: the database
// sqlite://<dataDir>/mlserve.db and the artifacts file://<dataDir>/artifacts,
// dataDir made absolute (DefaultDataDir when empty). It checks the URL
// schemes; creating the folder is the caller's job.
func (e Env) Resolve(dataDir string) (Env, error) {
	if e.bad != "" {
		return e, errors.New(e.bad)
	}
	for _, o := range e.CORSList() {
		if o != "*" && !originRE.MatchString(o) {
			return e, fmt.Errorf("%s: %q is not an origin; write scheme://host[:port] (e.g. https://app.example.com) or *", EnvCORSOrigins, o)
		}
	}
	switch e.HTTPEngine {
	case "", EngineAuto, EngineFastHTTP, EngineNetHTTP:
	default:
		return e, fmt.Errorf("%s %q: want %s, %s or %s", EnvHTTPEngine, e.HTTPEngine, EngineAuto, EngineFastHTTP, EngineNetHTTP)
	}
	switch e.Auth {
	case "", AuthOpenRead, AuthAll:
	default:
		return e, fmt.Errorf("%s %q: want %s or %s", EnvAuth, e.Auth, AuthOpenRead, AuthAll)
	}
	dir, err := filepath.Abs(cmp.Or(dataDir, DefaultDataDir))
	if err != nil {
		return e, fmt.Errorf("resolve data dir %s: %w", dataDir, err)
	}
	dir = filepath.ToSlash(dir)
	if e.DatabaseURL == "" {
		e.DatabaseURL = "sqlite://" + dir + "/mlserve.db"
	}
	if e.ArtifactsURL == "" {
		e.ArtifactsURL = defaultArtifactsURL(dir)
	}
	if err := checkScheme(EnvDatabaseURL, e.DatabaseURL, "postgres://user:password@host:5432/db or sqlite:///path/file.db", "postgres", "postgresql", "sqlite"); err != nil {
		return e, err
	}
	if _, err := e.RescueAfter(); err != nil {
		return e, err
	}
	if err := checkScheme(EnvArtifactsURL, e.ArtifactsURL, "s3://bucket/prefix?endpoint=host:port or file:///path", "s3", "file"); err != nil {
		return e, err
	}
	return e, nil
}

func checkScheme(name, raw, example string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("%s %s is not a URL; write %s", name, MaskURL(raw), example)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return nil
		}
	}
	return fmt.Errorf("%s has scheme %q, which mlserve does not support; write %s", name, u.Scheme, example)
}

// AddrFor returns e.Addr, or the default address of role (api, up, ingest,
// trainer).
func (e Env) AddrFor(role string) string { return cmp.Or(e.Addr, DefaultAddrs[role]) }

const mask = "****"

func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	return mask
}

// masked returns e with every secret replaced by a mask.
func (e Env) masked() Env {
	e.DatabaseURL = MaskURL(e.DatabaseURL)
	e.ArtifactsURL = MaskURL(e.ArtifactsURL)
	e.AWSSecretAccessKey = maskSecret(e.AWSSecretAccessKey)
	e.AdminToken = maskSecret(e.AdminToken)
	return e
}

// String formats e for people, secrets masked.
func (e Env) String() string {
	m := e.masked()
	return fmt.Sprintf("database=%s artifacts=%s aws_access_key_id=%s aws_secret_access_key=%s admin_token=%s addr=%s",
		m.DatabaseURL, m.ArtifactsURL, m.AWSAccessKeyID, m.AWSSecretAccessKey, m.AdminToken, m.Addr)
}

// GoString is String, so that %#v masks the secrets too.
func (e Env) GoString() string { return "config.Env{" + e.String() + "}" }

// LogValue implements slog.LogValuer, secrets masked.
func (e Env) LogValue() slog.Value {
	m := e.masked()
	return slog.GroupValue(
		slog.String("database_url", m.DatabaseURL),
		slog.String("artifacts_url", m.ArtifactsURL),
		slog.String("aws_access_key_id", m.AWSAccessKeyID),
		slog.String("aws_secret_access_key", m.AWSSecretAccessKey),
		slog.String("admin_token", m.AdminToken),
		slog.String("addr", m.Addr),
	)
}

// MarshalJSON encodes e with the secrets masked.
func (e Env) MarshalJSON() ([]byte, error) {
	m := e.masked()
	return json.Marshal(map[string]string{
		"database_url":          m.DatabaseURL,
		"artifacts_url":         m.ArtifactsURL,
		"aws_access_key_id":     m.AWSAccessKeyID,
		"aws_secret_access_key": m.AWSSecretAccessKey,
		"admin_token":           m.AdminToken,
		"addr":                  m.Addr,
	})
}

var (
	// originRE is a browser origin: scheme://host[:port], no path.
	originRE = regexp.MustCompile(`^https?://[^/\s,*]+$`)
	// key=value pairs of a libpq connection string, and query parameters,
	// whose value is a credential.
	secretKVRE = regexp.MustCompile(`(?i)((?:^|[\s?&;])[\w.-]*(?:password|passwd|pwd|secret|token|key|credential|signature)[\w.-]*=)('[^']*'|[^\s&;]*)`)
	// user:password@ in text that does not parse as a URL.
	userinfoRE = regexp.MustCompile(`(://[^/@\s:]*:)[^@]*@`)
)

// MaskURL returns raw with any password or credential replaced by ****: the
// password of user:password@, and query or connection-string parameters
// named like password, secret, token or key.
func MaskURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		s := userinfoRE.ReplaceAllString(raw, "${1}"+mask+"@")
		return secretKVRE.ReplaceAllString(s, "${1}"+mask)
	}
	masked := false
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "x")
		masked = true
	}
	if u.RawQuery != "" {
		u.RawQuery = secretKVRE.ReplaceAllString("?"+u.RawQuery, "${1}"+mask)[1:]
	}
	s := u.String()
	if masked {
		// url escapes * in userinfo; write the placeholder's mask instead.
		s = strings.Replace(s, ":x@", ":"+mask+"@", 1)
	}
	return s
}
