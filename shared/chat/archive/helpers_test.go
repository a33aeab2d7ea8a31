package archive_test

import (
	"context"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
)

// newStore opens a migrated Store on a private database.
func newStore(t testing.TB) *archive.Store {
	t.Helper()
	return openMigrated(t, archivetest.NewDB(t), archive.Config{})
}

// openMigrated opens a Store on dbURL, migrates it and closes it when the
// test ends.
func openMigrated(t testing.TB, dbURL string, cfg archive.Config) *archive.Store {
	t.Helper()
	ctx := context.Background()
	s, err := archive.Open(ctx, dbURL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// eventually polls cond every 20ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = cond(); err == nil {
			return
		}
	}
	t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
}
