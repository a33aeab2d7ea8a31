package archive_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestOutage: with PostgreSQL gone a call fails (it does not hang past
// QueryTimeout), and once it is back new calls succeed on the same Store.
func TestOutage(t *testing.T) {
	ctx := context.Background()
	p := archivetest.NewProxy(t, archivetest.NewDB(t))
	s := archivetest.Migrated(t, p.URL(), archive.Config{QueryTimeout: 2 * time.Second})
	put(t, s, row(1, 1, "{}", 1, 0))

	p.Down()
	if _, err := s.MaxSeq(ctx, 1); err == nil {
		t.Fatal("MaxSeq succeeded with PostgreSQL down")
	} else {
		t.Log(err)
	}
	if err := s.PutMessages(ctx, []archive.MessageRow{row(1, 2, "{}", 1, 0)}); err == nil {
		t.Fatal("PutMessages succeeded with PostgreSQL down")
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded with PostgreSQL down")
	}

	p.Up()
	redistest.EventuallyWithin(t, 10*time.Second, "MaxSeq 1 after Up", func() bool {
		n, err := s.MaxSeq(ctx, 1)
		return err == nil && n == 1
	})
	put(t, s, row(1, 2, "{}", 1, 0))
}

// TestQueryTimeout: a call waiting on a lock gives up after QueryTimeout.
func TestQueryTimeout(t *testing.T) {
	ctx := context.Background()
	dbURL := archivetest.NewDB(t)
	s := archivetest.Migrated(t, dbURL, archive.Config{QueryTimeout: 300 * time.Millisecond})
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE messages IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Range(ctx, 1, 0, 0, 10, 0, true)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Range on a locked table: %v, want a deadline error", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Range(ctx, 1, 0, 0, 10, 0, true); err != nil {
		t.Fatalf("Range after the lock: %v", err)
	}
}
