package room

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/redis/keys"
)

// QueueIsMember is the one membership check of the Go code: it runs, or
// queues on a pipeline, SISMEMBER of userID in room's member set (false for
// a missing room). IsMember, AreMembers and registry.Admit use it. The
// scripts that act on a membership (send.lua, change.lua, read.lua,
// typing.lua, join.lua, and the registry's claim.lua at CONNECT) check the
// same set themselves, in the same atomic
// step as what they do: a check in Go before the script could pass for a
// member removed a moment later.
func QueueIsMember(ctx context.Context, c redis.Cmdable, ks keys.Space, roomID, userID int64) *redis.BoolCmd {
	return c.SIsMember(ctx, ks.RoomMembers(roomID), userID)
}

// Member names a user's membership of a room.
type Member struct {
	RoomID, UserID int64
}

// AreMembers reports, for each pair, whether the user belongs to the room
// (false for missing rooms), in one pipelined round trip of SISMEMBER (on a
// cluster, one per master). The ws nodes use it to find sessions that watch
// rooms their user was removed from.
func (s *Store) AreMembers(ctx context.Context, ms []Member) ([]bool, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.BoolCmd, len(ms))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range ms {
			cmds[i] = QueueIsMember(ctx, p, s.keys, m.RoomID, m.UserID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check %d memberships: %w", len(ms), err)
	}
	out := make([]bool, len(ms))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}
