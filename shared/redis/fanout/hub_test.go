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

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

type recorder struct {
	mu   sync.Mutex
	msgs []*fanout.Msg
}

func (r *recorder) Deliver(m *fanout.Msg) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
}

func (r *recorder) seqs() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]int64, len(r.msgs))
	for i, m := range r.msgs {
		out[i] = m.Seq
	}
	return out
}

type fixture struct {
	hub  *fanout.Hub
	rdb  redis.UniversalClient
	keys keys.Space
	msgs *messages.Store
	room int64
}

func start(t *testing.T) fixture {
	t.Helper()
	return startWith(t, fanout.Config{})
}

// startWith starts a hub with cfg (its Backfill is set here).
func startWith(t *testing.T, cfg fanout.Config) fixture {
	t.Helper()
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	msgs := messages.NewStore(rdb, ks, messages.Config{})
	r, _, err := room.NewStore(rdb, ks, room.Config{}).CreateDirect(context.Background(), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Backfill = msgs.ByChannel()
	hub := fanout.New(rdb, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = hub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return fixture{hub: hub, rdb: rdb, keys: ks, msgs: msgs, room: r.ID}
}

func TestSubscribesOnlyWhileInterested(t *testing.T) {
	f := startWith(t, fanout.Config{Linger: -1})
	ch := f.keys.RoomMessages(f.room)
	a, b := &recorder{}, &recorder{}
	ctx := context.Background()
	if err := f.hub.Subscribe(ctx, ch, a); err != nil {
		t.Fatal(err)
	}
	if err := f.hub.Subscribe(ctx, ch, b); err != nil {
		t.Fatal(err)
	}
	if n := f.hub.Channels(); n != 1 {
		t.Fatalf("channels = %d, want 1", n)
	}
	f.hub.Unsubscribe(ch, a)
	f.hub.Unsubscribe(ch, b)
	if n := f.hub.Channels(); n != 0 {
		t.Fatalf("channels after unsubscribe = %d, want 0", n)
	}
	// Nobody is interested: the node receives nothing of the room.
	before := f.hub.Stats().Received
	for i := 0; i < 5; i++ {
		if _, _, err := f.msgs.Send(ctx, f.room, 1, 0, "x"); err != nil {
			t.Fatal(err)
		}
	}
	probe := &recorder{}
	if err := f.hub.Subscribe(ctx, ch, probe); err != nil { // flushes the connection
		t.Fatal(err)
	}
	if got := f.hub.Stats().Received - before; got != 0 {
		t.Fatalf("received %d messages of a room without local subscribers", got)
	}
}

func TestDeliversInSeqOrderToEverySubscriber(t *testing.T) {
	f := start(t)
	ch := f.keys.RoomMessages(f.room)
	subs := []*recorder{{}, {}, {}}
	for _, s := range subs {
		if err := f.hub.Subscribe(context.Background(), ch, s); err != nil {
			t.Fatal(err)
		}
	}
	const n = 200
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				_, _, _ = f.msgs.Send(context.Background(), f.room, 1, 0, fmt.Sprint(i))
			}
		}()
	}
	wg.Wait()
	for i, s := range subs {
		redistest.Eventually(t, fmt.Sprint("subscriber ", i), func() bool { return len(s.seqs()) == n })
		for j, seq := range s.seqs() {
			if seq != int64(j+1) {
				t.Fatalf("subscriber %d: seqs %v not 1..%d in order", i, s.seqs(), n)
			}
		}
	}
}

func TestGapIsBackfilledFromHistory(t *testing.T) {
	f := start(t)
	ch := f.keys.RoomMessages(f.room)
	r := &recorder{}
	if err := f.hub.Subscribe(context.Background(), ch, r); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, _, _ = f.msgs.Send(ctx, f.room, 1, 0, "one")
	redistest.Eventually(t, "first message", func() bool { return len(r.seqs()) == 1 })
	// Messages 2..4 reach history but are never published (as when the
	// pub/sub connection was down); message 5 is published normally.
	rdb := srv.Client(t)
	for i := 2; i <= 4; i++ {
		p := fmt.Sprintf(`{"id":"%d-%d","chatRoomId":%d,"seq":%d,"sendId":1,"message":"lost"}`, f.room, i, f.room, i)
		rdb.ZAdd(ctx, f.keys.RoomHistory(f.room), redisZ(float64(i), p))
		rdb.HSet(ctx, f.keys.RoomMeta(f.room), "lastSeq", i)
	}
	_, _, _ = f.msgs.Send(ctx, f.room, 1, 0, "five")
	redistest.Eventually(t, "backfilled messages", func() bool { return len(r.seqs()) == 5 })
	if got := fmt.Sprint(r.seqs()); got != "[1 2 3 4 5]" {
		t.Fatalf("seqs = %s", got)
	}
	if f.hub.Stats().Backfilled != 3 {
		t.Fatalf("backfilled = %d, want 3", f.hub.Stats().Backfilled)
	}
	// A duplicate publish is dropped.
	p, _ := rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: f.keys.RoomHistory(f.room), Start: "5", Stop: "5", ByScore: true}).Result()
	rdb.Publish(ctx, ch, p[0])
	_, _, _ = f.msgs.Send(ctx, f.room, 1, 0, "six")
	redistest.Eventually(t, "sixth message", func() bool { return len(r.seqs()) == 6 })
	if got := fmt.Sprint(r.seqs()); got != "[1 2 3 4 5 6]" {
		t.Fatalf("seqs after duplicate = %s", got)
	}
}

