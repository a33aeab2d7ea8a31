package events_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// A script publishes with the command it gets as its last argument, and
// its source runs unchanged in both modes (a 'PUBLISH' string literal in
// it stays what it is): one script, one SHA, on a single Redis and on a
// cluster, through Run and through EvalSha in a pipeline.
func TestScriptGetsThePublishCommandAsItsLastArgument(t *testing.T) {
	script := events.NewScript(`redis.call(ARGV[#ARGV], KEYS[1], ARGV[1])
return {'PUBLISH', ARGV[#ARGV], #ARGV}`)
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		ch := keys.MustNew(redistest.Prefix(t)).RoomEvents(3)
		l := redistest.Listen(t, rdb, ch)
		want := "PUBLISH"
		if c != nil {
			want = "SPUBLISH"
		}
		if got := events.PublishCommand(rdb); got != want {
			t.Errorf("PublishCommand = %s, want %s", got, want)
		}
		check := func(how string, got []any, err error, payload string) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			if len(got) != 3 || got[0] != "PUBLISH" || got[1] != want || got[2] != int64(2) {
				t.Errorf("%s returned %v, want [PUBLISH %s 2]", how, got, want)
			}
			if m := l.Next(t); m.Channel != ch || m.Payload != payload {
				t.Errorf("%s published %q on %s, want %q on %s", how, m.Payload, m.Channel, payload, ch)
			}
		}
		got, err := script.Run(ctx, rdb, []string{ch}, "by run").Slice()
		check("Run", got, err, "by run")

		var cmd *redis.Cmd
		if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			cmd = script.EvalSha(ctx, p, rdb, []string{ch}, "by evalsha")
			return nil
		}); err != nil {
			t.Fatalf("pipeline: %v", err)
		}
		got, err = cmd.Slice()
		check("EvalSha", got, err, "by evalsha")
	})
}
