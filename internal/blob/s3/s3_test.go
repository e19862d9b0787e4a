package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/blob/blobtest"
	"github.com/mlserve/mlserve/internal/testenv"
)

// testServer is the S3 server named by MLSERVE_TEST_S3_URL.
type testServer struct {
	url                  string // as given, bucket and all
	loc                  *Location
	accessKey, secretKey string
}

// server returns the test server, or skips the test when none is configured
// (fails instead in CI: testenv).
func server(t *testing.T) *testServer {
	t.Helper()
	u := testenv.Getenv(t, "MLSERVE_TEST_S3_URL", "S3 server")
	loc, err := ParseURL(u)
	if err != nil {
		t.Fatalf("MLSERVE_TEST_S3_URL: %v", err)
	}
	s := &testServer{url: u, loc: loc, accessKey: os.Getenv("AWS_ACCESS_KEY_ID"), secretKey: os.Getenv("AWS_SECRET_ACCESS_KEY")}
	// Tests that open s.url as is expect its bucket to exist.
	createOnce.Do(func() {
		_, createErr = Open(context.Background(), &Config{URL: u, AccessKey: s.accessKey, SecretKey: s.secretKey, CreateBucket: true})
	})
	if createErr != nil {
		t.Fatalf("create the bucket of MLSERVE_TEST_S3_URL: %v", createErr)
	}
	return s
}

var (
	createOnce sync.Once
	createErr  error
)

// withBucket returns the server's URL with another bucket and prefix.
func (s *testServer) withBucket(bucket, prefix string) string {
	u, _ := url.Parse(s.url)
	u.Host = bucket
	u.Path = "/" + prefix
	return u.String()
}

var nameRE = regexp.MustCompile(`[^a-z0-9-]+`)

// uniqueName is a bucket-safe name unique to this test run.
func uniqueName(t *testing.T) string {
	var r [4]byte
	rand.Read(r[:])
	n := nameRE.ReplaceAllString(strings.ToLower(t.Name()), "-")
	if len(n) > 40 {
		n = n[len(n)-40:]
	}
	return strings.Trim(n, "-") + "-" + hex.EncodeToString(r[:])
}

// open returns a bucket on the test server's bucket (created if missing)
// under a fresh prefix, so each test starts empty. Its keys are deleted when
// the test ends.
func (s *testServer) open(t *testing.T, cfg Config) *Bucket {
	t.Helper()
	prefix := uniqueName(t)
	if s.loc.Prefix != "" {
		prefix = s.loc.Prefix + "/" + prefix
	}
	cfg.URL = s.withBucket(s.loc.Bucket, prefix)
	cfg.AccessKey, cfg.SecretKey = s.accessKey, s.secretKey
	cfg.CreateBucket = true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, &cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		keys, err := b.List(ctx, "")
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		for _, k := range keys {
			if err := b.Delete(ctx, k); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
	return b
}

// newBucketName returns a fresh bucket name, and removes the bucket (if a
// test made it) with its objects when the test ends.
func (s *testServer) newBucketName(t *testing.T) string {
	name := uniqueName(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		b, err := Open(ctx, &Config{URL: s.withBucket(name, ""), AccessKey: s.accessKey, SecretKey: s.secretKey})
		if err != nil {
			return // never made
		}
		keys, err := b.List(ctx, "")
		for _, k := range keys {
			err = errors.Join(err, b.Delete(ctx, k))
		}
		if err = errors.Join(err, b.client.RemoveBucket(ctx, name)); err != nil {
			t.Logf("cleanup: remove bucket %s: %v", name, err)
		}
	})
	return name
}

func TestBucket(t *testing.T) {
	t.Parallel()
	s := server(t)
	blobtest.Run(t, func(t *testing.T) blob.Bucket { return s.open(t, Config{}) })
}

func TestBucketAtRoot(t *testing.T) {
	t.Parallel()
	s := server(t)
	// A bucket of its own, so the root is empty.
	blobtest.Run(t, func(t *testing.T) blob.Bucket {
		ctx := context.Background()
		b, err := Open(ctx, &Config{URL: s.withBucket(s.newBucketName(t), ""), AccessKey: s.accessKey, SecretKey: s.secretKey, CreateBucket: true})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return b
	})
}

