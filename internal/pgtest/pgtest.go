// Package pgtest gives tests a fresh PostgreSQL database on the throw-away
// cluster that scripts/test starts (its URL is in GATEHOUSE_TEST_POSTGRES).
// Without one, tests skip — except under CI=true, where they fail, so that
// a CI run can never pass with PostgreSQL silently untested.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the admin connection URL of the test cluster.
const EnvVar = "GATEHOUSE_TEST_POSTGRES"

// Admin returns the admin URL, skipping (or, under CI, failing) without one.
func Admin(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set under CI=true: PostgreSQL tests cannot run (scripts/test starts a cluster)", EnvVar)
		}
		tb.Skipf("%s not set; run ./scripts/test to start a throw-away PostgreSQL", EnvVar)
	}
	return u
}

// NewDatabase creates an empty database for one test, drops it when the
// test ends, and returns its URL.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	admin := Admin(tb)
	b := make([]byte, 6)
	rand.Read(b)
	name := "gh_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connect to the test cluster: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}
