package readstate_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestCluster moves read positions (read.lua, with its READ event), reads
// them per room and per user across rooms, joins and forgets, on a single
// Redis and on a 3-master cluster where rooms 1, 3 and 4 live on different
// masters. Results must match.
func TestCluster(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb)
		if c != nil {
			c.Spread(t, f.keys.RoomRead(1), f.keys.RoomRead(3), f.keys.RoomRead(4))
		}
		ids := []int64{f.group(t, 3, 1, 2), f.group(t, 0, 5, 6), f.group(t, 4, 1, 2), f.group(t, 5, 1, 2, 3)}
		if !slices.Equal(ids, []int64{1, 2, 3, 4}) {
			t.Fatalf("room ids %v, want 1..4 (the spread above assumes them)", ids)
		}
		l := redistest.Listen(t, rdb, f.keys.RoomEvents(1), f.keys.RoomEvents(3), f.keys.RoomEvents(4))

		for _, st := range []struct {
			room, seq int64
			want      readstate.Result
			wantEvent bool
		}{
			{1, 2, readstate.Result{ChatRoomID: 1, UserID: 2, Seq: 2, UnreadCount: 1, Moved: true}, true},
			{3, readstate.Latest, readstate.Result{ChatRoomID: 3, UserID: 2, Seq: 4, UnreadCount: 0, Moved: true}, true},
			{4, 1, readstate.Result{ChatRoomID: 4, UserID: 2, Seq: 1, UnreadCount: 4, Moved: true}, true},
			{4, 1, readstate.Result{ChatRoomID: 4, UserID: 2, Seq: 1, UnreadCount: 4}, false},
		} {
			got, err := f.reads.MarkRead(ctx, st.room, 2, st.seq)
			if err != nil || got != st.want {
				t.Errorf("MarkRead(room %d, user 2, %d) = %+v, %v; want %+v", st.room, st.seq, got, err, st.want)
			}
			if !st.wantEvent {
				continue
			}
			msg := l.Next(t)
			var ev wire.ReadEvent
			if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil || msg.Channel != f.keys.RoomEvents(st.room) ||
				ev.Type != wire.EventRead || ev.ChatRoomID != st.room || ev.UserID != 2 || ev.Seq != st.want.Seq {
				t.Errorf("READ event %s on %s, want room %d seq %d", msg.Payload, msg.Channel, st.room, st.want.Seq)
			}
		}
		if _, err := f.reads.MarkRead(ctx, 1, 3, 1); !errors.Is(err, readstate.ErrNotMember) {
			t.Errorf("MarkRead by a non-member: %v, want ErrNotMember", err)
		}
		if _, err := f.reads.MarkRead(ctx, 99, 2, 1); !errors.Is(err, readstate.ErrRoomNotFound) {
			t.Errorf("MarkRead in a missing room: %v, want ErrRoomNotFound", err)
		}
		if err := f.reads.Join(ctx, 4, 3); err != nil { // silent: no event
			t.Fatal(err)
		}
		l.None(t, 20*time.Millisecond)

		pos, err := f.reads.PositionsOf(ctx, 2, []int64{1, 2, 3, 4})
		if want := map[int64]int64{1: 2, 2: 0, 3: 4, 4: 1}; err != nil || !maps.Equal(pos, want) {
			t.Errorf("PositionsOf(user 2) = %v, %v; want %v", pos, err, want)
		}
		// Sending moved the sender 1 to the last message.
		if got, err := f.reads.Positions(ctx, 4); err != nil || !maps.Equal(got, map[int64]int64{1: 5, 2: 1, 3: 5}) {
			t.Errorf("Positions(room 4) = %v, %v", got, err)
		}
		if err := f.reads.Forget(ctx, 4, 2); err != nil {
			t.Fatal(err)
		}
		if got, err := f.reads.Positions(ctx, 4); err != nil || !maps.Equal(got, map[int64]int64{1: 5, 3: 5}) {
			t.Errorf("Positions(room 4) after Forget = %v, %v", got, err)
		}
		if got := f.obs.get(); len(got) != 3 || got[2] != "room 4 user 2 unread 4" {
			t.Errorf("observer calls %q, want 3 ending with room 4's", got)
		}
	})
}