func TestList(t *testing.T) {
	t.Parallel()
	s := server(t)
	ctx := context.Background()

	put := func(t *testing.T, b *Bucket, keys []string) {
		t.Helper()
		ch := make(chan string)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for k := range ch {
					if err := b.Put(ctx, k, []byte(k)); err != nil {
						t.Errorf("Put: %v", err)
					}
				}
			})
		}
		for _, k := range keys {
			ch <- k
		}
		close(ch)
		wg.Wait()
	}

	t.Run("ManySmallPages", func(t *testing.T) {
		t.Parallel()
		b := s.open(t, Config{listPageSize: 7})
		var want []string
		for i := range 300 {
			want = append(want, fmt.Sprintf("runs/%03d/report-%d.json", i, i%4))
		}
		// Keys outside the listed prefix, and ones sorting next to it.
		put(t, b, append(slices.Clone(want), "runs.json", "runsX/1", "run/1"))
		got, err := b.List(ctx, "runs/")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("List returned %d keys, want %d (first %v)", len(got), len(want), got[:min(len(got), 3)])
		}
	})

	t.Run("MoreThanOneServerPage", func(t *testing.T) {
		t.Parallel()
		var lists atomic.Int32
		countLists := func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(req *http.Request) (*http.Response, error) {
				if req.URL.Query().Get("list-type") == "2" {
					lists.Add(1)
				}
				return rt.RoundTrip(req)
			})
		}
		b := s.open(t, Config{wrapTransport: countLists}) // the server's page: 1000 keys
		var want []string
		for i := range 1100 {
			want = append(want, fmt.Sprintf("k/%04d", i))
		}
		put(t, b, want)
		lists.Store(0)
		got, err := b.List(ctx, "")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("List returned %d keys, want %d", len(got), len(want))
		}
		if n := lists.Load(); n < 2 {
			t.Errorf("List took %d request(s), want at least 2 pages", n)
		}
	})

	t.Run("SortedAcrossFolders", func(t *testing.T) {
		t.Parallel()
		b := s.open(t, Config{listPageSize: 2})
		// '-' and '.' sort before '/': a listing walked folder by folder
		// would put a/b first.
		keys := []string{"a/b", "a-c", "a.d", "a0", "b"}
		put(t, b, keys)
		got, err := b.List(ctx, "")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		want := slices.Sorted(slices.Values(keys))
		if !slices.Equal(got, want) {
			t.Fatalf("List = %v, want %v", got, want)
		}
	})

	t.Run("CancelledMidwayIsAnError", func(t *testing.T) {
		t.Parallel()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// Cancel once the first page has been read: the listing then stops
		// quietly inside minio-go, and List must not pass it off as whole.
		var armed atomic.Bool
		cancelAfterFirstPage := func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(req *http.Request) (*http.Response, error) {
				resp, err := rt.RoundTrip(req)
				if err == nil && armed.Load() && req.URL.Query().Get("list-type") == "2" {
					resp.Body = closeHook{resp.Body, cancel}
				}
				return resp, err
			})
		}
		b := s.open(t, Config{listPageSize: 1, wrapTransport: cancelAfterFirstPage})
		put(t, b, []string{"a", "b", "c", "d"})
		armed.Store(true)
		got, err := b.List(cctx, "")
		if err == nil {
			t.Fatalf("List cancelled after the first page = %v, nil; want an error", got)
		}
		if !errors.Is(err, context.Canceled) || errors.Is(err, blob.ErrUnavailable) {
			t.Fatalf("List: err = %v, want context.Canceled and not ErrUnavailable", err)
		}
	})
}

type closeHook struct {
	io.ReadCloser
	onClose func()
}

