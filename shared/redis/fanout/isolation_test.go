package fanout_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// gatedHistory is a Backfiller whose reads of one channel wait until
// release is closed, as a history read stuck on a slow or failing Redis.
type gatedHistory struct {
	fanout.Backfiller
	channel string
	entered chan struct{} // closed when a read of channel starts
	once    sync.Once
	release chan struct{}
}

func (g *gatedHistory) Since(ctx context.Context, channel string, after int64) ([][]byte, error) {
	if channel == g.channel {
		g.once.Do(func() { close(g.entered) })
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Backfiller.Since(ctx, channel, after)
}

// TestBackfillDelaysOnlyItsRoom: while the back-fill of a gap in room A
// waits for history, a live message of room B, received on the same
// pub/sub connection, is delivered; room A's messages published meanwhile
// are held behind the back-fill and delivered after it, once each, in seq
// order.
func TestBackfillDelaysOnlyItsRoom(t *testing.T) {
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	msgs := messages.NewStore(rdb, ks, messages.Config{})
	rooms := room.NewStore(rdb, ks, room.Config{})
	ctx := context.Background()
	roomA, _, err := rooms.CreateDirect(ctx, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	roomB, _, err := rooms.CreateDirect(ctx, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	chA, chB := ks.RoomMessages(roomA.ID), ks.RoomMessages(roomB.ID)
	gate := &gatedHistory{Backfiller: msgs.ByChannel(), channel: chA, entered: make(chan struct{}), release: make(chan struct{})}
	released := sync.OnceFunc(func() { close(gate.release) })
	t.Cleanup(released)
	// A long timeout: the stuck read must not end on its own during the test.
	hub := fanout.New(rdb, fanout.Config{Backfill: gate, ConfirmTimeout: time.Minute})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = hub.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })

	a, b := &recorder{}, &recorder{}
	if err := hub.Subscribe(ctx, chA, a); err != nil {
		t.Fatal(err)
	}
	if err := hub.Subscribe(ctx, chB, b); err != nil {
		t.Fatal(err)
	}
	if _, _, err := msgs.Send(ctx, roomA.ID, 1, 0, "one"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "room A's first message", func() bool { return len(a.seqs()) == 1 })
	// Seq 2 of room A reaches history but is never published; seq 3 is.
	p := fmt.Sprintf(`{"id":"%d-2","chatRoomId":%d,"seq":2,"sendId":1,"message":"lost"}`, roomA.ID, roomA.ID)
	rdb.ZAdd(ctx, ks.RoomHistory(roomA.ID), redisZ(2, p))
	rdb.HSet(ctx, ks.RoomMeta(roomA.ID), "lastSeq", 2)
	if _, _, err := msgs.Send(ctx, roomA.ID, 1, 0, "three"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gate.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the gap in room A was not back-filled")
	}
	if _, _, err := msgs.Send(ctx, roomA.ID, 1, 0, "four"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := msgs.Send(ctx, roomB.ID, 3, 0, "hello"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "room B's message while room A's back-fill waits", func() bool { return len(b.seqs()) == 1 })
	if got := fmt.Sprint(a.seqs()); got != "[1]" {
		t.Fatalf("room A during its back-fill: seqs %s, want [1]", got)
	}
	released()
	redistest.Eventually(t, "room A's messages after the back-fill", func() bool { return len(a.seqs()) >= 4 })
	if _, _, err := msgs.Send(ctx, roomA.ID, 1, 0, "five"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "room A's next message", func() bool { return len(a.seqs()) >= 5 })
	if got := fmt.Sprint(a.seqs()); got != "[1 2 3 4 5]" {
		t.Fatalf("room A: seqs %s, want [1 2 3 4 5]", got)
	}
	if st := hub.Stats(); st.Backfilled != 1 {
		t.Fatalf("backfilled = %d, want 1", st.Backfilled)
	}
}

// stuck is a Subscriber whose Deliver blocks until release is closed.
type stuck struct {
	entered chan struct{}
	once    sync.Once
	release chan struct{}
}

func (s *stuck) Deliver(*fanout.Msg) {
	s.once.Do(func() { close(s.entered) })
	<-s.release
}

// TestSubscribeDoesNotWaitForFanOut: while a delivery to a room with many
// local subscribers is in progress (one of them slow), another subscriber
// of that room subscribes and unsubscribes without waiting for it.
func TestSubscribeDoesNotWaitForFanOut(t *testing.T) {
	f := start(t)
	ch := f.keys.RoomMessages(f.room)
	ctx := context.Background()
	slow := &stuck{entered: make(chan struct{}), release: make(chan struct{})}
	release := sync.OnceFunc(func() { close(slow.release) })
	t.Cleanup(release)
	subs := make([]*recorder, 1000)
	for i := range subs {
		subs[i] = &recorder{}
		if err := f.hub.Subscribe(ctx, ch, subs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.hub.Subscribe(ctx, ch, slow); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.msgs.Send(ctx, f.room, 1, 0, "hello"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-slow.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the message was not delivered")
	}
	joined := make(chan error, 1)
	newcomer := &recorder{}
	go func() {
		err := f.hub.Subscribe(ctx, ch, newcomer)
		f.hub.Unsubscribe(ch, newcomer)
		joined <- err
	}()
	select {
	case err := <-joined:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe and Unsubscribe waited for a Deliver in progress")
	}
	release()
	for i, s := range subs {
		redistest.Eventually(t, fmt.Sprint("subscriber ", i), func() bool { return len(s.seqs()) == 1 })
	}
}

// TestFullQueueReadsTheRestFromHistory: while room A's back-fill waits for
// history, its queue holds at most QueueMax live messages; the ones beyond
// are not held in memory but read from history once the back-fill is done,
// so the subscriber still gets every message once, in seq order.
func TestFullQueueReadsTheRestFromHistory(t *testing.T) {
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	msgs := messages.NewStore(rdb, ks, messages.Config{})
	rooms := room.NewStore(rdb, ks, room.Config{})
	ctx := context.Background()
	roomA, _, err := rooms.CreateDirect(ctx, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	chA := ks.RoomMessages(roomA.ID)
	gate := &gatedHistory{Backfiller: msgs.ByChannel(), channel: chA, entered: make(chan struct{}), release: make(chan struct{})}
	released := sync.OnceFunc(func() { close(gate.release) })
	t.Cleanup(released)
	hub := fanout.New(rdb, fanout.Config{Backfill: gate, ConfirmTimeout: time.Minute, QueueMax: 5})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = hub.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })

	a := &recorder{}
	if err := hub.Subscribe(ctx, chA, a); err != nil {
		t.Fatal(err)
	}
	if _, _, err := msgs.Send(ctx, roomA.ID, 1, 0, "one"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "room A's first message", func() bool { return len(a.seqs()) == 1 })
	// Seq 2 reaches history but is never published: seq 3 opens a gap.
	p := fmt.Sprintf(`{"id":"%d-2","chatRoomId":%d,"seq":2,"sendId":1,"message":"lost"}`, roomA.ID, roomA.ID)
	rdb.ZAdd(ctx, ks.RoomHistory(roomA.ID), redisZ(2, p))
	rdb.HSet(ctx, ks.RoomMeta(roomA.ID), "lastSeq", 2)
	if _, _, err := msgs.Send(ctx, roomA.ID, 1, 0, "three"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gate.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the gap in room A was not back-filled")
	}
	const more = 20 // seqs 4..23: 5 queued, 15 beyond the queue
	for i := 0; i < more; i++ {
		if _, _, err := msgs.Send(ctx, roomA.ID, 1, 0, "flood"); err != nil {
			t.Fatal(err)
		}
	}
	redistest.Eventually(t, "the messages beyond the queue to be counted", func() bool { return hub.Stats().Overflowed == more-5 })
	released()
	want := make([]int64, 3+more)
	for i := range want {
		want[i] = int64(i + 1)
	}
	redistest.Eventually(t, "every message of room A after the back-fill", func() bool { return len(a.seqs()) >= len(want) })
	if got := fmt.Sprint(a.seqs()); got != fmt.Sprint(want) {
		t.Fatalf("room A: seqs %s, want %v", got, want)
	}
}
