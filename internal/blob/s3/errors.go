package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"

	"github.com/mlserve/mlserve/internal/blob"
)

// opError maps an error of a Put, Get, Delete or List onto the blob
// sentinels and names the action, the key and the bucket.
func (b *Bucket) opError(ctx context.Context, op, key string, err error) error {
	if s3Code(err) == minio.NoSuchKey {
		return fmt.Errorf("%s %s: %w", op, key, blob.ErrNotFound)
	}
	err = b.classify(ctx, err)
	if s3Code(err) == minio.NoSuchBucket {
		return fmt.Errorf("%s %s: s3 bucket %q does not exist at %s any more: %w", op, key, b.loc.Bucket, b.loc.Host(), err)
	}
	return explain(fmt.Sprintf("%s %s in %s", op, key, b), err)
}

// openError turns an error of Open's bucket check into one that names the
// bucket and the endpoint and says what to do.
func (b *Bucket) openError(ctx context.Context, err error) error {
	where := fmt.Sprintf("open s3 bucket %q at %s", b.loc.Bucket, b.loc.Host())
	err = b.classify(ctx, err)
	if errors.Is(err, blob.ErrUnavailable) {
		return fmt.Errorf("%s: %w (check that the server is running and that endpoint= and secure= in MLSERVE_ARTIFACTS_URL are right)", where, err)
	}
	return explain(where, err)
}

// explain prefixes err with what failed and, for the errors a setting
// fixes, what they mean and what to do.
func explain(what string, err error) error {
	switch code := s3Code(err); {
	case isCredentialError(err):
		return fmt.Errorf("%s: the server refused the credentials: %w (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", what, err)
	case code == "AuthorizationHeaderMalformed" || code == "InvalidRegion" || code == "IllegalLocationConstraintException" || code == "PermanentRedirect":
		return fmt.Errorf("%s: wrong region: %w (check region= in MLSERVE_ARTIFACTS_URL)", what, err)
	case code == "RequestTimeTooSkewed":
		return fmt.Errorf("%s: %w (check this machine's clock)", what, err)
	case s3Status(err) == http.StatusForbidden:
		return fmt.Errorf("%s: access denied: %w (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and that they may list and write the bucket)", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// classify wraps err with blob.ErrUnavailable when it means the server could
// not be reached, did not answer in time or failed on its side (5xx,
// throttling): errors worth reporting as "object store unavailable" and
// retrying later. A cancellation by the caller is returned as is.
func (b *Bucket) classify(ctx context.Context, err error) error {
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return err
	}
	if code := s3Code(err); code != "" && !strings.Contains(err.Error(), code) {
		// minio-go's text is the message alone; the code is what one
		// searches for.
		err = fmt.Errorf("%s: %w", code, err)
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", blob.ErrUnavailable, err)
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Errorf("%w (the server speaks plain http: add secure=false to MLSERVE_ARTIFACTS_URL)", err)
	}
	return err
}

// s3Code returns the S3 error code in err's chain, or "".
func s3Code(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code
	}
	return ""
}

// s3Status returns the HTTP status of the S3 error in err's chain, or 0.
func s3Status(err error) int {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.StatusCode
	}
	return 0
}

func unavailable(err error) bool {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && resp.StatusCode != 0 {
		switch resp.Code {
		case "SlowDown", "SlowDownRead", "SlowDownWrite", "ServiceUnavailable", "InternalError",
			"RequestTimeout", "Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestThrottled":
			return true
		}
		s := resp.StatusCode
		return s == http.StatusRequestTimeout || s == http.StatusTooManyRequests ||
			(s >= 500 && s != http.StatusNotImplemented)
	}
	// A certificate the client does not trust is a setting to fix, not an
	// outage to wait out.
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalidCert) {
		return false
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return false
	}
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		// minio-go replaces an EOF from the connection with this text.
		strings.Contains(err.Error(), "Connection closed by foreign host")
}

// isCredentialError reports whether the server refused the access key or
// the signature.
func isCredentialError(err error) bool {
	switch s3Code(err) {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
		"InvalidSecurity", "MissingSecurityHeader",
		"XAdminUserNotFound": // versitygw's InvalidAccessKeyId, with status 404
		return true
	}
	return false
}
