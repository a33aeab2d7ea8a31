package fanout_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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
	g := openGap(t, fanout.Config{})
	ctx := context.Background()
	roomB, _, err := g.rooms.CreateDirect(ctx, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	b := &recorder{}
	if err := g.hub.Subscribe(ctx, g.ks.RoomMessages(roomB.ID), b); err != nil {
		t.Fatal(err)
	}
	g.send(t, "four")
	if _, _, err := g.msgs.Send(ctx, roomB.ID, 3, 0, "hello"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "room B's message while room A's back-fill waits", func() bool { return len(b.seqs()) == 1 })
	if got := fmt.Sprint(g.a.seqs()); got != "[1]" {
		t.Fatalf("room A during its back-fill: seqs %s, want [1]", got)
	}
	g.released()
	redistest.Eventually(t, "room A's messages after the back-fill", func() bool { return len(g.a.seqs()) >= 4 })
	g.send(t, "five")
	redistest.Eventually(t, "room A's next message", func() bool { return len(g.a.seqs()) >= 5 })
	if got := fmt.Sprint(g.a.seqs()); got != "[1 2 3 4 5]" {
		t.Fatalf("room A: seqs %s, want [1 2 3 4 5]", got)
	}
	if st := g.hub.Stats(); st.Backfilled != 1 {
		t.Fatalf("backfilled = %d, want 1", st.Backfilled)
	}
}

// gappedRoom is room A of a hub whose history reads of that room wait
// for release, and a subscriber of it that got seq 1 while seq 2 reached
// history unpublished, so seq 3 started a back-fill that now waits.
type gappedRoom struct {
	rdb      redis.UniversalClient
	ks       keys.Space
	msgs     *messages.Store
	rooms    *room.Store
	hub      *fanout.Hub
	id       int64
	a        *recorder
	released func()
}

// openGap starts a hub with cfg (Backfill and ConfirmTimeout set here)
// and leaves room A's back-fill waiting, as gappedRoom says.
func openGap(t *testing.T, cfg fanout.Config) *gappedRoom {
	t.Helper()
	ctx := context.Background()
	g := &gappedRoom{rdb: srv.Client(t), ks: keys.MustNew(redistest.Prefix(t)), a: &recorder{}}
	g.msgs = messages.NewStore(g.rdb, g.ks, messages.Config{})
	g.rooms = room.NewStore(g.rdb, g.ks, room.Config{})
	roomA, _, err := g.rooms.CreateDirect(ctx, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	g.id = roomA.ID
	chA := g.ks.RoomMessages(g.id)
	gate := &gatedHistory{Backfiller: g.msgs.ByChannel(), channel: chA, entered: make(chan struct{}), release: make(chan struct{})}
	g.released = sync.OnceFunc(func() { close(gate.release) })
	t.Cleanup(g.released)
	// A long timeout: the stuck read must not end on its own during the test.
	cfg.Backfill, cfg.ConfirmTimeout = gate, time.Minute
	g.hub = fanout.New(g.rdb, cfg)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = g.hub.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := g.hub.Subscribe(ctx, chA, g.a); err != nil {
		t.Fatal(err)
	}
	g.send(t, "one")
	redistest.Eventually(t, "room A's first message", func() bool { return len(g.a.seqs()) == 1 })
	// Seq 2 of room A reaches history but is never published; seq 3 is.
	p := fmt.Sprintf(`{"id":"%d-2","chatRoomId":%d,"seq":2,"sendId":1,"message":"lost"}`, g.id, g.id)
	g.rdb.ZAdd(ctx, g.ks.RoomHistory(g.id), redisZ(2, p))
	g.rdb.HSet(ctx, g.ks.RoomMeta(g.id), "lastSeq", 2)
	g.send(t, "three")
	select {
	case <-gate.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the gap in room A was not back-filled")
	}
	return g
}

// send sends text into room A as user 1.
func (g *gappedRoom) send(t *testing.T, text string) {
	t.Helper()
	if _, _, err := g.msgs.Send(context.Background(), g.id, 1, 0, text); err != nil {
		t.Fatal(err)
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
	g := openGap(t, fanout.Config{QueueMax: 5})
	const more = 20 // seqs 4..23: 5 queued, 15 beyond the queue
	for i := 0; i < more; i++ {
		g.send(t, "flood")
	}
	redistest.Eventually(t, "the messages beyond the queue to be counted", func() bool { return g.hub.Stats().Overflowed == more-5 })
	g.released()
	want := make([]int64, 3+more)
	for i := range want {
		want[i] = int64(i + 1)
	}
	redistest.Eventually(t, "every message of room A after the back-fill", func() bool { return len(g.a.seqs()) >= len(want) })
	if got := fmt.Sprint(g.a.seqs()); got != fmt.Sprint(want) {
		t.Fatalf("room A: seqs %s, want %v", got, want)
	}
}
