package typing_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/typing"
)

// TestCluster announces typing (typing.lua: membership, rate counter,
// TYPING event) in rooms 1, 3 and 4, which live on three different masters
// of a cluster, and on a single Redis. Results must match: the budget is
// per member and room, stops have their own.
func TestCluster(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		ks := keys.MustNew(redistest.Prefix(t))
		if c != nil {
			c.Spread(t, ks.RoomTyping(1, 8), ks.RoomTyping(3, 8), ks.RoomTyping(4, 8))
		}
		rooms := room.NewStore(rdb, ks, room.Config{})
		for want := int64(1); want <= 4; want++ {
			r, err := rooms.CreateGroup(ctx, 8, "g", []int64{3})
			if err != nil || r.ID != want {
				t.Fatalf("CreateGroup = room %d, %v; want room %d (the spread above assumes it)", r.ID, err, want)
			}
		}
		st := typing.NewStore(rdb, ks, typing.Config{PerWindow: 2, Window: 10 * time.Second})
		l := redistest.Listen(t, rdb, ks.RoomEvents(1), ks.RoomEvents(3), ks.RoomEvents(4))

		var want []wire.TypingEvent
		for _, step := range []struct {
			room, user int64
			typing     bool
			wantSent   bool
		}{
			{1, 8, true, true}, {3, 8, true, true}, {1, 8, true, true}, {1, 8, true, false}, // room 1's budget is spent
			{4, 8, true, true}, {1, 3, true, true}, {1, 8, false, true}, {3, 8, true, true}, {3, 8, true, false},
		} {
			ok, err := st.Typing(ctx, step.room, step.user, step.typing)
			if err != nil {
				t.Fatal(err)
			}
			if ok != step.wantSent {
				t.Errorf("Typing(room %d, user %d, %v) = %v, want %v", step.room, step.user, step.typing, ok, step.wantSent)
			}
			if ok {
				want = append(want, wire.TypingEvent{Type: wire.EventTyping, ChatRoomID: step.room, UserID: step.user, Typing: step.typing})
			}
		}
		var got []wire.TypingEvent
		for range want {
			msg := l.Next(t)
			var ev wire.TypingEvent
			if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil || msg.Channel != ks.RoomEvents(ev.ChatRoomID) || ev.At == "" {
				t.Fatalf("event %s on %s", msg.Payload, msg.Channel)
			}
			ev.At = ""
			got = append(got, ev)
		}
		// Rooms are on different nodes, so only each room's own order is kept.
		for _, id := range []int64{1, 3, 4} {
			elsewhere := func(ev wire.TypingEvent) bool { return ev.ChatRoomID != id }
			g, w := slices.DeleteFunc(slices.Clone(got), elsewhere), slices.DeleteFunc(slices.Clone(want), elsewhere)
			if !slices.Equal(g, w) {
				t.Errorf("room %d events %+v, want %+v", id, g, w)
			}
		}
		l.None(t, 20*time.Millisecond)
		if _, err := st.Typing(ctx, 3, 5, true); !errors.Is(err, typing.ErrNotMember) {
			t.Errorf("Typing by a non-member: %v, want ErrNotMember", err)
		}
	})
}
