// Package s3 is a blob.Bucket on an S3-compatible object store (AWS S3,
// MinIO, versitygw, …), through minio-go.
//
// Every object is written with one PutObject, which S3 makes visible only
// once the upload is complete, so a reader never sees a partial object. The
// request carries the body's MD5 (Content-MD5) and SHA-256
// (x-amz-content-sha256), so a server refuses a body damaged on the way.
// Errors meaning the server cannot be reached or is failing (network errors,
// timeouts, 5xx) wrap blob.ErrUnavailable.
package s3

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mlserve/mlserve/internal/blob"
)

const (
	defaultTimeout    = 30 * time.Second
	defaultMaxRetries = 3
	// maxPutSize is S3's limit for a single PutObject.
	maxPutSize = 5 << 30
)

// Config says which bucket to open and how.
type Config struct {
	// URL is s3://bucket/prefix?endpoint=host:port&secure=false&region=…
	// (see ParseURL).
	URL string
	// AccessKey and SecretKey are the credentials. When both are empty they
	// are read from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
	// AWS_SESSION_TOKEN; when those are empty too, requests are anonymous.
	AccessKey, SecretKey string
	// CreateBucket creates the bucket at Open if it does not exist.
	CreateBucket bool
	// Timeout bounds every wait on the server: connecting, the TLS
	// handshake, the response headers, and any pause while a body is sent or
	// received. Zero means 30s.
	Timeout time.Duration
	// MaxRetries is how many times a request is tried when the error may be
	// passing (network errors, 5xx, throttling). Zero means 3.
	MaxRetries int

	// listPageSize sets ListObjectsV2's max-keys (tests use it to force
	// many pages); zero leaves the server's default (1000).
	listPageSize int
	// wrapTransport lets tests tamper with requests.
	wrapTransport func(http.RoundTripper) http.RoundTripper
}

// Bucket is a blob.Bucket stored under a prefix of an S3 bucket.
type Bucket struct {
	client       *minio.Client
	core         minio.Core
	loc          *Location
	prefix       string // loc.Prefix + "/", or "" for the bucket root
	listPageSize int
}

var _ blob.Bucket = (*Bucket)(nil)

