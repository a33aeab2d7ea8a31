package room_test

import (
	"context"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/room"
)

// pauseAfter is a go-redis hook that runs then, once, right after the first
// command that match accepts has completed, so a test can put another
// client's work at an exact point inside a store call, without sleeping.
type pauseAfter struct {
	match func(redis.Cmder) bool
	then  func()
	once  sync.Once
}

func (h *pauseAfter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *pauseAfter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if h.match(cmd) {
			h.once.Do(h.then)
		}
		return err
	}
}

func (h *pauseAfter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// Two users open their direct room at the same moment: one claims the pair
// and is about to write the meta when the other finds the claim, repairs
// the meta and sends a message. The claimant's late write must not reset
// the room's sequence, or the next message repeats seq 1.
func TestCreateDirectRaceKeepsSequence(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	ran := false
	hooked := srv.Client(t)
	hooked.AddHook(&pauseAfter{
		match: func(c redis.Cmder) bool {
			return (c.Name() == "setnx" || c.Name() == "set") && len(c.Args()) > 1 && c.Args()[1] == f.keys.Direct(1, 2)
		},
		then: func() {
			ran = true
			r, created, err := f.rooms.CreateDirect(ctx, 2, 1)
			if err != nil || created {
				t.Errorf("second CreateDirect = created %v, %v", created, err)
				return
			}
			if m, _, err := f.msgs.Send(ctx, r.ID, 2, 0, "first"); err != nil || m.Seq != 1 {
				t.Errorf("first message = seq %d, %v", m.Seq, err)
			}
		},
	})
	first, created, err := room.NewStore(hooked, f.keys, room.Config{}).CreateDirect(ctx, 1, 2)
	if err != nil || !created {
		t.Fatalf("first CreateDirect = created %v, %v", created, err)
	}
	if !ran {
		t.Fatal("CreateDirect never reached the interleaving point")
	}
	m, _, err := f.msgs.Send(ctx, first.ID, 1, 0, "second")
	if err != nil {
		t.Fatal(err)
	}
	if m.Seq != 2 {
		t.Errorf("second message got seq %d, want 2; history: %q", m.Seq,
			f.rdb.ZRange(ctx, f.keys.RoomHistory(first.ID), 0, -1).Val())
	}
}
