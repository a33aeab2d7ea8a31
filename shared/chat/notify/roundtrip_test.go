package notify_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/wire"
)

// trips counts the round trips a client makes: commands and pipelines.
type trips struct{ n atomic.Int64 }

func (c *trips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *trips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}

func (c *trips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(1); return next(ctx, cmds) }
}

// In a conversation every reply reads the message before it, so the
// sender is told "UNREAD 0" each time. On a single Redis that note is
// published by send.lua itself: a send is one round trip, not two.
func TestConversationReplyIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t)
	var c trips
	rdb.AddHook(&c)
	f := fixtureOn(t, rdb, notify.Config{})
	r, _, err := f.rooms.CreateDirect(ctx, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	f.session(t, "s1", 1, r.ID)
	f.session(t, "s2", 2, r.ID)
	in := f.inbox(t, 1, 2)
	f.send(t, r.ID, 1, "hi")
	for i, sender := range []int64{2, 1, 2} {
		before := c.n.Load()
		f.send(t, r.ID, sender, "reply")
		if n := c.n.Load() - before; n != 1 {
			t.Errorf("reply %d from %d: %d round trips, want 1", i+1, sender, n)
		}
	}
	got := in.drain(t, 300*time.Millisecond)
	for _, u := range []int64{1, 2} {
		notes := got[f.keys.UserNotifications(u)]
		want := map[int64]int{1: 1, 2: 2}[u] // 1 replied once, 2 twice
		if len(notes) != want {
			t.Fatalf("user %d got %d notes, want %d: %s", u, len(notes), want, show(got))
		}
		for _, n := range notes {
			if n.Type != wire.NoteUnread || n.ChatRoomID != r.ID || n.UnreadCount == nil || *n.UnreadCount != 0 {
				t.Errorf("user %d: note %+v, want UNREAD 0 of room %d", u, n, r.ID)
			}
		}
	}
}