func TestReconnectCatchesUp(t *testing.T) {
	f := start(t)
	ch := f.keys.RoomMessages(f.room)
	r := &recorder{}
	ctx := context.Background()
	if err := f.hub.Subscribe(ctx, ch, r); err != nil {
		t.Fatal(err)
	}
	_, _, _ = f.msgs.Send(ctx, f.room, 1, 0, "before")
	redistest.Eventually(t, "first message", func() bool { return len(r.seqs()) == 1 })
	// Kill the hub's pub/sub connection; send while it is down.
	rdb := srv.Client(t)
	if err := rdb.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		_, _, _ = f.msgs.Send(ctx, f.room, 1, 0, "during")
	}
	redistest.Eventually(t, "catch-up after reconnect", func() bool { return len(r.seqs()) == 4 })
	if got := fmt.Sprint(r.seqs()); got != "[1 2 3 4]" {
		t.Fatalf("seqs = %s", got)
	}
}

// TestLingerKeepsTheChannelBriefly: after the last local subscriber leaves,
// the channel stays subscribed for the linger (a re-subscribe within it
// costs no Redis command and loses nothing), then goes.
func TestLingerKeepsTheChannelBriefly(t *testing.T) {
	f := startWith(t, fanout.Config{Linger: 300 * time.Millisecond})
	ch := f.keys.RoomMessages(f.room)
	ctx := context.Background()
	a := &recorder{}
	if err := f.hub.Subscribe(ctx, ch, a); err != nil {
		t.Fatal(err)
	}
	f.hub.Unsubscribe(ch, a)
	if n := f.hub.Channels(); n != 1 {
		t.Fatalf("channels right after the last unsubscribe = %d, want 1 (lingering)", n)
	}
	b := &recorder{}
	if err := f.hub.Subscribe(ctx, ch, b); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // past the first linger: it was cancelled
	if _, _, err := f.msgs.Send(ctx, f.room, 1, 0, "still here"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "message to the re-subscriber", func() bool { return len(b.seqs()) == 1 })
	f.hub.Unsubscribe(ch, b)
	redistest.Eventually(t, "channel to go after the linger", func() bool { return f.hub.Channels() == 0 })
	// The hub forgets the channel, then sends UNSUBSCRIBE: wait for Redis.
	redistest.Eventually(t, "Redis to drop the subscription", func() bool {
		return f.rdb.PubSubNumSub(ctx, ch).Val()[ch] == 0
	})
	before := f.hub.Stats().Received
	if _, _, err := f.msgs.Send(ctx, f.room, 1, 0, "nobody"); err != nil {
		t.Fatal(err)
	}
	probe := &recorder{}
	if err := f.hub.Subscribe(ctx, f.keys.RoomEvents(f.room), probe); err != nil { // flushes the connection
		t.Fatal(err)
	}
	if got := f.hub.Stats().Received - before; got != 0 {
		t.Fatalf("received %d messages after the linger ended", got)
	}
}

// TestReconnectBeforeFirstMessageCatchesUp: a connection lost before the
// first live message of a channel still has its gap closed, from the head
// seq read when the channel was subscribed.
func TestReconnectBeforeFirstMessageCatchesUp(t *testing.T) {
	f := start(t)
	ch := f.keys.RoomMessages(f.room)
	ctx := context.Background()
	for range 3 { // history before the subscription: not for this subscriber
		if _, _, err := f.msgs.Send(ctx, f.room, 1, 0, "old"); err != nil {
			t.Fatal(err)
		}
	}
	r := &recorder{}
	if err := f.hub.Subscribe(ctx, ch, r); err != nil {
		t.Fatal(err)
	}
	rdb := srv.Client(t)
	if err := rdb.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := f.msgs.Send(ctx, f.room, 1, 0, "during"); err != nil {
			t.Fatal(err)
		}
	}
	redistest.Eventually(t, "catch-up after reconnect", func() bool { return len(r.seqs()) == 3 })
	if got := fmt.Sprint(r.seqs()); got != "[4 5 6]" {
		t.Fatalf("seqs = %s, want [4 5 6]", got)
	}
}
