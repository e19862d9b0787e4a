package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/testenv"
)

// This file starts and stops the services of the production test as real
// processes the test owns: a PostgreSQL cluster, a versitygw S3 server and
// mlserve roles configured by environment only.

// postgresBinDir finds the folder of initdb and pg_ctl: $PGBIN, else the
// newest /usr/lib/postgresql/*/bin.
func postgresBinDir() (string, error) {
	dirs := []string{os.Getenv("PGBIN")}
	if dirs[0] == "" {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		slices.SortFunc(found, func(a, b string) int {
			va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
			vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
			return vb - va
		})
		dirs = found
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql or set PGBIN")
}

// postgres is a throwaway PostgreSQL cluster in a temp folder, run as the
// postgres user with trust auth and fsync off, on a loopback port.
type postgres struct {
	bin  string // folder of initdb and pg_ctl
	base string // temp folder, removed at cleanup
	data string // the cluster, owned by postgres
	port int
}

// startPostgres creates and starts a cluster; it is stopped and removed in
// t.Cleanup. A missing binary or a non-root test skips or fails the test
// (testenv.Missing).
func startPostgres(t testing.TB) *postgres {
	t.Helper()
	bin, err := postgresBinDir()
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	if _, err := exec.LookPath("runuser"); err != nil || os.Geteuid() != 0 {
		testenv.Missing(t, "starting PostgreSQL needs root and runuser (initdb runs as the postgres user)")
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		testenv.Missing(t, "no postgres user to run the cluster: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	base, err := os.MkdirTemp("", "mlserve-prodtest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg := &postgres{bin: bin, base: base, data: filepath.Join(base, "data"), port: freePort(t)}
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(pg.data, "postmaster.pid")); err == nil {
			_ = pg.pgCtl("-m", "immediate", "-w", "stop")
		}
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(pg.data, "server.log")); err == nil {
				t.Logf("PostgreSQL log (last 40 lines):\n%s", lastLines(string(b), 40))
			}
		}
		os.RemoveAll(base)
	})
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(pg.data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(pg.data, uid, gid); err != nil {
		t.Fatal(err)
	}
	initdb := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(bin, "initdb"),
		"-D", pg.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.start(t)
	return pg
}

func (pg *postgres) pgCtl(args ...string) error {
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// start starts the cluster on its port and waits until it accepts
// connections.
func (pg *postgres) start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", pg.port, pg.data)
	if err := pg.pgCtl("-w", "-t", "60", "-l", filepath.Join(pg.data, "server.log"), "-o", opts, "start"); err != nil {
		t.Fatal(err)
	}
}

// stop shuts the cluster down at once, disconnecting every client.
func (pg *postgres) stop(t testing.TB) {
	t.Helper()
	if err := pg.pgCtl("-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		t.Fatal(err)
	}
}

// psql runs one query with psql and returns its output (for failure
// reports: the queue's and the runs' rows as the database holds them).
func (pg *postgres) psql(query string) string {
	out, err := exec.Command(filepath.Join(pg.bin, "psql"), "-h", "127.0.0.1", "-p", strconv.Itoa(pg.port), "-U", "postgres", "-d", "postgres", "-c", query).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("psql %q: %v\n%s", query, err, out)
	}
	return string(out)
}

