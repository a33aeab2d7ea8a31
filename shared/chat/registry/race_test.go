package registry_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// A user reloads the page: session "old" ends while session "new" of the
// same user enters the same room (typically on another node). Whatever the
// interleaving, the last presence event about the user must agree with the
// presence counter: the user is still there.
func TestLeaveDoesNotFollowAnEnterThatRacedIn(t *testing.T) {
	// scriptOn matches a Lua script call (EVALSHA, or EVAL after NOSCRIPT)
	// whose first key is key.
	scriptOn := func(key func(f *fixture) string) func(*fixture, redis.Cmder) bool {
		return func(f *fixture, c redis.Cmder) bool {
			a := c.Args()
			return (c.Name() == "evalsha" || c.Name() == "eval") && len(a) > 3 && a[3] == key(f)
		}
	}
	tests := []struct {
		name  string
		point func(*fixture, redis.Cmder) bool
	}{
		{"new session registers right after the old one was taken",
			scriptOn(func(f *fixture) string { return f.keys.Session("old") })},
		{"new session registers after the old one's node and user views were cleaned", func(f *fixture, c redis.Cmder) bool {
			a := c.Args()
			return c.Name() == "hdel" && len(a) == 3 && fmt.Sprint(a[1]) == f.keys.UserSessions(7)
		}},
		{"new session registers after the old one left the room (presence.lua)",
			scriptOn(func(f *fixture) string { return f.keys.RoomSessions(3) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			ps := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(3))
			f.register(t, "old", 7, 3, "n1")

			ran := false
			hook := redistest.PauseAfter(func(c redis.Cmder) bool { return tt.point(f, c) }, func() {
				ran = true
				if _, err := f.reg.Register(ctx, registry.Session{ID: "new", UserID: 7, RoomID: 3, Node: "n2"}); err != nil {
					t.Errorf("Register(new): %v", err)
				}
			})
			hooked := srv.Client(t)
			hooked.AddHook(hook)
			leaving := registry.New(hooked, f.keys)
			if _, removed, err := leaving.Remove(ctx, "old", "disconnect"); !removed || err != nil {
				t.Fatalf("Remove(old) = %v, %v", removed, err)
			}
			if !ran {
				t.Fatal("Remove never reached the interleaving point")
			}

			evs := f.roomEvents(t, ps, 3)
			presence, _ := f.reg.RoomPresence(ctx, 3)
			if !maps.Equal(presence, map[int64]int{7: 1}) {
				t.Errorf("RoomPresence = %v, want user 7 with one session", presence)
			}
			if len(evs) == 0 || evs[len(evs)-1].Type != wire.EventEnter {
				t.Errorf("events = %+v: the last one says user 7 left, but session \"new\" is in the room", evs)
			}
		})
	}
}

// A session removed while it is being registered must end up either fully
// registered or fully gone: never views (presence, node set, user and room
// hashes) naming a session whose hash is missing, which no later Remove can
// clean because it finds nothing to take.
func TestRemoveRacingRegisterLeavesNoOrphans(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ran := false
	hooked := srv.Client(t)
	hooked.AddHook(redistest.PauseAfter(func(c redis.Cmder) bool {
		a := c.Args()
		return c.Name() == "hset" && len(a) > 1 && a[1] == f.keys.Session("s1")
	}, func() {
		ran = true
		if _, _, err := f.reg.Remove(ctx, "s1", "disconnect"); err != nil {
			t.Errorf("Remove(s1): %v", err)
		}
	}))
	registering := registry.New(hooked, f.keys)
	if _, err := registering.Register(ctx, registry.Session{ID: "s1", UserID: 7, RoomID: 3, Node: "n1"}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if !ran {
		t.Fatal("Register never reached the interleaving point")
	}
	_, registered, _ := f.reg.Get(ctx, "s1")
	if registered {
		return // the session won; its views are checked elsewhere
	}
	if _, removed, _ := f.reg.Remove(ctx, "s1", "disconnect"); removed {
		t.Fatal("a second Remove removed the session again")
	}
	if got := f.keysUnder(t); len(got) != 0 {
		t.Errorf("session s1 is gone but these keys still describe it: %v (presence %v)",
			got, f.rdb.HGetAll(ctx, f.keys.RoomPresence(3)).Val())
	}
}

// 100 sessions of one user register at once (half of them in a room, of
// which the user is a member, checked as a CONNECT does) with a cap of 20:
// exactly 20 are admitted, every other one is refused with
// ErrTooManySessions and leaves nothing behind, on a single Redis (where
// the membership check rides in the claim) and on a cluster where the
// user's, the room's and the sessions' keys are spread.
func TestRegisterCappedUnderRace(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		const limit, tries = 20, 100
		ctx := context.Background()
		f := fixtureOn(t, rdb)
		k := f.keys
		if c != nil {
			c.Spread(t, k.UserSessions(7), k.RoomSessions(3))
		}
		if err := rdb.SAdd(ctx, k.RoomMembers(3), 7).Err(); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, tries)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				s := registry.Session{ID: fmt.Sprint("s", i), UserID: 7, RoomID: int64(3 * (i % 2)), Node: fmt.Sprint("n", i%3)}
				_, errs[i] = f.reg.RegisterCapped(ctx, s, registry.Terms{Max: limit, Member: true})
			}()
		}
		start.Done()
		wg.Wait()

		admitted := map[string]int64{}
		inRoom := 0
		for i, err := range errs {
			id := fmt.Sprint("s", i)
			switch {
			case err == nil:
				admitted[id] = int64(3 * (i % 2))
				if i%2 == 1 {
					inRoom++
				}
			case errors.Is(err, registry.ErrTooManySessions):
				if _, ok, _ := f.reg.Get(ctx, id); ok {
					t.Errorf("refused session %s is registered", id)
				}
			default:
				t.Errorf("RegisterCapped(%s): %v", id, err)
			}
		}
		if len(admitted) != limit {
			t.Errorf("%d sessions admitted, want %d", len(admitted), limit)
		}
		if got, _ := f.reg.UserSessions(ctx, 7); !maps.Equal(got, admitted) {
			t.Errorf("UserSessions(7) = %v, want the admitted %v", got, admitted)
		}
		nodes := 0
		for n := range 3 {
			ids, _ := f.reg.NodeSessionIDs(ctx, fmt.Sprint("n", n))
			nodes += len(ids)
		}
		p, _ := f.reg.RoomPresence(ctx, 3)
		if nodes != len(admitted) || p[7] != inRoom || rdb.HLen(ctx, k.RoomSessions(3)).Val() != int64(inRoom) {
			t.Errorf("node sets hold %d sessions, presence %v, room sessions %d; want %d, %d, %d",
				nodes, p, rdb.HLen(ctx, k.RoomSessions(3)).Val(), len(admitted), inRoom, inRoom)
		}
	})
}
