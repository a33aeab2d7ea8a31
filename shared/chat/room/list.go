package room

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

// Cursor is a position in a user's room list: the activity (unix ms of the
// last message, else of the creation) and the id of the last room of a
// page. The zero Cursor is the start of the list.
type Cursor struct {
	Activity int64
	ID       int64
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// ListQuery selects a page of a user's rooms.
type ListQuery struct {
	// After continues the list behind this position (a previous page's
	// Next); zero starts at the most recent room.
	After Cursor
	// Limit bounds the rooms of the page; default 50.
	Limit int
	// MaxBytes bounds the page's size, counted as each room's last message
	// plus RoomOverhead; 0 means no byte bound. The first room always
	// fits, so paging always advances.
	MaxBytes int
}

// ListPage is a page of a user's rooms, most recent activity first.
type ListPage struct {
	// Rooms carry MemberCount; MemberIDs only for direct rooms (two ids),
	// since a group's may be a thousand: Get has them.
	Rooms []Room
	// Next continues the list; zero when this page is the last.
	Next Cursor
}

// RoomOverhead is what ListPage counts for a room besides its last
// message: ids, type, a name of up to 100 characters, times and counts.
const RoomOverhead = 512

// listBatch is how many rooms ListPage loads per round trip, which bounds
// what it reads beyond MaxBytes.
const listBatch = 16

// ranked is a room's place in a user's list.
type ranked struct {
	id, activity int64
	direct       bool
}

// upTo reports whether r is at or before c in the list (newer activity,
// then higher id): a page after c starts behind it.
func (r ranked) upTo(c Cursor) bool {
	return r.activity > c.Activity || (r.activity == c.Activity && r.id >= c.ID)
}

// ListPage returns a page of the user's rooms, most recent activity first
// (ties: higher id first), starting behind q.After.
//
// The order is read afresh for every page (one small read per room of the
// user: type, lastMessageAt, createdAt); only the page's rooms are loaded
// in full. Activity only grows, so a room moves only towards the front:
// paging never returns a room twice, but a room that gets a message (or is
// created) while a client pages is not on the later pages; it is on a new
// first page, and live clients hear of it (message, ADDED) anyway.
func (s *Store) ListPage(ctx context.Context, userID int64, q ListQuery) (ListPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	vals, err := s.rdb.SMembers(ctx, s.keys.UserRooms(userID)).Result()
	if err != nil {
		return ListPage{}, fmt.Errorf("list rooms of user %d: %w", userID, err)
	}
	order, err := s.rank(ctx, parseIDs(vals))
	if err != nil {
		return ListPage{}, fmt.Errorf("list rooms of user %d: %w", userID, err)
	}
	rest := order
	if !q.After.IsZero() {
		i, _ := slices.BinarySearchFunc(order, q.After, func(r ranked, c Cursor) int {
			if r.upTo(c) {
				return -1
			}
			return 1
		})
		rest = order[i:]
	}
	var page ListPage
	used := 0
	for len(rest) > 0 && len(page.Rooms) < q.Limit {
		batch := rest[:min(listBatch, len(rest), q.Limit-len(page.Rooms))]
		rooms, err := s.loadListed(ctx, batch)
		if err != nil {
			return ListPage{}, err
		}
		for i, r := range rooms {
			if r.ID != 0 { // zero: the room was deleted meanwhile
				size := len(r.LastMessage) + RoomOverhead
				if q.MaxBytes > 0 && len(page.Rooms) > 0 && used+size > q.MaxBytes {
					return page, nil // Next: the last room taken
				}
				used += size
				page.Rooms = append(page.Rooms, r)
			}
			page.Next = Cursor{Activity: batch[i].activity, ID: batch[i].id}
			rest = rest[1:]
		}
	}
	if len(rest) == 0 {
		page.Next = Cursor{}
	}
	return page, nil
}

// rank reads the activity of each room and sorts them, most recent first;
// missing rooms are dropped.
func (s *Store) rank(ctx context.Context, ids []int64) ([]ranked, error) {
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.keys.RoomMeta(id), "type", "lastMessageAt", "createdAt")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read activity: %w", err)
	}
	out := make([]ranked, 0, len(ids))
	for i, id := range ids {
		v := cmds[i].Val()
		typ, _ := v[0].(string)
		if typ == "" {
			continue
		}
		r := ranked{id: id, direct: typ == TypeDirect}
		last, _ := v[1].(string)
		created, _ := v[2].(string)
		r.activity = activityOf(last, created)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(b.activity, a.activity), cmp.Compare(b.id, a.id))
	})
	return out, nil
}

// activityOf is a room's activity in unix ms: its last message, else its
// creation (as load computes it).
func activityOf(lastMessageAt, createdAt string) int64 {
	if ms, err := strconv.ParseInt(lastMessageAt, 10, 64); err == nil && ms > 0 {
		return ms
	}
	if t, err := time.Parse(time.RFC3339, createdAt); err == nil {
		return t.UnixMilli()
	}
	return 0
}

// loadListed loads the rooms of a list page in one pipeline, aligned with
// batch: a room deleted meanwhile has ID 0. Groups are loaded without
// their member ids.
func (s *Store) loadListed(ctx context.Context, batch []ranked) ([]Room, error) {
	type cmds struct {
		meta    *redis.MapStringStringCmd
		count   *redis.IntCmd
		members *redis.StringSliceCmd
		last    *redis.StringSliceCmd
	}
	cs := make([]cmds, len(batch))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range batch {
			cs[i].meta = p.HGetAll(ctx, s.keys.RoomMeta(r.id))
			cs[i].count = p.SCard(ctx, s.keys.RoomMembers(r.id))
			if r.direct {
				cs[i].members = p.SMembers(ctx, s.keys.RoomMembers(r.id))
			}
			cs[i].last = p.ZRange(ctx, s.keys.RoomHistory(r.id), -1, -1)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("load rooms: %w", err)
	}
	out := make([]Room, len(batch))
	for i, b := range batch {
		m := cs[i].meta.Val()
		if len(m) == 0 {
			continue
		}
		r := Room{ID: b.id, Type: m["type"], Name: m["name"], CreatedAt: m["createdAt"], MemberCount: int(cs[i].count.Val())}
		if cs[i].members != nil {
			r.MemberIDs = parseIDs(cs[i].members.Val())
		}
		r.CreatedBy, _ = strconv.ParseInt(m["createdBy"], 10, 64)
		r.LastSeq, _ = strconv.ParseInt(m["lastSeq"], 10, 64)
		if ms, err := strconv.ParseInt(m["lastMessageAt"], 10, 64); err == nil && ms > 0 {
			r.LastMessageAt = wire.FormatTime(time.UnixMilli(ms))
		}
		r.activity = activityOf(m["lastMessageAt"], m["createdAt"])
		if last := cs[i].last.Val(); len(last) == 1 {
			r.LastMessage = json.RawMessage(last[0])
		}
		out[i] = r
	}
	return out, nil
}
