package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/chat/archiver"
)

// openArchive opens ARCHIVE_DATABASE_URL; the caller closes it.
func openArchive(ctx context.Context, getenv func(string) string) (*archive.Store, error) {
	url := getenv("ARCHIVE_DATABASE_URL")
	if url == "" {
		return nil, errors.New("ARCHIVE_DATABASE_URL is required")
	}
	return archive.Open(ctx, url, archive.Config{})
}

// migrate applies the archive's schema migrations: chatctl migrate.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("migrate", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	store, err := openArchive(ctx, getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, "archive schema is up to date")
	return err
}

// restore reloads rooms, members and each room's recent history from the
// archive into Redis (archiver.Restore): chatctl restore [-recent N]
// [-force]. It is for a Redis that lost its data: it refuses a Redis whose
// room id counter exists (rooms are there) unless -force.
func restore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("restore", stderr)
	recent := fs.Int("recent", 1000, "newest messages per room put back into Redis history")
	force := fs.Bool("force", false, "restore into a Redis that holds rooms already (overwrites those rooms)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *recent < 0 {
		fmt.Fprintln(stderr, "chatctl restore: -recent must not be negative")
		return ErrUsage
	}
	store, err := openArchive(ctx, getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	rdb, ks, err := openRedis(getenv)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if n, err := rdb.Exists(ctx, ks.RoomIDs()).Result(); err != nil {
		return fmt.Errorf("check Redis: %w", err)
	} else if n > 0 && !*force {
		return fmt.Errorf("refusing to restore: Redis holds rooms already (%s exists); restore is for an empty Redis, pass -force to overwrite", ks.RoomIDs())
	}
	res, err := archiver.Restore(ctx, rdb, ks, store, *recent)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "restored %d rooms and %d messages\n", res.Rooms, res.Messages)
	return err
}
