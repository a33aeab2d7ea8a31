package archive_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
)

// schema lists the public tables of the database at dbURL and the versions
// schema_migrations records.
func schema(t *testing.T, dbURL string) (tables []string, versions []int32) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
	if tables, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	rows, _ = conn.Query(ctx, "SELECT version FROM schema_migrations ORDER BY 1")
	if versions, err = pgx.CollectRows(rows, pgx.RowTo[int32]); err != nil {
		t.Fatal(err)
	}
	return tables, versions
}

var (
	wantTables   = []string{"messages", "room_members", "rooms", "schema_migrations"}
	wantVersions = []int32{1}
)

func TestMigrateTwice(t *testing.T) {
	dbURL := archivetest.NewDB(t)
	s := archivetest.Migrated(t, dbURL, archive.Config{})
	if err := s.PutMessages(context.Background(), []archive.MessageRow{{Room: 1, Seq: 1, Body: "{}", RevMS: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	tables, versions := schema(t, dbURL)
	if !slices.Equal(tables, wantTables) || !slices.Equal(versions, wantVersions) {
		t.Fatalf("tables %v, versions %v; want %v, %v", tables, versions, wantTables, wantVersions)
	}
	if n, err := s.MaxSeq(context.Background(), 1); err != nil || n != 1 {
		t.Fatalf("data after the second Migrate: MaxSeq %d, %v", n, err)
	}
}

// TestMigrateConcurrently: several archivers starting at once on an empty
// database all succeed and apply each migration once.
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	dbURL := archivetest.NewDB(t)
	const n = 6
	stores := make([]*archive.Store, n)
	for i := range stores {
		s, err := archive.Open(ctx, dbURL, archive.Config{MaxConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		stores[i] = s
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	tables, versions := schema(t, dbURL)
	if !slices.Equal(tables, wantTables) || !slices.Equal(versions, wantVersions) {
		t.Fatalf("tables %v, versions %v; want %v, %v", tables, versions, wantTables, wantVersions)
	}
}

// TestOpenFails: Open pings, and its errors leave the password out.
func TestOpenFails(t *testing.T) {
	ctx := context.Background()
	missing, err := url.Parse(archivetest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	missing.Path = "/roomwire_test_missing"
	for name, dbURL := range map[string]string{
		"unparsable":       "postgres://postgres:secret@127.0.0.1:5432/x?sslmode=bogus",
		"unreachable":      "postgres://postgres:secret@127.0.0.1:1/x?sslmode=disable&connect_timeout=5",
		"missing database": missing.String(),
	} {
		t.Run(name, func(t *testing.T) {
			s, err := archive.Open(ctx, dbURL, archive.Config{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), "archive: ") || strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q: want an archive: prefix and no password", err)
			}
			t.Log(err)
		})
	}
}
