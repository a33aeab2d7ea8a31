package events

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Sharded reports whether rdb talks to a Redis Cluster. There every channel
// the services use goes over sharded pub/sub (SPUBLISH/SSUBSCRIBE): a message
// is handled by the one shard that owns the channel's hash slot (for a room,
// the shard holding the room's keys) instead of being copied to every
// cluster node as classic PUBLISH is. On a single Redis the services use
// classic pub/sub, which every Redis and every managed offering supports.
func Sharded(rdb redis.UniversalClient) bool {
	_, ok := rdb.(*redis.ClusterClient)
	return ok
}

// Publish publishes payload on channel with PUBLISH, or SPUBLISH on a
// cluster. Every publish of the services goes through here or through a
// Script, so subscribers (the fanout hub, chatctl tail) can rely on the mode.
func Publish(ctx context.Context, rdb redis.UniversalClient, channel string, payload any) *redis.IntCmd {
	if Sharded(rdb) {
		return rdb.SPublish(ctx, channel, payload)
	}
	return rdb.Publish(ctx, channel, payload)
}

// Script is a Lua script that may publish. Its source calls
// redis.call('PUBLISH', ...); on a cluster it runs with SPUBLISH instead.
// Each script touches the keys of one room only and receives the room's
// channels in KEYS, so on a cluster it runs on the shard owning the room.
type Script struct {
	plain, sharded *redis.Script
}

// NewScript prepares both forms of src.
func NewScript(src string) *Script {
	return &Script{
		plain:   redis.NewScript(src),
		sharded: redis.NewScript(strings.ReplaceAll(src, "'PUBLISH'", "'SPUBLISH'")),
	}
}

// Run runs the script (EVALSHA, falling back to EVAL) in rdb's mode.
func (s *Script) Run(ctx context.Context, rdb redis.UniversalClient, keys []string, args ...any) *redis.Cmd {
	if Sharded(rdb) {
		return s.sharded.Run(ctx, rdb, keys, args...)
	}
	return s.plain.Run(ctx, rdb, keys, args...)
}
