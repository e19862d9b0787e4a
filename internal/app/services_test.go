package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mlserve/mlserve/internal/testenv"
)

// The production-mode tests run against the PostgreSQL server at
// MLSERVE_TEST_DATABASE_URL (each in a database of its own, dropped
// afterwards) and the S3 server at MLSERVE_TEST_S3_URL (each in a bucket of
// its own, which Open creates). Without the variables they skip, or fail in
// CI (testenv).

func randName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// pgDatabase creates a fresh database on the test server, dropped when the
// test ends, and returns its URL.
func pgDatabase(t testing.TB) string {
	t.Helper()
	base := testenv.Getenv(t, "MLSERVE_TEST_DATABASE_URL", "PostgreSQL server")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	name := randName("app_")
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("MLSERVE_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// s3Bucket returns the test S3 URL with a fresh bucket name (not created).
func s3Bucket(t testing.TB) string {
	t.Helper()
	base := testenv.Getenv(t, "MLSERVE_TEST_S3_URL", "S3 server")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("MLSERVE_TEST_S3_URL: %v", err)
	}
	u.Host = strings.ReplaceAll(randName("app-"), "_", "-")
	return u.String()
}