// URL is the cluster's connection URL.
func (pg *postgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

// Credentials of the test's versitygw.
const (
	s3AccessKey = "mlserveprod"
	s3SecretKey = "mlserveprodsecret"
	s3Bucket    = "mlserve-prodtest"
)

// productionEnv is the environment of a process in production mode on pg
// and s3, with extra settings appended.
func productionEnv(pg *postgres, s3 *versitygw, extra ...string) []string {
	return append([]string{
		"MLSERVE_DATABASE_URL=" + pg.URL(),
		"MLSERVE_ARTIFACTS_URL=" + s3.URL(),
		"AWS_ACCESS_KEY_ID=" + s3AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s3SecretKey,
	}, extra...)
}

// versitygw is an S3 server over a temp folder that the test can stop and
// start again on the same port.
type versitygw struct {
	bin  string
	dir  string // the posix backend's folder: one subfolder per bucket
	port int
	log  *testenv.Buffer
	cmd  *exec.Cmd
	done chan struct{}
}

// startVersitygw starts an S3 server; it is killed and its folder removed in
// t.Cleanup.
func startVersitygw(t testing.TB) *versitygw {
	t.Helper()
	bin := testenv.Versitygw(t)
	dir, err := os.MkdirTemp("", "mlserve-prodtest-s3-")
	if err != nil {
		t.Fatal(err)
	}
	g := &versitygw{bin: bin, dir: dir, port: freePort(t), log: &testenv.Buffer{}}
	t.Cleanup(func() {
		g.kill()
		if t.Failed() {
			t.Logf("versitygw log (last 30 lines):\n%s", lastLines(g.log.String(), 30))
		}
		os.RemoveAll(dir)
	})
	g.start(t)
	return g
}

// start runs versitygw on its port and waits until the port accepts
// connections.
func (g *versitygw) start(t testing.TB) {
	t.Helper()
	g.cmd = exec.Command(g.bin, "--port", fmt.Sprintf("127.0.0.1:%d", g.port), "posix", g.dir)
	g.cmd.Env = append(childEnv(), "ROOT_ACCESS_KEY_ID="+s3AccessKey, "ROOT_SECRET_ACCESS_KEY="+s3SecretKey)
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	done := make(chan struct{})
	g.done = done
	cmd := g.cmd
	go func() { cmd.Wait(); close(done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", g.addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("versitygw exited at start: %v\n%s", cmd.ProcessState, lastLines(g.log.String(), 20))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s within 15 s:\n%s", g.addr(), lastLines(g.log.String(), 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the server (SIGTERM, SIGKILL after 10 s) and waits for it.
func (g *versitygw) stop(t testing.TB) {
	t.Helper()
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		g.kill()
	}
}

func (g *versitygw) kill() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	select {
	case <-g.done:
	default:
		_ = g.cmd.Process.Kill()
		<-g.done
	}
}

func (g *versitygw) addr() string { return fmt.Sprintf("127.0.0.1:%d", g.port) }

// URL is the artifacts URL of the test bucket (path-style, plain HTTP).
func (g *versitygw) URL() string {
	return fmt.Sprintf("s3://%s?endpoint=%s&secure=false&region=us-east-1", s3Bucket, g.addr())
}

// objectPath is where the posix backend keeps an object of the test bucket.
func (g *versitygw) objectPath(key string) string {
	return filepath.Join(g.dir, s3Bucket, filepath.FromSlash(key))
}

// role is a running mlserve role process (api, trainer, ingest).
type role struct {
	*server
	name string
}

// startRoles starts `mlserve ROLE --config cfg` for each name → role at
// once (several processes migrating the same database concurrently, as
// containers do), each configured by environment only (env plus
// MLSERVE_ADDR on a free port), and waits until every one answers /healthz.
// The processes are killed in t.Cleanup and their logs written to the test
// log when the test failed.
func startRoles(t *testing.T, dir, cfg string, env []string, names map[string]string) map[string]*role {
	t.Helper()
	roles := map[string]*role{}
	for name, r := range names {
		roles[name] = launchRole(t, dir, cfg, env, name, r)
	}
	for name := range roles {
		if err := roles[name].waitHealthy(60 * time.Second); err != nil {
			if strings.Contains(roles[name].stderr.String(), "address already in use") {
				t.Logf("%s: port taken, retrying on another", name)
				roles[name] = launchRole(t, dir, cfg, env, name, names[name])
				err = roles[name].waitHealthy(60 * time.Second)
			}
			if err != nil {
				t.Fatalf("%s (mlserve %s): %v\nlog (last 40 lines):\n%s", name, names[name], err, lastLines(roles[name].stderr.String(), 40))
			}
		}
	}
	return roles
}

func launchRole(t *testing.T, dir, cfg string, env []string, name, r string) *role {
	t.Helper()
	port := freePort(t)
	s := &server{
		cmd: exec.Command(bin, r, "--config", cfg), base: "http://127.0.0.1:" + strconv.Itoa(port),
		stderr: &testenv.Buffer{}, done: make(chan struct{}),
	}
	s.cmd.Dir = dir
	s.cmd.Env = append(append(childEnv(), env...), "MLSERVE_ADDR=127.0.0.1:"+strconv.Itoa(port))
	s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start mlserve %s: %v", r, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("%s (mlserve %s, %s) log (last 60 lines):\n%s", name, r, s.base, lastLines(s.stderr.String(), 60))
		}
	})
	return &role{server: s, name: name}
}

