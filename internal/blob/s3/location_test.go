package s3

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	t.Parallel()

	good := []struct {
		url  string
		want Location
		str  string
	}{
		{
			url:  "s3://models",
			want: Location{Bucket: "models", Secure: true},
			str:  "s3://models (s3.amazonaws.com)",
		},
		{
			url:  "s3://models/mlserve/prod/?region=eu-west-1",
			want: Location{Bucket: "models", Prefix: "mlserve/prod", Secure: true, Region: "eu-west-1"},
			str:  "s3://models/mlserve/prod (s3.amazonaws.com)",
		},
		{
			url:  "s3://mlserve-test?endpoint=127.0.0.1:7070&secure=false&region=us-east-1",
			want: Location{Bucket: "mlserve-test", Endpoint: "127.0.0.1:7070", Region: "us-east-1", PathStyle: true},
			str:  "s3://mlserve-test (127.0.0.1:7070)",
		},
		{
			url:  "s3://bkt/p?endpoint=minio.internal&path_style=false",
			want: Location{Bucket: "bkt", Prefix: "p", Endpoint: "minio.internal", Secure: true},
			str:  "s3://bkt/p (minio.internal)",
		},
		{
			url:  "s3://bkt?path_style=true",
			want: Location{Bucket: "bkt", Secure: true, PathStyle: true},
		},
		{
			url:  "s3://bkt?endpoint=http://localhost:9000",
			want: Location{Bucket: "bkt", Endpoint: "localhost:9000", PathStyle: true},
		},
		{
			url:  "s3://bkt?endpoint=https://s3.example.com/&secure=true",
			want: Location{Bucket: "bkt", Endpoint: "s3.example.com", Secure: true, PathStyle: true},
		},
		{
			url:  "s3://bkt?endpoint=[::1]:9000&secure=0",
			want: Location{Bucket: "bkt", Endpoint: "[::1]:9000", PathStyle: true},
		},
		{
			url:  "s3://my.dotted.bucket/a%20b",
			want: Location{Bucket: "my.dotted.bucket", Prefix: "a b", Secure: true},
		},
	}
	for _, tt := range good {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			got, err := ParseURL(tt.url)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if *got != tt.want {
				t.Errorf("ParseURL = %+v, want %+v", *got, tt.want)
			}
			if tt.str != "" && got.String() != tt.str {
				t.Errorf("String = %q, want %q", got.String(), tt.str)
			}
		})
	}

	bad := []struct {
		url  string
		want string // in the error
	}{
		{"", "scheme must be s3://"},
		{"file:///tmp/x", "scheme must be s3://"},
		{"S3:bucket", "two slashes"},
		{"s3:///prefix", "no bucket name"},
		{"s3://Models", "bucket name"},
		{"s3://ab", "bucket name"},
		{"s3://bad_bucket", "bucket name"},
		{"s3://bkt:9000/p", "?endpoint=host:port"},
		{"s3://key:hunter2@bkt/p", "AWS_ACCESS_KEY_ID"},
		{"s3://bkt/a//c", "empty, . or .. segment"},
		{"s3://bkt/a/../c", "empty, . or .. segment"},
		{"s3://bkt/a%5Cc", "backslash"},
		{"s3://bkt#frag", "fragment"},
		{"s3://bkt?secure=maybe", `secure="maybe"`},
		{"s3://bkt?path_style=yes", `path_style="yes"`},
		{"s3://bkt?region=", "region"},
		{"s3://bkt?endpont=localhost:9000", `unknown parameter "endpont"`},
		{"s3://bkt?endpoint=", "endpoint is empty"},
		{"s3://bkt?endpoint=localhost:0", "port"},
		{"s3://bkt?endpoint=localhost:http", "port"},
		{"s3://bkt?endpoint=localhost:9000/x", "host:port"},
		{"s3://bkt?endpoint=ftp://localhost", "http:// or https://"},
		{"s3://bkt?endpoint=http://localhost&secure=true", "contradicts"},
		{"s3://bkt?endpoint=::1", "IPv6"},
		{"s3://bkt?region=a&region=b", "2 times"},
		{"s3://bkt?%zz", "query"},
	}
	for _, tt := range bad {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			got, err := ParseURL(tt.url)
			if err == nil {
				t.Fatalf("ParseURL = %+v, want an error containing %q", *got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}