// Open connects to the bucket named by cfg.URL and checks that it exists and
// that the credentials may list it. With cfg.CreateBucket a missing bucket is
// created. An error that means the endpoint cannot be reached wraps
// blob.ErrUnavailable; any other error says what to fix.
func Open(ctx context.Context, cfg *Config) (*Bucket, error) {
	loc, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	timeout := cmp.Or(cfg.Timeout, defaultTimeout)
	if timeout < 0 {
		return nil, fmt.Errorf("s3 timeout %v: must not be negative", cfg.Timeout)
	}
	retries := cmp.Or(cfg.MaxRetries, defaultMaxRetries)
	if retries < 0 {
		return nil, fmt.Errorf("s3 max retries %d: must not be negative", cfg.MaxRetries)
	}

	var creds *credentials.Credentials
	switch {
	case cfg.AccessKey != "" && cfg.SecretKey != "":
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	case cfg.AccessKey != "" || cfg.SecretKey != "":
		return nil, fmt.Errorf("s3 credentials for %s: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not only one", loc)
	default:
		creds = credentials.NewEnvAWS()
	}

	var transport http.RoundTripper = newTransport(timeout)
	if cfg.wrapTransport != nil {
		transport = cfg.wrapTransport(transport)
	}
	lookup := minio.BucketLookupDNS
	switch {
	case loc.PathStyle:
		lookup = minio.BucketLookupPath
	case loc.Endpoint == "":
		// AWS: virtual host, except for a dotted bucket name over https,
		// which the wildcard certificate cannot cover.
		lookup = minio.BucketLookupAuto
	}
	client, err := minio.New(loc.Host(), &minio.Options{
		Creds:        creds,
		Secure:       loc.Secure,
		Transport:    transport,
		Region:       loc.Region,
		BucketLookup: lookup,
		MaxRetries:   retries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", loc, err)
	}
	b := &Bucket{
		client:       client,
		core:         minio.Core{Client: client},
		loc:          loc,
		listPageSize: cfg.listPageSize,
	}
	if loc.Prefix != "" {
		b.prefix = loc.Prefix + "/"
	}
	if err := b.check(ctx, cfg.CreateBucket); err != nil {
		return nil, err
	}
	return b, nil
}

// check lists one key to learn whether the bucket exists and the
// credentials are accepted, and creates the bucket if asked to.
func (b *Bucket) check(ctx context.Context, create bool) error {
	err := b.probe(ctx)
	if err == nil {
		return nil
	}
	if s3Code(err) != minio.NoSuchBucket {
		return b.openError(ctx, err)
	}
	if !create {
		return fmt.Errorf("s3 bucket %q does not exist at %s: create it, or fix the bucket name in MLSERVE_ARTIFACTS_URL", b.loc.Bucket, b.loc.Host())
	}
	err = b.client.MakeBucket(ctx, b.loc.Bucket, minio.MakeBucketOptions{Region: b.loc.Region})
	switch s3Code(err) {
	case "":
		if err != nil {
			return b.openError(ctx, err)
		}
		return nil
	case "BucketAlreadyOwnedByYou":
		return nil // another process created it first
	case "BucketAlreadyExists":
		// Either another of our processes won the race (some servers say
		// so instead of BucketAlreadyOwnedByYou), or the name belongs to
		// someone else: probing again tells which.
		if perr := b.probe(ctx); perr != nil {
			return fmt.Errorf("s3 bucket %q at %s exists but is not usable with these credentials (the name may belong to another account): choose another bucket name in MLSERVE_ARTIFACTS_URL: %w",
				b.loc.Bucket, b.loc.Host(), perr)
		}
		return nil
	}
	return fmt.Errorf("create s3 bucket %q at %s: %w (create it by hand, or use credentials allowed to create buckets)",
		b.loc.Bucket, b.loc.Host(), b.classify(ctx, err))
}

// probe lists at most one key under the prefix.
func (b *Bucket) probe(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	noOwner := false
	for obj := range b.client.ListObjectsIter(ctx, b.loc.Bucket, minio.ListObjectsOptions{
		Prefix: b.prefix, Recursive: true, MaxKeys: 1, FetchOwner: &noOwner,
	}) {
		return obj.Err
	}
	return ctx.Err()
}

// Ping checks that the bucket answers a one-key listing with these
// credentials (readiness checks). An unreachable server wraps
// blob.ErrUnavailable; the error names the bucket and the endpoint.
func (b *Bucket) Ping(ctx context.Context) error {
	if err := b.probe(ctx); err != nil {
		return explain(fmt.Sprintf("s3 bucket %q at %s", b.loc.Bucket, b.loc.Host()), b.classify(ctx, err))
	}
	return nil
}

// String returns "s3://bucket/prefix (endpoint)".
func (b *Bucket) String() string { return b.loc.String() }

// Location returns where the bucket is.
func (b *Bucket) Location() Location { return *b.loc }

// Put uploads data in one PutObject with its MD5 and SHA-256, so the object
// appears whole or not at all and a damaged body is refused.
func (b *Bucket) Put(ctx context.Context, key string, data []byte) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if len(data) > maxPutSize {
		return fmt.Errorf("put %s: %d bytes is over S3's single-upload limit of 5 GiB", key, len(data))
	}
	sum := md5.Sum(data)
	sha := sha256.Sum256(data)
	_, err := b.core.PutObject(ctx, b.loc.Bucket, b.prefix+key, bytes.NewReader(data), int64(len(data)),
		base64.StdEncoding.EncodeToString(sum[:]), hex.EncodeToString(sha[:]),
		minio.PutObjectOptions{
			ContentType: "application/octet-stream",
			// The SHA-256 above goes in x-amz-content-sha256 and is signed;
			// this only turns off the chunked streaming signature.
			DisableContentSha256: true,
		})
	if err != nil {
		return b.opError(ctx, "put", key, err)
	}
	return nil
}

// Get downloads the object and checks it got as many bytes as announced.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	if err := blob.CheckKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	body, info, _, err := b.core.GetObject(ctx, b.loc.Bucket, b.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, b.opError(ctx, "get", key, err)
	}
	defer body.Close()
	var buf bytes.Buffer
	if info.Size > 0 && info.Size <= maxPutSize {
		buf.Grow(int(info.Size))
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, b.opError(ctx, "get", key, err)
	}
	if info.Size >= 0 && int64(buf.Len()) != info.Size {
		return nil, fmt.Errorf("get %s in %s: %w: got %d of %d bytes", key, b, blob.ErrUnavailable, buf.Len(), info.Size)
	}
	return buf.Bytes(), nil
}

// Delete removes the object; a missing one is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	err := b.client.RemoveObject(ctx, b.loc.Bucket, b.prefix+key, minio.RemoveObjectOptions{})
	if err != nil && s3Code(err) != minio.NoSuchKey {
		return b.opError(ctx, "delete", key, err)
	}
	return nil
}

// List pages through ListObjectsV2 for the keys under the prefix.
func (b *Bucket) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	what := fmt.Sprintf("%q", prefix)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	noOwner := false
	var keys []string
	for obj := range b.client.ListObjectsIter(lctx, b.loc.Bucket, minio.ListObjectsOptions{
		Prefix: b.prefix + prefix, Recursive: true, MaxKeys: b.listPageSize, FetchOwner: &noOwner,
	}) {
		if obj.Err != nil {
			return nil, b.opError(ctx, "list", what, obj.Err)
		}
		key, ok := strings.CutPrefix(obj.Key, b.prefix)
		if !ok || strings.HasSuffix(key, "/") {
			continue // a folder marker made by another tool
		}
		keys = append(keys, key)
	}
	// The iterator ends quietly when the context ends: do not return a
	// partial list as if it were whole.
	if err := ctx.Err(); err != nil {
		return nil, b.opError(ctx, "list", what, err)
	}
	slices.Sort(keys)
	return keys, nil
}
