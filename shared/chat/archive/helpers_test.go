package archive_test

import (
	"testing"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
)

// newStore opens a migrated Store on a private database.
func newStore(t testing.TB) *archive.Store {
	t.Helper()
	return archivetest.Migrated(t, archivetest.NewDB(t), archive.Config{})
}
