package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
)

// holdFirst counts the pipelines that read session counts (HLEN) and holds
// the first one until release is closed.
type holdFirst struct {
	release chan struct{}
	count   atomic.Int32
}

func (h *holdFirst) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *holdFirst) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *holdFirst) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && cmds[0].Name() == "hlen" && h.count.Add(1) == 1 {
			<-h.release
		}
		return next(ctx, cmds)
	}
}

// hookedWorker starts a notifier worker (cfg) on a client with hook, and
// returns a message store that uses it, a room of 8 and 5, and the inbox
// of 5, who is online elsewhere.
func (f *fixture) hookedWorker(t *testing.T, hook redis.Hook, cfg notify.Config) (*messages.Store, int64, *inbox) {
	t.Helper()
	rdb := srv.Client(t)
	rdb.AddHook(hook)
	cfg.Logger = slog.New(slog.DiscardHandler)
	n := notify.New(rdb, f.keys, events.NewPublisher(rdb, f.keys), cfg)
	ctx, stop := context.WithCancel(context.Background())
	wait := n.Start(ctx)
	t.Cleanup(func() { stop(); wait() })
	r, err := f.rooms.CreateGroup(context.Background(), 8, "g", []int64{5})
	if err != nil {
		t.Fatal(err)
	}
	f.session(t, "s5", 5, 0)
	return messages.NewStore(f.rdb, f.keys, messages.Config{Observer: n}), r.ID, f.inbox(t, 5)
}

// TestWorkerBatchesQueuedMessages: while the worker is busy with one
// message, the next ones queue up; it then runs them as one batch (one
// session-count pipeline for all), and every notification still arrives,
// in order.
func TestWorkerBatchesQueuedMessages(t *testing.T) {
	ctx := context.Background()
	f, hook := newFixture(t, notify.Config{}), &holdFirst{release: make(chan struct{})}
	msgs, roomID, in := f.hookedWorker(t, hook, notify.Config{})
	const sends = 100
	for i := range sends {
		if _, _, err := msgs.Send(ctx, roomID, 8, 0, "m"); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	close(hook.release)

	var seqs []int64
	for deadline := time.Now().Add(5 * time.Second); len(seqs) < sends && time.Now().Before(deadline); {
		for _, note := range in.drain(t, 100*time.Millisecond)[f.keys.UserNotifications(5)] {
			if note.Type == wire.NoteMessage {
				seqs = append(seqs, note.Seq)
			}
		}
	}
	if len(seqs) != sends {
		t.Fatalf("user 5 got %d MESSAGE notifications, want %d", len(seqs), sends)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("notification %d is for seq %d: out of order (%v)", i, s, seqs)
		}
	}
	if got := hook.count.Load(); got != 2 {
		t.Errorf("%d session-count pipelines for %d messages, want 2 (the first alone, the rest as one batch)", got, sends)
	}
}

// TestWorkerGathersForBatchWait: messages sent within BatchWait of the
// first share its batch, though the worker was idle when each arrived.
func TestWorkerGathersForBatchWait(t *testing.T) {
	ctx := context.Background()
	f, hook := newFixture(t, notify.Config{}), &holdFirst{release: make(chan struct{})}
	close(hook.release) // count only
	msgs, roomID, in := f.hookedWorker(t, hook, notify.Config{BatchWait: time.Second})
	for i := range 5 {
		if _, _, err := msgs.Send(ctx, roomID, 8, 0, "m"); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := len(in.drain(t, 2*time.Second)[f.keys.UserNotifications(5)]); got != 5 {
		t.Fatalf("user 5 got %d notifications, want 5", got)
	}
	if got := hook.count.Load(); got != 1 {
		t.Errorf("%d session-count pipelines for 5 messages within BatchWait, want 1", got)
	}
}

// failingPublisher refuses every notification (a Redis that refuses
// PUBLISH), to show that the outbox does not depend on them.
type failingPublisher struct{}

func (failingPublisher) Users(context.Context, ...events.UserNote) error {
	return errors.New("publish refused")
}

// TestOutboxIsWrittenWhenPublishingFails: a failed notification publish
// does not cost the batch's offline members their outbox records.
func TestOutboxIsWrittenWhenPublishingFails(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, notify.Config{})
	n := notify.New(f.rdb, f.keys, failingPublisher{}, notify.Config{Logger: slog.New(slog.DiscardHandler)})
	msgs := messages.NewStore(f.rdb, f.keys, messages.Config{Observer: n})
	r, err := f.rooms.CreateGroup(ctx, 8, "g", []int64{5, 6})
	if err != nil {
		t.Fatal(err)
	}
	f.session(t, "s5", 5, 0) // online elsewhere: a MESSAGE note, which fails
	if _, _, err := msgs.Send(ctx, r.ID, 8, 0, "hi"); err != nil {
		t.Fatal(err)
	}
	out := notify.NewOutbox(f.rdb, f.keys)
	recs, err := out.Records(ctx, 6)
	if err != nil || len(recs) != 1 || recs[0].UserID != 6 {
		t.Fatalf("outbox of 6 %+v, %v; want one record", recs, err)
	}
	if claims, err := out.Claim(ctx, 10, time.Minute); err != nil || len(claims) != 1 || claims[0].UserID != 6 {
		t.Fatalf("Claim = %v, %v; want the offline user 6 only", claims, err)
	}
}
