// Package testdb gives a test a database and a bucket of its own on the
// test services scripts/test.sh starts (MLSERVE_TEST_DATABASE_URL,
// MLSERVE_TEST_S3_URL). Without them a test skips, or fails in CI
// (testenv). For tests only.
package testdb

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

// Name returns prefix followed by 12 random hex digits.
func Name(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Postgres creates a fresh database named prefix + random hex on the test
// PostgreSQL server, dropped when the test ends, and returns its URL.
func Postgres(t testing.TB, prefix string) string {
	t.Helper()
	base := testenv.Getenv(t, "MLSERVE_TEST_DATABASE_URL", "PostgreSQL server")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	name := Name(prefix)
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

// Bucket returns the test S3 URL with a fresh bucket name, prefix +
// random hex (dashes for underscores); the bucket is not created.
func Bucket(t testing.TB, prefix string) string {
	t.Helper()
	base := testenv.Getenv(t, "MLSERVE_TEST_S3_URL", "S3 server")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("MLSERVE_TEST_S3_URL: %v", err)
	}
	u.Host = strings.ReplaceAll(Name(prefix), "_", "-")
	return u.String()
}
