package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestCluster runs the post-send step (send.lua on the room's slot, the
// session counts on the users' slots, one pipeline of notifications to
// users on three different masters, the outbox stream), unread notes after
// a read and membership notes, on a single Redis and on a 3-master cluster.
// Results must match.
func TestCluster(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, notify.Config{PreviewRunes: 5})
		k := f.keys
		if c != nil {
			c.Spread(t, k.UserNotifications(1), k.UserNotifications(2), k.UserNotifications(3))
			c.Spread(t, k.RoomMembers(1), k.RoomMembers(3))
		}
		for want, members := range [][]int64{{1, 2, 3}, {2, 3}, {3, 1, 2}} {
			r, err := f.rooms.CreateGroup(ctx, members[0], "g", members[1:])
			if err != nil || r.ID != int64(want+1) {
				t.Fatalf("CreateGroup = room %d, %v; want room %d (the spread above assumes it)", r.ID, err, want+1)
			}
		}
		l := redistest.Listen(t, rdb, k.UserNotifications(1), k.UserNotifications(2), k.UserNotifications(3))
		f.session(t, "a", 1, 1) // user 1 is in room 1
		f.session(t, "b", 2, 0) // user 2 is online, in no room; user 3 is offline

		m1 := f.send(t, 1, 1, "hello world")
		f.send(t, 3, 3, "hi")
		expectNotes(t, l, k, map[int64][]string{
			1: {"MESSAGE room 3 seq 1 from 3 hi unread 1"},
			2: {"MESSAGE room 1 seq 1 from 1 hello… unread 1", "MESSAGE room 3 seq 1 from 3 hi unread 1"},
		})
		out := notify.NewOutbox(rdb, k)
		if p, err := out.Pending(ctx, 10); err != nil || len(p) != 1 || p[0].UserID != 3 || p[0].Records != 1 {
			t.Fatalf("pending = %+v, %v; want user 3 with one record", p, err)
		}
		recs, err := out.Records(ctx, 3)
		if err != nil || len(recs) != 1 {
			t.Fatalf("outbox of 3 = %+v, %v; want one record", recs, err)
		}
		want := notify.Record{ID: recs[0].ID, UserID: 3, ChatRoomID: 1, Seq: 1, SendID: 1, Preview: "hello…", SentAt: m1.SentAt, UnreadCount: 1}
		if recs[0] != want {
			t.Errorf("outbox record %+v, want %+v", recs[0], want)
		}
		for room, sender := range map[int64]int64{1: 1, 3: 3} {
			if pos, err := f.reads.Positions(ctx, room); err != nil || pos[sender] != 1 {
				t.Errorf("room %d: positions %v, %v; want sender %d at 1", room, pos, err, sender)
			}
		}

		if _, err := f.reads.MarkRead(ctx, 1, 2, 1); err != nil {
			t.Fatal(err)
		}
		if err := f.note.Added(ctx, 2, 1, 2, 3); err != nil {
			t.Fatal(err)
		}
		if err := f.note.Removed(ctx, 3, 1); err != nil {
			t.Fatal(err)
		}
		expectNotes(t, l, k, map[int64][]string{
			1: {"ADDED room 2", "REMOVED room 3"},
			2: {"UNREAD room 1 unread 0", "ADDED room 2"},
			3: {"ADDED room 2"},
		})
	})
}

// expectNotes reads as many notifications as want holds from l and checks
// each user's, in order (users' channels may be on different nodes, so
// there is no order between users).
func expectNotes(t *testing.T, l *redistest.Listener, k keys.Space, want map[int64][]string) {
	t.Helper()
	user := map[string]int64{}
	n := 0
	for u, notes := range want {
		user[k.UserNotifications(u)] = u
		n += len(notes)
	}
	got := map[int64][]string{}
	for range n {
		msg := l.Next(t)
		var note wire.Notification
		if err := json.Unmarshal([]byte(msg.Payload), &note); err != nil || note.At == "" {
			t.Fatalf("notification %s on %s", msg.Payload, msg.Channel)
		}
		u, ok := user[msg.Channel]
		if !ok {
			t.Fatalf("unexpected notification %s on %s", msg.Payload, msg.Channel)
		}
		line := fmt.Sprintf("%s room %d", note.Type, note.ChatRoomID)
		if note.Seq != 0 {
			line += fmt.Sprintf(" seq %d from %d %s", note.Seq, note.SendID, note.Preview)
		}
		if note.UnreadCount != nil {
			line += fmt.Sprintf(" unread %d", *note.UnreadCount)
		}
		got[u] = append(got[u], line)
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("notifications %v\nwant          %v", got, want)
	}
	l.None(t, 20*time.Millisecond)
}
