package room_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// MaxRoomsPerUser holds for every way into a room: group creation (the
// creator or any initial member at the cap), direct rooms, adds. A refusal
// names the user and leaves no member set or room set changed. Users 1, 2
// and 3 are on different masters of the cluster.
func TestRoomsPerUserCap(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, room.Config{MaxRoomsPerUser: 2})
		if c != nil {
			c.Spread(t, f.keys.UserRooms(1), f.keys.UserRooms(2), f.keys.UserRooms(3))
		}
		d := f.direct(t, 2, 4)
		g := f.group(t, 2)
		full := []int64{d.ID, g.ID} // user 2's rooms: at the cap
		refused := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, room.ErrTooManyRooms) || !strings.Contains(err.Error(), "user 2 ") {
				t.Errorf("%s: %v; want ErrTooManyRooms naming user 2", what, err)
			}
		}

		_, err := f.rooms.CreateGroup(ctx, 1, "team", []int64{3, 2})
		refused("CreateGroup with member 2", err)
		_, err = f.rooms.CreateGroup(ctx, 2, "team", []int64{3})
		refused("CreateGroup by 2", err)
		_, _, err = f.rooms.CreateDirect(ctx, 1, 2)
		refused("CreateDirect(1, 2)", err)
		g1 := f.group(t, 1)
		added, err := f.rooms.AddMember(ctx, g1.ID, 1, 2)
		refused("AddMember(2)", err)
		if added || slices.Contains(f.members(t, g1.ID), 2) {
			t.Errorf("refused user 2 is a member of room %d", g1.ID)
		}
		if got := f.userRooms(t, 1); !slices.Equal(got, []int64{g1.ID}) {
			t.Errorf("user 1 rooms = %v, want only %d: refused creations must take their claims back", got, g1.ID)
		}
		if got := f.userRooms(t, 3); len(got) != 0 {
			t.Errorf("user 3 rooms = %v, want none", got)
		}
		if got := f.userRooms(t, 2); !slices.Equal(got, full) {
			t.Errorf("user 2 rooms = %v, want %v", got, full)
		}

		// At the cap, a user still reopens a direct room they are in.
		if again, created, err := f.rooms.CreateDirect(ctx, 4, 2); err != nil || created || again.ID != d.ID {
			t.Errorf("CreateDirect(4, 2) again = room %d, created %v, %v", again.ID, created, err)
		}
		// Leaving frees a place.
		if _, err := f.rooms.RemoveMember(ctx, g.ID, 2, 2); err != nil {
			t.Fatal(err)
		}
		if added, err := f.rooms.AddMember(ctx, g1.ID, 1, 2); err != nil || !added {
			t.Errorf("AddMember(2) after leaving a room = %v, %v", added, err)
		}
	})
}

// A direct room whose creation was refused keeps its id for the pair; it
// is written once both users have room for it. It starts on a Redis
// without join.lua (NOSCRIPT: loaded, then sent again).
func TestCreateDirectAfterARefusal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{MaxRoomsPerUser: 1})
	if err := f.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	g := f.group(t, 2)
	if _, _, err := f.rooms.CreateDirect(ctx, 1, 2); !errors.Is(err, room.ErrTooManyRooms) {
		t.Fatalf("CreateDirect(1, 2) at user 2's cap: %v", err)
	}
	if _, err := f.rooms.RemoveMember(ctx, g.ID, 2, 2); err != nil {
		t.Fatal(err)
	}
	r, _, err := f.rooms.CreateDirect(ctx, 2, 1)
	if err != nil || r.Type != room.TypeDirect || !slices.Equal(r.MemberIDs, []int64{1, 2}) {
		t.Fatalf("CreateDirect(2, 1) = %+v, %v", r, err)
	}
	for _, u := range []int64{1, 2} {
		if got := f.userRooms(t, u); !slices.Equal(got, []int64{r.ID}) {
			t.Errorf("user %d rooms = %v, want [%d]", u, got, r.ID)
		}
	}
}
