package config

import (
	"fmt"
	"strings"
)

// Archive is the optional PostgreSQL archive's settings, the same in the
// api, every ws node and the archiver (docs/configuration.md).
type Archive struct {
	// URL is ARCHIVE_DATABASE_URL (postgres://...); empty: no archive, and
	// the services behave as without one (no archive stream, no reads from
	// PostgreSQL).
	URL string
	// StreamMax is ARCHIVE_STREAM_MAX: the approximate most records each
	// archive stream holds while the archiver is behind; default 100000.
	StreamMax int
	// BacklogMax is ARCHIVE_BACKLOG_MAX: how many messages beyond
	// HISTORY_LEN a room's Redis history keeps while PostgreSQL lacks them;
	// default 100000.
	BacklogMax int
}

// On reports whether the archive is configured.
func (a Archive) On() bool { return a.URL != "" }

// LoadArchive reads the ARCHIVE_* settings.
func LoadArchive(getenv func(string) string) (Archive, error) {
	a := Archive{URL: getenv("ARCHIVE_DATABASE_URL")}
	var err error
	if a.StreamMax, err = Int(getenv, "ARCHIVE_STREAM_MAX", 100000, 1000); err != nil {
		return a, err
	}
	if a.BacklogMax, err = Int(getenv, "ARCHIVE_BACKLOG_MAX", 100000, 1); err != nil {
		return a, err
	}
	if a.URL != "" && !strings.HasPrefix(a.URL, "postgres://") && !strings.HasPrefix(a.URL, "postgresql://") {
		return a, fmt.Errorf("ARCHIVE_DATABASE_URL must be a postgres:// or postgresql:// URL")
	}
	return a, nil
}
