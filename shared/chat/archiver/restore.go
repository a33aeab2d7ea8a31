package archiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// restorePage is how many rooms Restore reads from PostgreSQL at a time.
const restorePage = 200

// Source is the archive Restore reads (archive.Store).
type Source interface {
	Rooms(ctx context.Context, afterID int64, limit int) ([]archive.RoomRow, error)
	Recent(ctx context.Context, roomID int64, n int) ([]archive.MessageRow, error)
	MaxSeq(ctx context.Context, roomID int64) (int64, error)
}

// Restored counts what Restore wrote.
type Restored struct {
	Rooms, Messages int
}

// Restore reloads every archived room into Redis after a Redis loss. Per
// room it writes the meta hash (lastSeq and archivedSeq: the archive's
// last seq; lastMessageAt: that message's time), the members, each
// member's room set, a direct room's pair key, the newest `recent`
// messages as history, and every member's read position at lastSeq (read
// positions are not archived: after a restore nothing shows as unread,
// rather than everything). A room that exists is overwritten (its history
// and members become the archive's). Last it moves the room id counter up
// to the highest room id, so new rooms get new ids. Messages sent after
// the archive's last copy are not in the archive, so not restored.
func Restore(ctx context.Context, rdb redis.UniversalClient, ks keys.Space, src Source, recent int) (Restored, error) {
	var res Restored
	var top int64
	for after := int64(0); ; {
		page, err := src.Rooms(ctx, after, restorePage)
		if err != nil {
			return res, err
		}
		for _, r := range page {
			n, err := restoreRoom(ctx, rdb, ks, src, r, recent)
			if err != nil {
				return res, err
			}
			res.Rooms++
			res.Messages += n
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
			return res, fmt.Errorf("read room id counter: %w", err)
		}
		if cur < top {
			if err := rdb.Set(ctx, ks.RoomIDs(), top, 0).Err(); err != nil {
				return res, fmt.Errorf("set room id counter: %w", err)
			}
		}
	}
	return res, nil
}

// restoreRoom writes one room back; it returns the messages it wrote.
func restoreRoom(ctx context.Context, rdb redis.UniversalClient, ks keys.Space, src Source, r archive.RoomRow, recent int) (int, error) {
	last, err := src.MaxSeq(ctx, r.ID)
	if err != nil {
		return 0, err
	}
	var rows []archive.MessageRow
	if recent > 0 && last > 0 {
		if rows, err = src.Recent(ctx, r.ID, recent); err != nil {
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
		if r.Type == "direct" && len(r.Members) == 2 {
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
