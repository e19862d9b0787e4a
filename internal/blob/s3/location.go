package s3

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// awsEndpoint is used when the URL names no endpoint.
const awsEndpoint = "s3.amazonaws.com"

// Location is a parsed s3:// artifacts URL.
type Location struct {
	// Bucket is the bucket name (the URL's host).
	Bucket string
	// Prefix is prepended, with a "/", to every key; empty for the bucket root.
	// It never starts or ends with "/".
	Prefix string
	// Endpoint is host[:port] of the server; empty means AWS S3.
	Endpoint string
	// Secure selects https (the default) over http.
	Secure bool
	// Region is the bucket's region; empty lets the client discover it.
	Region string
	// PathStyle addresses the bucket as http://endpoint/bucket/key instead of
	// http://bucket.endpoint/key. It defaults to true when an endpoint is
	// given (MinIO, versitygw and most self-hosted servers need it) and to
	// false for AWS.
	PathStyle bool
}

// Host returns the server the location talks to: Endpoint, or AWS S3's.
func (l *Location) Host() string {
	if l.Endpoint != "" {
		return l.Endpoint
	}
	return awsEndpoint
}

// String returns "s3://bucket/prefix (endpoint)". A Location holds no secrets.
func (l *Location) String() string {
	s := "s3://" + l.Bucket
	if l.Prefix != "" {
		s += "/" + l.Prefix
	}
	return s + " (" + l.Host() + ")"
}

var userinfoRE = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#]*@`)

// redact hides anything that looks like credentials in a URL, so it can be
// quoted in an error.
func redact(raw string) string {
	return userinfoRE.ReplaceAllString(raw, "${1}***@")
}

const urlForm = "s3://bucket/prefix?endpoint=host:port&secure=false&region=us-east-1"

// ParseURL parses s3://bucket/prefix?endpoint=host:port&secure=false&region=…&path_style=true.
// Every query parameter is optional; unknown ones are refused so a typo is
// not silently ignored. Credentials do not belong in the URL (they come from
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
func ParseURL(raw string) (*Location, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("artifacts URL %q: %s (form: %s)", redact(raw), fmt.Sprintf(format, args...), urlForm)
	}
	u, err := url.Parse(raw)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err // its text repeats the raw URL, credentials included
		}
		return nil, bad("%v", err)
	}
	if u.Scheme != "s3" {
		return nil, bad("the scheme must be s3://")
	}
	if u.Opaque != "" {
		return nil, bad("write s3://bucket, with two slashes")
	}
	if u.User != nil {
		return nil, bad("credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return nil, bad("a fragment (#…) is not allowed")
	}
	if u.Host == "" {
		return nil, bad("no bucket name")
	}
	if u.Port() != "" || strings.Contains(u.Host, ":") {
		return nil, bad("the host part is the bucket name; give the server as ?endpoint=host:port")
	}
	loc := &Location{Bucket: u.Host, Secure: true}
	if err := s3utils.CheckValidBucketNameStrict(loc.Bucket); err != nil {
		return nil, bad("bucket name %q: %v (3 to 63 lowercase letters, digits, dots and hyphens)", loc.Bucket, err)
	}

	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		for _, seg := range strings.Split(prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return nil, bad("prefix %q has an empty, . or .. segment", prefix)
			}
		}
		for _, r := range prefix {
			if r < 0x20 || r == 0x7f || r == '\\' {
				return nil, bad("prefix %q has a control character or backslash", prefix)
			}
		}
	}
	loc.Prefix = prefix

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, bad("query: %v", err)
	}
	for k, vs := range q {
		if len(vs) > 1 {
			return nil, bad("%s is given %d times", k, len(vs))
		}
	}
	secureSet := false
	pathStyleSet := false
	for k, vs := range q {
		v := vs[0]
		switch k {
		case "endpoint":
			if v == "" {
				return nil, bad("endpoint is empty")
			}
			loc.Endpoint = v
		case "secure":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, bad("secure=%q: want true or false", v)
			}
			loc.Secure, secureSet = b, true
		case "region":
			if v == "" || strings.ContainsAny(v, " /") {
				return nil, bad("region=%q: want a region name such as us-east-1", v)
			}
			loc.Region = v
		case "path_style":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, bad("path_style=%q: want true or false", v)
			}
			loc.PathStyle, pathStyleSet = b, true
		default:
			return nil, bad("unknown parameter %q (known: endpoint, secure, region, path_style)", k)
		}
	}

	if loc.Endpoint != "" {
		// Accept http://host:port and https://host:port too: the scheme
		// then says whether to use TLS.
		ep := loc.Endpoint
		if scheme, rest, ok := strings.Cut(ep, "://"); ok {
			var secure bool
			switch strings.ToLower(scheme) {
			case "http":
				secure = false
			case "https":
				secure = true
			default:
				return nil, bad("endpoint %q: the scheme must be http:// or https://, or none", ep)
			}
			if secureSet && secure != loc.Secure {
				return nil, bad("endpoint %q contradicts secure=%t", ep, loc.Secure)
			}
			loc.Secure, ep = secure, strings.TrimSuffix(rest, "/")
		}
		if err := checkHostPort(ep); err != nil {
			return nil, bad("endpoint %q: %v", loc.Endpoint, err)
		}
		loc.Endpoint = ep
	}
	if !pathStyleSet {
		loc.PathStyle = loc.Endpoint != ""
	}
	return loc, nil
}

// checkHostPort accepts host, host:port, [v6] and [v6]:port.
func checkHostPort(ep string) error {
	if ep == "" || strings.ContainsAny(ep, "/?#@ ") {
		return fmt.Errorf("want host or host:port, nothing else")
	}
	host, port := ep, ""
	if h, p, err := net.SplitHostPort(ep); err == nil {
		host, port = h, p
	} else if strings.Contains(ep, ":") {
		return fmt.Errorf("want host or host:port (an IPv6 address in brackets): %v", err)
	}
	if host == "" {
		return fmt.Errorf("no host")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q: want 1 to 65535", port)
		}
	}
	return nil
}