// waitHealthy waits until /healthz answers 200.
func (s *server) waitHealthy(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("exited before answering /healthz: %v", s.waitErr)
		default:
		}
		if code, _ := s.get("/healthz"); code == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/healthz did not answer 200 within %v", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether the process still runs.
func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// logRecord is one JSON log line of a role.
type logRecord map[string]any

// logs returns the role's JSON log records whose msg is msg.
func (s *server) logs(msg string) []logRecord {
	var out []logRecord
	sc := bufio.NewScanner(strings.NewReader(s.stderr.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r logRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil && r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// int returns a numeric field of a log record (0 when missing).
func (r logRecord) int(key string) int64 {
	f, _ := r[key].(float64)
	return int64(f)
}

// loadGen sends predictions to api processes from a few goroutines and
// counts the answers.
type loadGen struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	ok   map[string]int
	bad  map[string]int
	// firstBad are the first failures, for the failure message.
	firstBad []string
	start    time.Time
}

// loadClient is the load generator's HTTP client: kept-alive loopback
// connections, never a proxy.
var loadClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8},
}

// startLoad sends GET /?… (the prototype's route) to each api from perAPI
// goroutines, pausing pause between requests, until Stop.
func startLoad(apis []*role, perAPI int, pause time.Duration) *loadGen {
	l := &loadGen{stop: make(chan struct{}), ok: map[string]int{}, bad: map[string]int{}, start: time.Now()}
	for _, a := range apis {
		for range perAPI {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				for {
					select {
					case <-l.stop:
						return
					default:
					}
					code, detail := loadOne(a.base + "/?" + femaleFirst)
					l.mu.Lock()
					if code >= 200 && code < 300 {
						l.ok[a.name]++
					} else {
						l.bad[a.name]++
						if len(l.firstBad) < 5 {
							l.firstBad = append(l.firstBad, fmt.Sprintf("%s %s: %d %s", time.Now().Format("15:04:05.000"), a.name, code, detail))
						}
					}
					l.mu.Unlock()
					time.Sleep(pause)
				}
			}()
		}
	}
	return l
}

func loadOne(url string) (int, string) {
	resp, err := loadClient.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&b)
	if err != nil {
		return 0, err.Error()
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, lastLines(b.String(), 3)
	}
	return resp.StatusCode, ""
}

// Stop ends the load and returns the answers by api: 2xx and others.
func (l *loadGen) Stop() (ok, bad map[string]int, firstBad []string, took time.Duration) {
	close(l.stop)
	l.wg.Wait()
	return l.ok, l.bad, l.firstBad, time.Since(l.start)
}

// servedWatch polls each api's predict route and records when each model
// version was first answered from: the served side of the
// promotion-to-served latency.
type servedWatch struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	first map[string]map[int]time.Time // api → version → first seen
}

func watchServed(apis []*role, every time.Duration) *servedWatch {
	w := &servedWatch{stop: make(chan struct{}), first: map[string]map[int]time.Time{}}
	for _, a := range apis {
		w.first[a.name] = map[int]time.Time{}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				select {
				case <-w.stop:
					return
				case <-time.After(every):
				}
				resp, err := loadClient.Get(a.base + "/v1/models/titanic/predict?" + femaleFirst)
				if err != nil {
					continue
				}
				seen := time.Now()
				var p predictAnswer
				err = json.NewDecoder(resp.Body).Decode(&p)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					continue
				}
				w.mu.Lock()
				if _, ok := w.first[a.name][p.Version]; !ok {
					w.first[a.name][p.Version] = seen
				}
				w.mu.Unlock()
			}
		}()
	}
	return w
}

// firstSeen returns when api first answered from version v.
func (w *servedWatch) firstSeen(api string, v int) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	at, ok := w.first[api][v]
	return at, ok
}

func (w *servedWatch) Stop() {
	close(w.stop)
	w.wg.Wait()
}
