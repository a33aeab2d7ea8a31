package registry_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestCluster registers and ends sessions of users 1, 2, 3 in rooms 1, 3
// and 4 on two nodes, then loses a node, on a single Redis and on a
// 3-master cluster where those users and rooms are spread over the masters
// (and session hashes, without a tag, anywhere). Presence counts, the
// per-user and per-room views, ENTER/LEAVE and the keys left must match.
func TestCluster(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb)
		k := f.keys
		if c != nil {
			c.Spread(t, k.RoomPresence(1), k.RoomPresence(3), k.RoomPresence(4))
			c.Spread(t, k.UserSessions(1), k.UserSessions(2), k.UserSessions(3))
		}
		l := redistest.Listen(t, rdb, k.RoomEvents(1), k.RoomEvents(3), k.RoomEvents(4))
		//            session user room node
		f.register(t, "s1", 1, 1, "n1")
		f.register(t, "s2", 1, 3, "n2")
		f.register(t, "s3", 2, 1, "n1")
		f.register(t, "s4", 3, 4, "n2")
		f.register(t, "s5", 3, 0, "n1")
		f.register(t, "s6", 1, 1, "n2") // user 1's second session in room 1: no ENTER
		expectEvents(t, l, f, map[int64][]wire.Event{
			1: {{Type: wire.EventEnter, ChatRoomID: 1, UserID: 1}, {Type: wire.EventEnter, ChatRoomID: 1, UserID: 2}},
			3: {{Type: wire.EventEnter, ChatRoomID: 3, UserID: 1}},
			4: {{Type: wire.EventEnter, ChatRoomID: 4, UserID: 3}},
		})

		if got, err := f.reg.UserSessions(ctx, 1); err != nil || !maps.Equal(got, map[string]int64{"s1": 1, "s2": 3, "s6": 1}) {
			t.Errorf("UserSessions(1) = %v, %v", got, err)
		}
		if got, err := f.reg.RoomPresence(ctx, 1); err != nil || !maps.Equal(got, map[int64]int{1: 2, 2: 1}) {
			t.Errorf("RoomPresence(1) = %v, %v", got, err)
		}
		if got, err := f.reg.SessionCounts(ctx, []int64{1, 2, 3, 4}); err != nil || !maps.Equal(got, map[int64]int{1: 3, 2: 1, 3: 2, 4: 0}) {
			t.Errorf("SessionCounts = %v, %v", got, err)
		}
		if n, err := f.reg.CountNode(ctx, "n1"); err != nil || n != 3 {
			t.Errorf("CountNode(n1) = %d, %v; want 3", n, err)
		}
		if s, ok, err := f.reg.Get(ctx, "s4"); err != nil || !ok || s.UserID != 3 || s.RoomID != 4 || s.Node != "n2" {
			t.Errorf("Get(s4) = %+v, %v, %v", s, ok, err)
		}

		// One of user 1's two sessions in room 1 ends: no LEAVE; the other: LEAVE.
		if _, removed, err := f.reg.Remove(ctx, "s1", "closed"); err != nil || !removed {
			t.Fatalf("Remove(s1) = %v, %v", removed, err)
		}
		if _, removed, err := f.reg.Remove(ctx, "s1", "closed"); err != nil || removed {
			t.Errorf("Remove(s1) again = %v, %v; want false", removed, err)
		}
		s6 := registry.Session{ID: "s6", UserID: 1, RoomID: 1, Node: "n2"}
		if removed, err := f.reg.End(ctx, s6, "closed"); err != nil || !removed {
			t.Fatalf("End(s6) = %v, %v", removed, err)
		}
		// Node n2 stops beating: the reaper ends its sessions s2 and s4.
		now := time.Now()
		if err := f.reg.Beat(ctx, "n1", now); err != nil {
			t.Fatal(err)
		}
		if err := f.reg.Beat(ctx, "n2", now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n, err := f.reg.Reap(ctx, now, 30*time.Second); err != nil || n != 2 {
			t.Errorf("Reap = %d, %v; want 2", n, err)
		}
		expectEvents(t, l, f, map[int64][]wire.Event{
			1: {{Type: wire.EventLeave, ChatRoomID: 1, UserID: 1, Reason: "closed"}},
			3: {{Type: wire.EventLeave, ChatRoomID: 3, UserID: 1, Reason: "node-lost"}},
			4: {{Type: wire.EventLeave, ChatRoomID: 4, UserID: 3, Reason: "node-lost"}},
		})

		p, err := f.reg.Presence(ctx, []int64{1, 2, 3})
		if err != nil || len(p) != 3 || p[0].Sessions != 0 || p[0].LastSeen.IsZero() || p[1].Sessions != 1 || p[2].Sessions != 1 {
			t.Errorf("Presence = %+v, %v", p, err)
		}
		want := []string{k.Nodes(), k.NodeSessions("n1"), k.RoomPresence(1), k.RoomSessions(1),
			k.Session("s3"), k.Session("s5"), k.UserSessions(2), k.UserSessions(3)}
		if got := f.keysUnder(t); !slices.Equal(got, sorted(want)) {
			t.Errorf("keys left = %v\nwant        %v", got, sorted(want))
		}
	})
}

// expectEvents reads as many events as want holds from l and checks each
// room's in order (rooms may live on different nodes: no order between them).
func expectEvents(t *testing.T, l *redistest.Listener, f *fixture, want map[int64][]wire.Event) {
	t.Helper()
	got := map[int64][]wire.Event{}
	for _, evs := range want {
		for range evs {
			msg := l.Next(t)
			var ev wire.Event
			if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil || msg.Channel != f.keys.RoomEvents(ev.ChatRoomID) {
				t.Fatalf("event %s on %s", msg.Payload, msg.Channel)
			}
			if !wireTime.MatchString(ev.At) {
				t.Errorf("event %s: at is not the wire time layout", msg.Payload)
			}
			ev.At = ""
			got[ev.ChatRoomID] = append(got[ev.ChatRoomID], ev)
		}
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("events %+v\nwant   %+v", got, want)
	}
	l.None(t, 20*time.Millisecond)
}
