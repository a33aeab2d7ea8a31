package messages_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/messages"
	"github.com/roomwire/roomwire/shared/wire"
)

// holdFirst is a go-redis hook that holds the first script run until
// release is closed, and records the size of every pipeline; before the
// first pipeline runs it empties Redis' script cache, so the pipeline's
// EVALSHA get NOSCRIPT and must be run again with EVAL.
type holdFirst struct {
	flush     func()
	entered   chan struct{}
	release   chan struct{}
	held      atomic.Bool // sync.Once would hold the others too
	mu        sync.Mutex
	pipelines []int
}

func (h *holdFirst) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *holdFirst) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); n == "evalsha" || n == "eval" {
			if h.held.CompareAndSwap(false, true) {
				close(h.entered)
				<-h.release
			}
		}
		return next(ctx, cmd)
	}
}

func (h *holdFirst) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if cmds[0].Name() != "evalsha" { // a new connection's HELLO
			return next(ctx, cmds)
		}
		h.mu.Lock()
		if len(h.pipelines) == 0 {
			h.flush()
		}
		h.pipelines = append(h.pipelines, len(cmds))
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

// TestConcurrentSendsShareOneRoundTrip: sends that come while one is in
// flight wait, then go together in one pipeline; each gets its own
// message, and a script cache Redis lost meanwhile is reloaded.
func TestConcurrentSendsShareOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	room := f.group(t, 1, 2, 3)
	other := f.direct(t, 4, 5)

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { rdb.Close() })
	h := &holdFirst{entered: make(chan struct{}), release: make(chan struct{}),
		flush: func() { srv.Client(t).ScriptFlush(ctx) }}
	rdb.AddHook(h)
	store := messages.NewStore(rdb, f.keys, messages.Config{SendsInFlight: 1})

	const queued = 10
	seqs := make(chan int64, queued+1)
	var wg sync.WaitGroup
	send := func(room, sender, rcv int64) {
		defer wg.Done()
		m, _, err := store.Send(ctx, room, sender, rcv, "hi")
		if err != nil {
			t.Errorf("Send(room %d, sender %d): %v", room, sender, err)
			return
		}
		if m.ChatRoomID == room && m.SendID == sender {
			seqs <- m.Seq
		}
	}
	wg.Add(1)
	go send(room, 1, 0)
	<-h.entered
	for i := range queued {
		wg.Add(1)
		if i%2 == 0 {
			go send(room, int64(1+i%3), 0)
		} else {
			go send(other, 4, 5)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); store.Queued() < queued; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sends queued after 5s, want %d", store.Queued(), queued)
		}
	}
	close(h.release)
	wg.Wait()
	close(seqs)

	var got []int64
	for s := range seqs {
		got = append(got, s)
	}
	slices.Sort(got)
	want := []int64{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6}
	if !slices.Equal(got, want) {
		t.Errorf("seqs %v, want %v (rooms of 6 and 5 messages)", got, want)
	}
	if !slices.Equal(h.pipelines, []int{queued}) {
		t.Errorf("pipelines of %v sends, want one of %d", h.pipelines, queued)
	}
	if n := f.rdb.ZCard(ctx, f.keys.RoomHistory(room)).Val(); n != 6 {
		t.Errorf("room history holds %d messages, want 6", n)
	}
}

// TestQueuedSendWhoseContextEndedIsNotSent: a send given up while it
// waited for the round trip in flight is not run (its caller got an
// error and may send again); the others of its batch are.
func TestQueuedSendWhoseContextEndedIsNotSent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	room := f.group(t, 1, 2)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { rdb.Close() })
	h := &holdFirst{entered: make(chan struct{}), release: make(chan struct{}), flush: func() {}}
	rdb.AddHook(h)
	store := messages.NewStore(rdb, f.keys, messages.Config{SendsInFlight: 1})

	errs := make(chan error, 3)
	send := func(ctx context.Context, text string) {
		_, _, err := store.Send(ctx, room, 1, 0, text)
		errs <- err
	}
	go send(ctx, "first")
	<-h.entered
	gone, cancel := context.WithCancel(ctx)
	go send(gone, "given up")
	go send(ctx, "kept")
	for deadline := time.Now().Add(5 * time.Second); store.Queued() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sends queued after 5s, want 2", store.Queued())
		}
	}
	cancel()
	close(h.release)
	var failed int
	for range 3 {
		if err := <-errs; errors.Is(err, context.Canceled) {
			failed++
		} else if err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	if failed != 1 {
		t.Errorf("%d sends failed with context.Canceled, want 1", failed)
	}
	var texts []string
	for _, raw := range f.rdb.ZRange(ctx, f.keys.RoomHistory(room), 0, -1).Val() {
		var m wire.Message
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, m.Message)
	}
	if !slices.Equal(texts, []string{"first", "kept"}) {
		t.Errorf("history %q, want [first kept]", texts)
	}
}

// TestSendsInFlightBoundsTheRoundTrips: with SendsInFlight 2, a send goes
// out at once while one round trip is in flight (it is not held behind
// it); only past the bound do sends queue.
func TestSendsInFlightBoundsTheRoundTrips(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	room := f.group(t, 1, 2)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { rdb.Close() })
	h := &holdFirst{entered: make(chan struct{}), release: make(chan struct{}), flush: func() {}}
	rdb.AddHook(h)
	store := messages.NewStore(rdb, f.keys, messages.Config{SendsInFlight: 2})

	first := make(chan error, 1)
	go func() { _, _, err := store.Send(ctx, room, 1, 0, "held"); first <- err }()
	<-h.entered
	m, _, err := store.Send(ctx, room, 2, 0, "beside it")
	if err != nil || m.Seq != 1 || store.Queued() != 0 {
		t.Errorf("second send = seq %d, %v, %d queued; want seq 1 at once, none queued", m.Seq, err, store.Queued())
	}
	close(h.release)
	if err := <-first; err != nil {
		t.Errorf("held send: %v", err)
	}
}
