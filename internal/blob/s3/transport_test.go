package s3

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/mlserve/mlserve/internal/blob"
)

// TestTransportTimeouts checks the transport against an HTTP server that
// stops in the middle of a body: the dial and response-header timeouts do
// not cover that, the per-read/write idle timeout does.
func TestTransportTimeouts(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stall", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		<-release
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "20")
		// 20 gaps of a tenth of the timeout: 600ms in all, longer than the
		// timeout, but never idle for it (a wide margin for loaded machines).
		for range 20 {
			w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			time.Sleep(timeout / 10)
		}
	})
	mux.HandleFunc("PUT /stall", func(w http.ResponseWriter, r *http.Request) {
		<-release // never reads the body
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { close(release); srv.Close() })
	client := &http.Client{Transport: newTransport(timeout)}

	within := func(t *testing.T, bound time.Duration, f func() error) error {
		t.Helper()
		start := time.Now()
		err := f()
		if took := time.Since(start); took > bound {
			t.Errorf("took %v, want at most %v", took, bound)
		}
		return err
	}

	t.Run("BodyStalls", func(t *testing.T) {
		t.Parallel()
		err := within(t, 3*time.Second, func() error {
			resp, err := client.Get(srv.URL + "/stall")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.ReadAll(resp.Body)
			return err
		})
		if err == nil || !unavailable(err) {
			t.Fatalf("err = %v, want a timeout counted as unavailable", err)
		}
		t.Log(err)
	})

	t.Run("UploadStalls", func(t *testing.T) {
		t.Parallel()
		err := within(t, 5*time.Second, func() error {
			// More than the socket buffers of both ends can absorb.
			const size = 1 << 30
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/stall", io.LimitReader(zeros{}, size))
			req.ContentLength = size
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		})
		if err == nil || !unavailable(err) {
			t.Fatalf("err = %v, want a timeout counted as unavailable", err)
		}
		t.Log(err)
	})

	t.Run("SlowButSteadyBodyIsFine", func(t *testing.T) {
		t.Parallel()
		resp, err := client.Get(srv.URL + "/slow")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 20 {
			t.Fatalf("ReadAll = %d bytes, %v; want 20, nil", len(b), err)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	loc, _ := ParseURL("s3://bkt/p?endpoint=127.0.0.1:9&secure=false")
	b := &Bucket{loc: loc, prefix: "p/"}
	urlErr := func(err error) error { return &url.Error{Op: "Get", URL: "http://127.0.0.1:9/bkt/p/k", Err: err} }
	refused := urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name        string
		ctx         context.Context
		err         error
		notFound    bool
		unavailable bool
		text        string
	}{
		{name: "NoSuchKey", err: minio.ErrorResponse{StatusCode: 404, Code: "NoSuchKey"}, notFound: true},
		{name: "SlowDown", err: minio.ErrorResponse{StatusCode: 503, Code: "SlowDown", Message: "Please reduce your request rate."}, unavailable: true, text: "SlowDown: Please reduce"},
		{name: "InternalError", err: minio.ErrorResponse{StatusCode: 500, Code: "InternalError"}, unavailable: true},
		{name: "BadGateway", err: minio.ErrorResponse{StatusCode: 502, Code: "502 Bad Gateway"}, unavailable: true},
		{name: "TooManyRequests", err: minio.ErrorResponse{StatusCode: 429, Code: "429 Too Many Requests"}, unavailable: true},
		{name: "NotImplemented", err: minio.ErrorResponse{StatusCode: 501, Code: "NotImplemented"}},
		{name: "AccessDenied", err: minio.ErrorResponse{StatusCode: 403, Code: "AccessDenied"}},
		{name: "BadDigest", err: minio.ErrorResponse{StatusCode: 400, Code: "BadDigest"}},
		{name: "SignatureDoesNotMatch", err: minio.ErrorResponse{StatusCode: 403, Code: "SignatureDoesNotMatch"}, text: "AWS_SECRET_ACCESS_KEY"},
		{name: "NoSuchBucket", err: minio.ErrorResponse{StatusCode: 404, Code: "NoSuchBucket"}, text: `bucket "bkt" does not exist at 127.0.0.1:9`},
		{name: "ConnectionRefused", err: refused, unavailable: true},
		{name: "ConnectionReset", err: urlErr(os.NewSyscallError("read", syscall.ECONNRESET)), unavailable: true},
		{name: "TruncatedBody", err: io.ErrUnexpectedEOF, unavailable: true},
		{name: "Timeout", err: urlErr(context.DeadlineExceeded), unavailable: true},
		{name: "UntrustedCertificate", err: urlErr(x509.UnknownAuthorityError{})},
		{name: "PlainHTTPServer", err: urlErr(errors.New("http: server gave HTTP response to HTTPS client")), text: "secure=false"},
		{name: "CallerCancelled", ctx: cancelled, err: urlErr(context.Canceled)},
		{name: "CallerDeadline", err: fmt.Errorf("wait: %w", context.DeadlineExceeded), unavailable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			got := b.opError(ctx, "get", "k", tt.err)
			if errors.Is(got, blob.ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(%v, ErrNotFound) = %t, want %t", got, !tt.notFound, tt.notFound)
			}
			if errors.Is(got, blob.ErrUnavailable) != tt.unavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %t, want %t", got, !tt.unavailable, tt.unavailable)
			}
			if !errors.Is(got, tt.err) && !tt.notFound {
				t.Errorf("%v does not wrap %v", got, tt.err)
			}
			if tt.text != "" && !bytes.Contains([]byte(got.Error()), []byte(tt.text)) {
				t.Errorf("error %q does not contain %q", got, tt.text)
			}
		})
	}
}
