package registry_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// RegisterCapped refuses a user's session beyond the cap and leaves no key
// of it, admits a retry of a session already admitted, and never limits
// Register (the node's reconciliation of sessions already live).
func TestRegisterCapped(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb)
		k := f.keys
		if c != nil {
			c.Spread(t, k.UserSessions(7), k.RoomSessions(3))
		}
		capped := func(id string, roomID int64) error {
			_, err := f.reg.RegisterCapped(ctx, registry.Session{ID: id, UserID: 7, RoomID: roomID, Node: "n1"}, registry.Terms{Max: 2})
			return err
		}
		if err := capped("a", 3); err != nil {
			t.Fatal(err)
		}
		if err := capped("b", 0); err != nil {
			t.Fatal(err)
		}
		before := f.keysUnder(t)
		if err := capped("c", 3); !errors.Is(err, registry.ErrTooManySessions) {
			t.Fatalf("third session: %v, want ErrTooManySessions", err)
		}
		if got := f.keysUnder(t); !slices.Equal(got, before) {
			t.Errorf("the refused session changed the keys: %v, was %v", got, before)
		}
		if ids, _ := f.reg.NodeSessionIDs(ctx, "n1"); len(ids) != 2 {
			t.Errorf("node n1 lists %v", ids)
		}

		if err := capped("a", 3); err != nil {
			t.Errorf("retry of admitted session a at the cap: %v", err)
		}
		if p, _ := f.reg.RoomPresence(ctx, 3); p[7] != 1 {
			t.Errorf("presence %v after the retry, want user 7 once", p)
		}

		// Reconciliation after Redis lost the user's hash while a new
		// CONNECT raced in: the node's live sessions come back regardless.
		f.register(t, "c", 7, 3, "n2")
		if got, _ := f.reg.UserSessions(ctx, 7); !maps.Equal(got, map[string]int64{"a": 3, "b": 0, "c": 3}) {
			t.Errorf("UserSessions(7) = %v", got)
		}

		for _, id := range []string{"a", "c"} {
			if _, removed, err := f.reg.Remove(ctx, id, "closed"); err != nil || !removed {
				t.Fatalf("Remove(%s) = %v, %v", id, removed, err)
			}
		}
		if err := capped("d", 3); err != nil {
			t.Errorf("a session after two ended: %v", err)
		}
		if p, _ := f.reg.RoomPresence(ctx, 3); p[7] != 1 {
			t.Errorf("presence %v, want user 7 once (session d)", p)
		}
	})
}

// On a single Redis RegisterCapped costs Register's one round trip once
// its scripts are loaded; a refusal one more (removing what it wrote).
// The first call, on a Redis without the scripts, registers all the same.
func TestRegisterCappedRoundTrips(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	warm := registry.Session{ID: "warm", UserID: 9, RoomID: 4, Node: "n1"}
	if entered, err := f.reg.RegisterCapped(ctx, warm, registry.Terms{Max: 1}); err != nil || !entered {
		t.Fatalf("first RegisterCapped = %v, %v; want entered", entered, err) // NOSCRIPT, then EVAL
	}
	if got, _ := f.reg.UserSessions(ctx, 9); !maps.Equal(got, map[string]int64{"warm": 4}) {
		t.Errorf("UserSessions(9) = %v after the first RegisterCapped", got)
	}
	counter := &roundTrips{}
	hooked := srv.Client(t)
	hooked.AddHook(counter)
	reg := registry.New(hooked, f.keys)
	entered, err := reg.RegisterCapped(ctx, registry.Session{ID: "s1", UserID: 7, RoomID: 4, Node: "n1"}, registry.Terms{Max: 1})
	if err != nil || !entered {
		t.Fatalf("RegisterCapped = %v, %v; want entered", entered, err)
	}
	if counter.n != 1 {
		t.Errorf("RegisterCapped made %d round trips, want 1", counter.n)
	}
	counter.n = 0
	if _, err := reg.RegisterCapped(ctx, registry.Session{ID: "s2", UserID: 7, RoomID: 4, Node: "n1"}, registry.Terms{Max: 1}); !errors.Is(err, registry.ErrTooManySessions) {
		t.Fatalf("second session: %v, want ErrTooManySessions", err)
	}
	if counter.n != 2 {
		t.Errorf("a refusal made %d round trips, want 2", counter.n)
	}
}
