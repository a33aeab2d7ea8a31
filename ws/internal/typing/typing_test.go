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

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

func setup(t *testing.T, cfg typing.Config) (*redis.Client, keys.Space, *typing.Store, int64) {
	t.Helper()
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	r, err := room.NewStore(rdb, ks, room.Config{}).CreateGroup(context.Background(), 8, "g", []int64{3})
	if err != nil {
		t.Fatal(err)
	}
	return rdb, ks, typing.NewStore(rdb, ks, cfg), r.ID
}

func received(t *testing.T, rdb *redis.Client, channel string, during func()) []wire.TypingEvent {
	t.Helper()
	ps := rdb.Subscribe(context.Background(), channel)
	defer ps.Close()
	if _, err := ps.ReceiveTimeout(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	during()
	var out []wire.TypingEvent
	for {
		msg, err := ps.ReceiveTimeout(context.Background(), 200*time.Millisecond)
		if err != nil {
			return out
		}
		if m, ok := msg.(*redis.Message); ok {
			var ev wire.TypingEvent
			if err := json.Unmarshal([]byte(m.Payload), &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, ev)
		}
	}
}

func TestTypingIsRateLimitedPerMember(t *testing.T) {
	ctx := context.Background()
	rdb, ks, st, id := setup(t, typing.Config{PerWindow: 2, Window: 10 * time.Second})
	var sent []bool
	got := received(t, rdb, ks.RoomEvents(id), func() {
		for _, u := range []int64{8, 8, 8, 3, 8} {
			ok, err := st.Typing(ctx, id, u, u != 3)
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, ok)
		}
	})
	if want := []bool{true, true, false, true, false}; !slices.Equal(sent, want) {
		t.Errorf("sent %v, want %v", sent, want)
	}
	if len(got) != 3 {
		t.Fatalf("events %+v, want 3", got)
	}
	for i, ev := range got {
		wantUser, wantTyping := int64(8), true
		if i == 2 {
			wantUser, wantTyping = 3, false
		}
		if ev.Type != wire.EventTyping || ev.ChatRoomID != id || ev.UserID != wantUser || ev.Typing != wantTyping || ev.At == "" {
			t.Errorf("event %d = %+v", i, ev)
		}
	}
	if ttl := rdb.PTTL(ctx, ks.RoomTyping(id, 8)).Val(); ttl <= 0 || ttl > 10*time.Second {
		t.Errorf("rate counter TTL %v, want an expiry within the window", ttl)
	}
	if n := rdb.Exists(ctx, ks.RoomHistory(id)).Val(); n != 0 {
		t.Errorf("typing stored something in history")
	}
}

// Stops have a budget of their own: a user who typed, sent (stop) and types
// again within one window is still announced as typing.
func TestTypingStopsDoNotUseUpStarts(t *testing.T) {
	ctx := context.Background()
	rdb, ks, st, id := setup(t, typing.Config{PerWindow: 2, Window: 10 * time.Second})
	var sent []bool
	got := received(t, rdb, ks.RoomEvents(id), func() {
		for _, on := range []bool{true, false, true, false, true} {
			ok, err := st.Typing(ctx, id, 8, on)
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, ok)
		}
	})
	if want := []bool{true, true, true, true, false}; !slices.Equal(sent, want) {
		t.Errorf("sent %v, want %v (two starts and two stops per window)", sent, want)
	}
	if len(got) != 4 || !got[2].Typing {
		t.Errorf("events %+v, want start, stop, start, stop", got)
	}
}

func TestTypingWindowReopens(t *testing.T) {
	ctx := context.Background()
	_, _, st, id := setup(t, typing.Config{PerWindow: 1, Window: 100 * time.Millisecond})
	if ok, _ := st.Typing(ctx, id, 8, true); !ok {
		t.Fatal("first not sent")
	}
	if ok, _ := st.Typing(ctx, id, 8, true); ok {
		t.Fatal("second within the window sent")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, err := st.Typing(ctx, id, 8, false)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the window never reopened")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTypingNeedsMembership(t *testing.T) {
	_, _, st, id := setup(t, typing.Config{})
	for _, c := range []struct{ room, user int64 }{{id, 5}, {id + 1, 8}, {0, 8}} {
		if _, err := st.Typing(context.Background(), c.room, c.user, true); !errors.Is(err, typing.ErrNotMember) {
			t.Errorf("room %d user %d: err = %v", c.room, c.user, err)
		}
	}
}
