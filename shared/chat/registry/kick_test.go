package registry_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestKickRecordsEndedForTheNode: Kick removes a session like Remove and
// leaves, for the session's node, an expiring entry naming it with the
// reason to give the client; Remove (the node's own cleanup) leaves none.
func TestKickRecordsEndedForTheNode(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb)
		k := f.keys
		n1 := "n1"
		if c != nil {
			// The prefix is random: pick the node's name so that its ended
			// hash and its session set sit on different masters.
			n1 = ""
			for i := 0; n1 == ""; i++ {
				name := fmt.Sprintf("kicked%d", i) // never "n2", the other node below
				a, err1 := c.MasterOf(ctx, k.NodeEnded(name))
				b, err2 := c.MasterOf(ctx, k.NodeSessions(name))
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				if a != b {
					n1 = name
				}
			}
		}
		l := redistest.Listen(t, rdb, k.RoomEvents(1))
		f.register(t, "s1", 1, 1, n1)
		f.register(t, "s2", 1, 1, n1)
		f.register(t, "s3", 2, 0, "n2")
		expectEvents(t, l, f, map[int64][]wire.Event{1: {{Type: wire.EventEnter, ChatRoomID: 1, UserID: 1}}})

		s, removed, err := f.reg.Kick(ctx, "s1", "api", "disconnected via API")
		if err != nil || !removed || s.Node != n1 || s.UserID != 1 {
			t.Fatalf("Kick(s1) = %+v, %v, %v", s, removed, err)
		}
		if _, removed, err := f.reg.Kick(ctx, "s1", "api", "again"); err != nil || removed {
			t.Errorf("Kick(s1) again = %v, %v; want false", removed, err)
		}
		if _, removed, err := f.reg.Kick(ctx, "s2", "kick", ""); err != nil || !removed {
			t.Fatalf("Kick(s2) = %v, %v", removed, err)
		}
		expectEvents(t, l, f, map[int64][]wire.Event{1: {{Type: wire.EventLeave, ChatRoomID: 1, UserID: 1, Reason: "kick"}}})
		if _, removed, err := f.reg.Remove(ctx, "s3", "closed"); err != nil || !removed {
			t.Fatalf("Remove(s3) = %v, %v", removed, err)
		}

		if got, err := f.reg.Ended(ctx, n1); err != nil || !maps.Equal(got, map[string]string{"s1": "disconnected via API", "s2": ""}) {
			t.Errorf("Ended(%s) = %v, %v", n1, got, err)
		}
		if ttl := rdb.TTL(ctx, k.NodeEnded(n1)).Val(); ttl <= 0 || ttl > registry.EndedTTL {
			t.Errorf("TTL of %s = %v, want (0, %v]", k.NodeEnded(n1), ttl, registry.EndedTTL)
		}
		if got, err := f.reg.Ended(ctx, "n2"); err != nil || len(got) != 0 {
			t.Errorf("Ended(n2) = %v, %v; Remove must record nothing", got, err)
		}
		if ids, err := f.reg.NodeSessionIDs(ctx, n1); err != nil || len(ids) != 0 {
			t.Errorf("NodeSessionIDs(%s) = %v, %v", n1, ids, err)
		}
		if got, err := f.reg.UserSessions(ctx, 1); err != nil || len(got) != 0 {
			t.Errorf("UserSessions(1) = %v, %v", got, err)
		}

		if err := f.reg.DropEnded(ctx, n1, "s1"); err != nil {
			t.Fatal(err)
		}
		if got, err := f.reg.Ended(ctx, n1); err != nil || !maps.Equal(got, map[string]string{"s2": ""}) {
			t.Errorf("Ended(%s) after DropEnded(s1) = %v, %v", n1, got, err)
		}
		if err := f.reg.DropEnded(ctx, n1, "s2"); err != nil {
			t.Fatal(err)
		}
		if left := f.keysUnder(t); len(left) != 0 {
			t.Errorf("keys left: %v", left)
		}
	})
}
