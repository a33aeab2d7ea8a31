package fanout_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// watcher counts Resubscribed calls.
type watcher struct{ n atomic.Int32 }

func (w *watcher) Deliver(*fanout.Msg) {}
func (w *watcher) Resubscribed(string) { w.n.Add(1) }

// refuseSubscribe makes Redis answer SUBSCRIBE and SSUBSCRIBE with an error
// (NOPERM) until the returned function restores the default user.
func refuseSubscribe(t *testing.T, rdb redis.UniversalClient) (restore func()) {
	t.Helper()
	ctx := context.Background()
	if err := rdb.Do(ctx, "ACL", "SETUSER", "default", "-subscribe", "-ssubscribe").Err(); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore = func() {
		if restored {
			return
		}
		restored = true
		if err := rdb.Do(ctx, "ACL", "SETUSER", "default", "+@all", "allchannels").Err(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(restore)
	return restore
}

// TestRefusedResubscribeIsRetriedAndBackfilled: the pub/sub connection
// breaks while Redis refuses SUBSCRIBE; go-redis reconnects and its
// resubscribe gets an error reply. The hub reports the channel unconfirmed
// and counts the failure, retries until Redis accepts, then back-fills
// what was published meanwhile.
func TestRefusedResubscribeIsRetriedAndBackfilled(t *testing.T) {
	f := start(t)
	ch := f.keys.RoomMessages(f.room)
	r, w := &recorder{}, &watcher{}
	ctx := context.Background()
	for _, s := range []fanout.Subscriber{r, w} {
		if err := f.hub.Subscribe(ctx, ch, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := f.msgs.Send(ctx, f.room, 1, 0, "before"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "first message", func() bool { return len(r.seqs()) == 1 })
	if n := f.hub.Unconfirmed(); n != 0 {
		t.Fatalf("unconfirmed before the fault = %d", n)
	}

	admin := srv.Client(t)
	restore := refuseSubscribe(t, admin)
	if err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "the refused resubscribe to be seen", func() bool {
		return f.hub.Stats().ResubscribeFailures >= 1
	})
	for range 5 {
		if _, _, err := f.msgs.Send(ctx, f.room, 1, 0, "during"); err != nil {
			t.Fatal(err)
		}
	}
	redistest.Eventually(t, "a retry refused too", func() bool { return f.hub.Stats().ResubscribeFailures >= 2 })
	if n := f.hub.Unconfirmed(); n != 1 {
		t.Fatalf("unconfirmed during the refusal = %d, want 1", n)
	}
	restore()
	redistest.Eventually(t, "the channel confirmed again", func() bool { return f.hub.Unconfirmed() == 0 })
	redistest.Eventually(t, "Resubscribed called", func() bool { return w.n.Load() > 0 })
	if _, _, err := f.msgs.Send(ctx, f.room, 1, 0, "after"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "every message", func() bool { return len(r.seqs()) == 7 })
	if got := fmt.Sprint(r.seqs()); got != "[1 2 3 4 5 6 7]" {
		t.Fatalf("seqs = %s", got)
	}
}

// TestRefusedSubscribeLeavesNoTrace: a first SUBSCRIBE refused until its
// subscriber gave up fails that subscriber only; the next subscription of
// the channel, once Redis accepts again, works.
func TestRefusedSubscribeLeavesNoTrace(t *testing.T) {
	f := startWith(t, fanout.Config{Linger: -1, ConfirmTimeout: 300 * time.Millisecond})
	ch := f.keys.RoomMessages(f.room)
	ctx := context.Background()
	restore := refuseSubscribe(t, srv.Client(t))
	if err := f.hub.Subscribe(ctx, ch, &recorder{}); err == nil {
		t.Fatal("subscribe refused by Redis succeeded")
	}
	if f.hub.Stats().ResubscribeFailures == 0 {
		t.Error("the refusal was not counted")
	}
	restore()
	r := &recorder{}
	if err := f.hub.Subscribe(ctx, ch, r); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.msgs.Send(ctx, f.room, 1, 0, "hello"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "the message", func() bool { return len(r.seqs()) == 1 })
	redistest.Eventually(t, "nothing unconfirmed", func() bool { return f.hub.Unconfirmed() == 0 })
}