func (c closeHook) Close() error {
	err := c.ReadCloser.Close()
	c.onClose()
	return err
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func TestOpen(t *testing.T) {
	t.Parallel()
	s := server(t)
	ctx := context.Background()

	t.Run("CreatesMissingBucket", func(t *testing.T) {
		t.Parallel()
		u := s.withBucket(s.newBucketName(t), "models")
		b, err := Open(ctx, &Config{URL: u, AccessKey: s.accessKey, SecretKey: s.secretKey, CreateBucket: true})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := b.Put(ctx, "a", []byte("x")); err != nil {
			t.Fatalf("Put: %v", err)
		}
		// Open again: the bucket exists now, with or without CreateBucket.
		for _, create := range []bool{true, false} {
			b2, err := Open(ctx, &Config{URL: u, AccessKey: s.accessKey, SecretKey: s.secretKey, CreateBucket: create})
			if err != nil {
				t.Fatalf("Open again (CreateBucket=%t): %v", create, err)
			}
			if got, err := b2.Get(ctx, "a"); err != nil || string(got) != "x" {
				t.Fatalf("Get = %q, %v; want x", got, err)
			}
		}
	})

	t.Run("ConcurrentCreatesAllSucceed", func(t *testing.T) {
		t.Parallel()
		u := s.withBucket(s.newBucketName(t), "")
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if _, err := Open(ctx, &Config{URL: u, AccessKey: s.accessKey, SecretKey: s.secretKey, CreateBucket: true}); err != nil {
					t.Errorf("Open: %v", err)
				}
			})
		}
		wg.Wait()
	})

	t.Run("MissingBucketWithoutCreate", func(t *testing.T) {
		t.Parallel()
		bucket := uniqueName(t)
		_, err := Open(ctx, &Config{URL: s.withBucket(bucket, ""), AccessKey: s.accessKey, SecretKey: s.secretKey})
		if err == nil {
			t.Fatal("Open of a missing bucket succeeded")
		}
		checkNames(t, err, bucket, s.loc.Endpoint, "create it")
		if errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("error wraps ErrUnavailable: %v", err)
		}
	})

	t.Run("WrongSecretKey", func(t *testing.T) {
		t.Parallel()
		for _, create := range []bool{false, true} {
			_, err := Open(ctx, &Config{URL: s.url, AccessKey: s.accessKey, SecretKey: "not-" + s.secretKey, CreateBucket: create})
			if err == nil {
				t.Fatal("Open with a wrong secret key succeeded")
			}
			checkNames(t, err, s.loc.Bucket, s.loc.Endpoint, "AWS_SECRET_ACCESS_KEY")
			if strings.Contains(err.Error(), "not-"+s.secretKey) {
				t.Errorf("error shows the secret key: %v", err)
			}
			if errors.Is(err, blob.ErrUnavailable) {
				t.Errorf("error wraps ErrUnavailable: %v", err)
			}
		}
	})

	t.Run("UnknownAccessKey", func(t *testing.T) {
		t.Parallel()
		_, err := Open(ctx, &Config{URL: s.url, AccessKey: "nobody", SecretKey: "nothing", CreateBucket: true})
		if err == nil {
			t.Fatal("Open with an unknown access key succeeded")
		}
		checkNames(t, err, s.loc.Bucket, s.loc.Endpoint, "AWS_ACCESS_KEY_ID")
	})

	t.Run("WrongRegion", func(t *testing.T) {
		t.Parallel()
		u := strings.Replace(s.url, "region="+s.loc.Region, "region=eu-north-1", 1)
		if s.loc.Region == "" || s.loc.Region == "eu-north-1" || u == s.url {
			testenv.Missing(t, "MLSERVE_TEST_S3_URL names no region to change")
		}
		_, err := Open(ctx, &Config{URL: u, AccessKey: s.accessKey, SecretKey: s.secretKey})
		if err == nil {
			t.Fatal("Open with a wrong region succeeded")
		}
		checkNames(t, err, s.loc.Bucket, s.loc.Endpoint, "region=")
	})

	t.Run("OnlyOneKey", func(t *testing.T) {
		t.Parallel()
		_, err := Open(ctx, &Config{URL: s.url, AccessKey: s.accessKey})
		if err == nil || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
			t.Fatalf("Open with only an access key: err = %v, want one naming AWS_SECRET_ACCESS_KEY", err)
		}
	})

	t.Run("CredentialsFromEnvironment", func(t *testing.T) {
		// Not parallel with the rest: it reads the process environment,
		// which server() took its keys from.
		if s.accessKey == "" {
			testenv.Missing(t, "AWS_ACCESS_KEY_ID is not set (the test S3 server's key)")
		}
		if _, err := Open(ctx, &Config{URL: s.url, CreateBucket: true}); err != nil {
			t.Fatalf("Open with keys from the environment: %v", err)
		}
	})
}

// checkNames fails t unless err's text contains each of want.
func checkNames(t *testing.T, err error, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	s := server(t)
	b := s.open(t, Config{})
	got := b.String()
	if !strings.HasPrefix(got, "s3://"+s.loc.Bucket+"/") || !strings.HasSuffix(got, " ("+s.loc.Endpoint+")") {
		t.Errorf("String = %q, want s3://%s/… (%s)", got, s.loc.Bucket, s.loc.Endpoint)
	}
	if len(s.secretKey) >= 8 && strings.Contains(got, s.secretKey) {
		t.Errorf("String shows the secret key: %q", got)
	}
}

// corruptingTransport flips one byte of every PUT body it forwards, as a
// faulty link or proxy would.
type corruptingTransport struct {
	next http.RoundTripper
}

func (c corruptingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPut || req.Body == nil || req.ContentLength <= 0 {
		return c.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	body[len(body)/2] ^= 0xff
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	return c.next.RoundTrip(r)
}

func TestPutRefusesCorruptedBody(t *testing.T) {
	t.Parallel()
	s := server(t)
	ctx := context.Background()
	good := s.open(t, Config{})
	if err := good.Put(ctx, "model", []byte("old model")); err != nil {
		t.Fatal(err)
	}
	bad, err := Open(ctx, &Config{
		URL:       s.withBucket(good.loc.Bucket, good.loc.Prefix),
		AccessKey: s.accessKey, SecretKey: s.secretKey,
		wrapTransport: func(rt http.RoundTripper) http.RoundTripper { return corruptingTransport{rt} },
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for _, key := range []string{"model", "new"} {
		if err := bad.Put(ctx, key, bytes.Repeat([]byte("new model "), 1000)); err == nil {
			t.Errorf("Put %s of a corrupted body succeeded", key)
		} else if errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Put %s: a refused body wraps ErrUnavailable: %v", key, err)
		} else {
			t.Logf("Put %s: %v", key, err)
		}
	}
	if got, err := good.Get(ctx, "model"); err != nil || string(got) != "old model" {
		t.Errorf("Get model = %q, %v; want the old content", got, err)
	}
	if _, err := good.Get(ctx, "new"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get new: err = %v, want ErrNotFound", err)
	}
}
