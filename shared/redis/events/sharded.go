package events

import (
	"context"

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

// PublishCommand is the publish command of rdb's mode: "SPUBLISH" on a
// cluster, "PUBLISH" on a single Redis.
func PublishCommand(rdb redis.UniversalClient) string {
	if Sharded(rdb) {
		return "SPUBLISH"
	}
	return "PUBLISH"
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

// Script is a Lua script that may publish. Its last argument is the
// publish command (PublishCommand), which Run and EvalSha append to the
// caller's arguments: the script publishes with
// redis.call(ARGV[#ARGV], channel, payload), and one source (one SHA)
// serves both modes. Each script touches the keys of one room only and
// receives the room's channels in KEYS, so on a cluster it runs on the
// shard owning the room.
type Script struct {
	s *redis.Script
}

// NewScript prepares src.
func NewScript(src string) *Script {
	return &Script{s: redis.NewScript(src)}
}

// Run runs the script (EVALSHA, falling back to EVAL) with rdb's publish
// command after args.
func (s *Script) Run(ctx context.Context, rdb redis.UniversalClient, keys []string, args ...any) *redis.Cmd {
	return s.s.Run(ctx, rdb, keys, withPublish(rdb, args)...)
}

// EvalSha queues the script by SHA on p (a pipeline of rdb), with rdb's
// publish command after args. Unlike Run it does not fall back to EVAL: a
// NOSCRIPT reply means the script did not run (see Load).
func (s *Script) EvalSha(ctx context.Context, p redis.Scripter, rdb redis.UniversalClient, keys []string, args ...any) *redis.Cmd {
	return s.s.EvalSha(ctx, p, keys, withPublish(rdb, args)...)
}

// Load loads the script into rdb's script cache (every master of a
// cluster), for EvalSha.
func (s *Script) Load(ctx context.Context, rdb redis.UniversalClient) error {
	return s.s.Load(ctx, rdb).Err()
}

func withPublish(rdb redis.UniversalClient, args []any) []any {
	return append(args[:len(args):len(args)], PublishCommand(rdb))
}
