package room_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// Two users open their direct room at the same moment: one claims the pair
// and is about to write the meta when the other finds the claim, repairs
// the meta and sends a message. The claimant's late write must not reset
// the room's sequence, or the next message repeats seq 1.
func TestCreateDirectRaceKeepsSequence(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	ran := false
	hooked := srv.Client(t)
	hooked.AddHook(redistest.PauseAfter(func(c redis.Cmder) bool {
		return (c.Name() == "setnx" || c.Name() == "set") && len(c.Args()) > 1 && c.Args()[1] == f.keys.Direct(1, 2)
	}, func() {
		ran = true
		r, created, err := f.rooms.CreateDirect(ctx, 2, 1)
		if err != nil || created {
			t.Errorf("second CreateDirect = created %v, %v", created, err)
			return
		}
		if m, _, err := f.msgs.Send(ctx, r.ID, 2, 0, "first"); err != nil || m.Seq != 1 {
			t.Errorf("first message = seq %d, %v", m.Seq, err)
		}
	}))
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

// addAll runs AddMember(roomIDs[i], actors[i], users[i]) for every i at
// once and counts the outcomes: added, refused with want, and other errors
// (reported).
func addAll(t *testing.T, f *fixture, actors, roomIDs, users []int64, want error) (added, refused int) {
	t.Helper()
	errs := make([]error, len(users))
	oks := make([]bool, len(users))
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			oks[i], errs[i] = f.rooms.AddMember(context.Background(), roomIDs[i], actors[i], users[i])
		}()
	}
	start.Done()
	wg.Wait()
	for i, err := range errs {
		switch {
		case err == nil && oks[i]:
			added++
		case errors.Is(err, want):
			refused++
		default:
			t.Errorf("AddMember(room %d, user %d) = %v, %v", roomIDs[i], users[i], oks[i], err)
		}
	}
	return added, refused
}

// 40 users are added at once to a group of 990 (cap 1000): exactly 10 get
// in, the others get ErrConflict and keep no trace of the room, on a single
// Redis and on a cluster.
func TestAddMemberRaceKeepsMemberCap(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		f := fixtureOn(t, rdb, room.Config{})
		var initial []int64
		for u := int64(2); u <= 990; u++ {
			initial = append(initial, u)
		}
		g := f.group(t, 1, initial...)
		var actors, rooms, users []int64
		for i := range int64(40) {
			actors, rooms, users = append(actors, 1), append(rooms, g.ID), append(users, 2001+i)
		}
		added, refused := addAll(t, f, actors, rooms, users, room.ErrConflict)
		if n := len(f.members(t, g.ID)); added != 10 || refused != 30 || n != 1000 {
			t.Errorf("%d added, %d refused, %d members; want 10, 30, 1000", added, refused, n)
		}
		in := 0
		for _, u := range users {
			if slices.Contains(f.userRooms(t, u), g.ID) {
				in++
			}
		}
		if in != added {
			t.Errorf("%d of the users list the room, %d were added", in, added)
		}
	})
}

// One user is added at once to 10 groups while in 3 rooms (cap 5): exactly
// 2 adds pass, the others get ErrTooManyRooms and leave no member behind.
func TestAddMemberRaceKeepsRoomsPerUserCap(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		f := fixtureOn(t, rdb, room.Config{MaxRoomsPerUser: 5})
		for range 3 {
			f.group(t, 9)
		}
		var actors, rooms, users []int64
		for i := range int64(10) {
			actors, rooms, users = append(actors, 100+i), append(rooms, f.group(t, 100+i).ID), append(users, 9)
		}
		added, refused := addAll(t, f, actors, rooms, users, room.ErrTooManyRooms)
		if n := len(f.userRooms(t, 9)); added != 2 || refused != 8 || n != 5 {
			t.Errorf("%d added, %d refused, user 9 in %d rooms; want 2, 8, 5", added, refused, n)
		}
		in := 0
		for _, id := range rooms {
			if slices.Contains(f.members(t, id), 9) {
				in++
			}
		}
		if in != added {
			t.Errorf("%d of the groups list user 9, %d adds passed", in, added)
		}
	})
}
