package readstate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var _ registry.Rider = (*readstate.Entry)(nil)

// The room's read move at CONNECT rides in the session's registration:
// an admitted session's registration moves the position and announces READ
// (after ENTER) in its own round trips (one on a single Redis, three on a
// cluster, as without the move), and Finish tells the Observer; a session
// refused at the cap, or for a receiver not in the room, moves nothing and
// announces nothing. On a cluster the
// user's and the room's keys are on different masters.
func TestEntryRidesRegistration(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb)
		id := f.group(t, 2, 1, 3)
		if c != nil {
			c.Spread(t, f.keys.UserSessions(3), f.keys.RoomRead(id))
		}
		counter := &redistest.RoundTrips{}
		rdb.AddHook(counter)
		reg := registry.New(rdb, f.keys)
		l := redistest.Listen(t, rdb, f.keys.RoomEvents(id))
		enter := func(sid string, roomID int64) (*readstate.Entry, error) {
			t.Helper()
			e := f.reads.Entering(roomID, 3)
			_, err := reg.RegisterCapped(ctx, registry.Session{ID: sid, UserID: 3, RoomID: roomID, Node: "n1"}, registry.Terms{Max: 2}, e)
			return e, err
		}
		finish := func(e *readstate.Entry, want readstate.Result) {
			t.Helper()
			if got, err := e.Finish(ctx); err != nil || got != want {
				t.Errorf("Finish = %+v, %v; want %+v", got, err, want)
			}
		}

		// The first registration loads the scripts.
		e, err := enter("a", id)
		if err != nil {
			t.Fatal(err)
		}
		finish(e, readstate.Result{ChatRoomID: id, UserID: 3, Seq: 2, Moved: true})
		expectRoomEvents(t, l, "ENTER 3 0", "READ 3 2")

		if _, err := reg.RegisterCapped(ctx, registry.Session{ID: "b", UserID: 3, Node: "n1"}, registry.Terms{Max: 2}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.msgs.Send(ctx, id, 1, 0, "m2"); err != nil {
			t.Fatal(err)
		}
		if _, err := enter("c", id); !errors.Is(err, registry.ErrTooManySessions) {
			t.Fatalf("a third session: %v, want ErrTooManySessions", err)
		}
		if pos := rdb.HGet(ctx, f.keys.RoomRead(id), "3").Val(); pos != "2" {
			t.Errorf("position %q after the refused session, want 2", pos)
		}
		l.None(t, 20*time.Millisecond)

		if _, removed, err := reg.Remove(ctx, "b", "closed"); err != nil || !removed {
			t.Fatalf("Remove(b) = %v, %v", removed, err)
		}
		// A CONNECT naming a receiver who is not a member: refused before
		// the claim, so nothing moves (3 has a message to read).
		refused := f.reads.Entering(id, 3)
		s := registry.Session{ID: "r", UserID: 3, RoomID: id, Node: "n1"}
		if _, err := reg.RegisterCapped(ctx, s, registry.Terms{Max: 2, Member: true, Receiver: 99}, refused); !errors.Is(err, registry.ErrReceiverNotMember) {
			t.Fatalf("a receiver not a member: %v, want ErrReceiverNotMember", err)
		}
		if pos := rdb.HGet(ctx, f.keys.RoomRead(id), "3").Val(); pos != "2" {
			t.Errorf("position %q after the refused session, want 2", pos)
		}
		l.None(t, 20*time.Millisecond)
		counter.Reset()
		e, err = enter("d", id)
		if err != nil {
			t.Fatal(err)
		}
		finish(e, readstate.Result{ChatRoomID: id, UserID: 3, Seq: 3, Moved: true})
		want := int64(1)
		if c != nil {
			want = 3 // the claim, then presence.lua with the move, then the check
		}
		if n := counter.N(); n != want {
			t.Errorf("registration and move made %d round trips, want %d", n, want)
		}
		expectRoomEvents(t, l, "READ 3 3") // 3 was in the room already: no ENTER
		note := fmt.Sprintf("room %d user 3 unread 0", id)
		if got := f.obs.get(); !slices.Equal(got, []string{note, note}) {
			t.Errorf("observer calls %q, want two UNREAD 0", got)
		}
	})
}

// expectRoomEvents reads the next events from l as "TYPE user seq" and
// wants them.
func expectRoomEvents(t *testing.T, l *redistest.Listener, want ...string) {
	t.Helper()
	for _, w := range want {
		var ev wire.ReadEvent
		msg := l.Next(t)
		if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil {
			t.Fatalf("event %q: %v", msg.Payload, err)
		}
		if got := fmt.Sprint(ev.Type, " ", ev.UserID, " ", ev.Seq); got != w {
			t.Errorf("event %s, want %s", msg.Payload, w)
		}
	}
}

// On a Redis without the scripts (first use, a restart, a failover) the
// pipeline's EVALSHAs fail with NOSCRIPT, all of them or only some: an
// admitted session still registers and moves once, READ after ENTER, and
// a refused one moves nothing.
func TestEntryWithoutLoadedScripts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.group(t, 1, 1, 3, 4)
	reg := registry.New(f.rdb, f.keys)
	l := redistest.Listen(t, f.rdb, f.keys.RoomEvents(id))
	enter := func(sid string, user int64) (*readstate.Entry, error) {
		t.Helper()
		e := f.reads.Entering(id, user)
		_, err := reg.RegisterCapped(ctx, registry.Session{ID: sid, UserID: user, RoomID: id, Node: "n1"}, registry.Terms{Max: 1}, e)
		return e, err
	}
	flush := func() {
		t.Helper()
		if err := f.rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}

	// read.lua and claim.lua loaded (by a read of 1, who is at the end
	// already, and a session in no room), presence.lua not: the claim
	// passes in the pipeline, presence.lua fails, the move must wait for
	// ENTER.
	flush()
	if r, err := f.reads.MarkRead(ctx, id, 1, readstate.Latest); err != nil || r.Moved {
		t.Fatalf("MarkRead(1) = %+v, %v; want no move", r, err)
	}
	if _, err := reg.RegisterCapped(ctx, registry.Session{ID: "x", UserID: 9, Node: "n1"}, registry.Terms{Max: 1}); err != nil {
		t.Fatal(err)
	}
	e, err := enter("a", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Finish(ctx); err != nil || got != (readstate.Result{ChatRoomID: id, UserID: 3, Seq: 1, Moved: true}) {
		t.Errorf("Finish = %+v, %v; want a move to 1", got, err)
	}
	expectRoomEvents(t, l, "ENTER 3 0", "READ 3 1")

	// Nothing loaded.
	flush()
	if _, _, err := f.msgs.Send(ctx, id, 1, 0, "m"); err != nil {
		t.Fatal(err)
	}
	if _, err := enter("b", 3); !errors.Is(err, registry.ErrTooManySessions) {
		t.Fatalf("a second session of 3: %v, want ErrTooManySessions", err)
	}
	if e, err = enter("c", 4); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Finish(ctx); err != nil || got != (readstate.Result{ChatRoomID: id, UserID: 4, Seq: 2, Moved: true}) {
		t.Errorf("Finish = %+v, %v; want a move to 2", got, err)
	}
	expectRoomEvents(t, l, "ENTER 4 0", "READ 4 2")
	l.None(t, 20*time.Millisecond)
	if pos := f.rdb.HGet(ctx, f.keys.RoomRead(id), "3").Val(); pos != "1" {
		t.Errorf("position of 3 %q, want 1 (the refused session moved nothing)", pos)
	}
}
