// Package archivetest gives tests a private PostgreSQL database, a TCP
// proxy in front of PostgreSQL for outage tests, and the archive's test
// plumbing: stores closed with the test, a fast archiver, Drain, and Fill
// (a room filled past what Redis keeps, archived as it goes).
//
// Tests reach the server at PGTEST_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable), a role
// that may create databases. They never skip: an unreachable server fails
// the test with a message saying so (CI starts PostgreSQL).
package archivetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use when PGTEST_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Prefix starts the name of every database NewDB creates.
const Prefix = "roomwire_test_"

// adminTimeout bounds connecting and each statement of NewDB and its
// clean-up.
const adminTimeout = 30 * time.Second

// ServerURL returns PGTEST_URL, or DefaultURL when it is unset.
func ServerURL() string {
	if u := os.Getenv("PGTEST_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDB creates an empty database roomwire_test_<random hex> on the server
// at ServerURL and returns its URL (ServerURL with the database name
// replaced). The database is dropped WITH (FORCE) when the test and its
// subtests end, cutting any connection still open. NewDB must be called
// from the test's goroutine.
func NewDB(t testing.TB) string {
	t.Helper()
	server := ServerURL()
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("archivetest: PGTEST_URL must be a postgres:// URL, got %q (%v)", redact(server), err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := Prefix + hex.EncodeToString(b[:])
	// The name is ours (letters, digits, underscore): no quoting issue.
	if err := admin(server, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("archivetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := admin(server, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("archivetest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// Exists reports whether database name exists on the server at ServerURL
// (for tests of clean-up).
func Exists(t testing.TB, name string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("archivetest: %v", err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatalf("archivetest: look up database %s: %v", name, err)
	}
	return n == 1
}

// admin runs one statement on the server's maintenance database.
func admin(server, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := connect(ctx, server)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func connect(ctx context.Context, server string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL at %s is unreachable (start it, or point PGTEST_URL at one; "+
			".ci/run starts it): %w", redact(server), err)
	}
	return conn, nil
}

// redact hides a password in a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
