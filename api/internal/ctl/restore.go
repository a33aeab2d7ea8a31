package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/archive"
	"github.com/roomwire/roomwire/shared/keys"
	"github.com/roomwire/roomwire/shared/room"
)

// restorePage is how many rooms restore reads from PostgreSQL at a time.
const restorePage = 200

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
// archive into Redis: chatctl restore [-recent N] [-force]. It is for a
// Redis that lost its data: it refuses a Redis whose room id counter
// exists (rooms are there) unless -force. Per room it writes the meta hash
// (lastSeq and archivedSeq = the archive's last seq, lastMessageAt from
// that message), the members, each member's room set, a direct room's
// pair key, the newest -recent messages, and every member's read position
// at lastSeq (read positions are not archived: nothing shows as unread
// rather than everything). Then the room id counter, so new rooms get new
// ids. Messages sent after the archive's last copy are not in it.
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
		return fmt.Errorf("Redis holds rooms already (%s exists); restore is for an empty Redis, pass -force to overwrite", ks.RoomIDs())
	}
	var rooms, msgs int
	var top int64
	for after := int64(0); ; {
		page, err := store.Rooms(ctx, after, restorePage)
		if err != nil {
			return err
		}
		for _, r := range page {
			n, err := restoreRoom(ctx, rdb, ks, store, r, *recent)
			if err != nil {
				return err
			}
			rooms++
			msgs += n
			after, top = r.ID, max(top, r.ID)
		}
		if len(page) < restorePage {
			break
		}
	}
	if top > 0 {
		// Only up: a counter ahead (rooms created since) stays.
		cur, err := rdb.Get(ctx, ks.RoomIDs()).Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("read room id counter: %w", err)
		}
		if cur < top {
			if err := rdb.Set(ctx, ks.RoomIDs(), top, 0).Err(); err != nil {
				return fmt.Errorf("set room id counter: %w", err)
			}
		}
	}
	_, err = fmt.Fprintf(stdout, "restored %d rooms and %d messages\n", rooms, msgs)
	return err
}

// restoreRoom writes one room back; it returns the messages it wrote.
func restoreRoom(ctx context.Context, rdb redis.UniversalClient, ks keys.Space, store *archive.Store, r archive.RoomRow, recent int) (int, error) {
	last, err := store.MaxSeq(ctx, r.ID)
	if err != nil {
		return 0, err
	}
	var rows []archive.MessageRow
	if recent > 0 && last > 0 {
		if rows, err = store.Recent(ctx, r.ID, recent); err != nil {
			return 0, err
		}
	}
	meta := []any{"id", r.ID, "type", r.Type, "createdBy", r.CreatedBy, "createdAt", r.CreatedAt,
		"lastSeq", last, "archivedSeq", last}
	if r.Name != "" {
		meta = append(meta, "name", r.Name)
	}
	if n := len(rows); n > 0 {
		var m struct {
			SentAt string `json:"sentAt"`
		}
		if json.Unmarshal([]byte(rows[n-1].Body), &m) == nil {
			if t, err := time.Parse(time.RFC3339Nano, m.SentAt); err == nil {
				meta = append(meta, "lastMessageAt", t.UnixMilli())
			}
		}
	}
	_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, ks.RoomHistory(r.ID), ks.RoomMembers(r.ID)) // -force: this room as archived, nothing else
		p.HSet(ctx, ks.RoomMeta(r.ID), meta...)
		for _, u := range r.Members {
			p.SAdd(ctx, ks.RoomMembers(r.ID), u)
			p.SAdd(ctx, ks.UserRooms(u), r.ID)
			if last > 0 {
				p.HSet(ctx, ks.RoomRead(r.ID), strconv.FormatInt(u, 10), last)
			}
		}
		if r.Type == room.TypeDirect && len(r.Members) == 2 {
			p.SetNX(ctx, ks.Direct(r.Members[0], r.Members[1]), r.ID, 0)
		}
		for i := 0; i < len(rows); i += 500 {
			zs := make([]redis.Z, 0, 500)
			for _, row := range rows[i:min(len(rows), i+500)] {
				zs = append(zs, redis.Z{Score: float64(row.Seq), Member: row.Body})
			}
			p.ZAdd(ctx, ks.RoomHistory(r.ID), zs...)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("restore room %d: %w", r.ID, err)
	}
	return len(rows), nil
}
