package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// UserPresence is one user's cluster-wide presence.
type UserPresence struct {
	UserID int64
	// Sessions counts the user's live sessions on every node.
	Sessions int
	// LastSeen is when one of the user's sessions last ended (zero when
	// none ever did). Remove writes it for every session, so once the user
	// has no session left it is when the last one ended.
	LastSeen time.Time
}

// Presence returns the presence of each user, in the order given, read in
// one pipeline (the user's session hash and last-seen key share the user's
// slot). Sessions of a dead node count until the reaper removes them
// (within NODE_TTL + NODE_TTL/3), which also sets LastSeen.
func (r *Registry) Presence(ctx context.Context, userIDs []int64) ([]UserPresence, error) {
	type cmds struct {
		n    *redis.IntCmd
		seen *redis.StringCmd
	}
	cs := make([]cmds, len(userIDs))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range userIDs {
			cs[i] = cmds{n: p.HLen(ctx, r.keys.UserSessions(u)), seen: p.Get(ctx, r.keys.UserLastSeen(u))}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("load presence of %d users: %w", len(userIDs), err)
	}
	out := make([]UserPresence, len(userIDs))
	for i, u := range userIDs {
		out[i] = UserPresence{UserID: u, Sessions: int(cs[i].n.Val())}
		if ms, err := cs[i].seen.Int64(); err == nil && ms > 0 {
			out[i].LastSeen = time.UnixMilli(ms)
		}
	}
	return out, nil
}
