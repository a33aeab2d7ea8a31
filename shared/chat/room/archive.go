package room

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// ArchiveFeed turns on the "type room" records of the archive streams:
// creating a room and changing its members append {type room, room <id>}
// to the room's archive stream (keys.Space.ArchiveStreamFor, on the room's
// slot), and the archiver then copies the room's current meta and members
// into PostgreSQL (state-based: a record says "look again", so a spare one
// is harmless and their order does not matter).
//
// Where each record is written, atomically with the room-side write:
//   - creation (CreateGroup, a new CreateDirect): in the MULTI/EXEC that
//     writes the room's meta and members;
//   - AddMember: inside join.lua, when it adds the member;
//   - RemoveMember: in a MULTI/EXEC with the member's SREM (the user's own
//     room set, on another slot, is written right after);
//   - CreateDirect of an existing pair: right after the room-side write,
//     and only when it changed something (a room a refused creation left
//     unwritten, or a member re-added).
type ArchiveFeed struct {
	// On turns the records on; the zero value is off.
	On bool
	// StreamMax is the approximate MAXLEN (XADD MAXLEN ~) of each archive
	// stream; default 1,000,000.
	StreamMax int
}

// defaultStreamMax is ArchiveFeed.StreamMax's default.
const defaultStreamMax = 1000000

// archiveStream is room id's archive stream, "" when the feed is off.
func (s *Store) archiveStream(id int64) string {
	if !s.cfg.ArchiveFeed.On {
		return ""
	}
	return s.keys.ArchiveStreamFor(id, s.sharded)
}

// record appends (or queues, on a pipeline) the "type room" record of
// room id; the feed must be on.
func (s *Store) record(ctx context.Context, c redis.Cmdable, id int64) *redis.StringCmd {
	return c.XAdd(ctx, &redis.XAddArgs{Stream: s.archiveStream(id), MaxLen: int64(s.cfg.ArchiveFeed.StreamMax), Approx: true,
		Values: []any{"type", "room", "room", id}})
}

// writeRoom stores room id's meta (fields not yet set) and members: one
// pipeline, or with the archive feed one MULTI/EXEC on the room's slot
// that holds the room record too when fresh (a room this call created).
// Otherwise the record follows right after, if the write changed anything.
func (s *Store) writeRoom(ctx context.Context, id int64, fields []any, members []int64, fresh bool) error {
	var changed []*redis.BoolCmd
	var added []*redis.IntCmd
	write := func(p redis.Pipeliner) error {
		meta := s.keys.RoomMeta(id)
		// HSETNX even when creating: a racing caller may already have
		// repaired this room and sent into it; lastSeq must never go back.
		for i := 0; i < len(fields); i += 2 {
			changed = append(changed, p.HSetNX(ctx, meta, fields[i].(string), fields[i+1]))
		}
		for _, m := range members {
			added = append(added, p.SAdd(ctx, s.keys.RoomMembers(id), m))
		}
		if fresh && s.cfg.ArchiveFeed.On {
			s.record(ctx, p, id)
		}
		return nil
	}
	if !s.cfg.ArchiveFeed.On {
		_, err := s.rdb.Pipelined(ctx, write)
		return err
	}
	if _, err := s.rdb.TxPipelined(ctx, write); err != nil || fresh {
		return err
	}
	news := false // the meta was missing (any field set) or a member was not in
	for _, c := range changed {
		news = news || c.Val()
	}
	for _, a := range added {
		news = news || a.Val() > 0
	}
	if !news {
		return nil
	}
	if err := s.record(ctx, s.rdb, id).Err(); err != nil {
		return fmt.Errorf("archive record of room %d: %w", id, err)
	}
	return nil
}
