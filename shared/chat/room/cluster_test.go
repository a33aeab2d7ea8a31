package room_test

import (
	"context"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestCluster runs the room store's operations on a single Redis and on a
// 3-master cluster, with rooms 1, 3, 4 and users 1, 2, 3 each spread over
// the three masters (hash tags {1}, {3}, {4}, {u1}, {u2}, {u3}), so adding
// and removing members and listing rooms cross nodes. Results must match.
func TestCluster(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, room.Config{})
		if c != nil {
			c.Spread(t, f.keys.RoomMeta(1), f.keys.RoomMeta(3), f.keys.RoomMeta(4))
			c.Spread(t, f.keys.UserRooms(1), f.keys.UserRooms(2), f.keys.UserRooms(3))
		}
		g1 := f.group(t, 1, 2)  // room 1
		d2 := f.direct(t, 1, 3) // room 2
		g3 := f.group(t, 2, 3)  // room 3
		g4 := f.group(t, 3, 1)  // room 4
		if ids := []int64{g1.ID, d2.ID, g3.ID, g4.ID}; !slices.Equal(ids, []int64{1, 2, 3, 4}) {
			t.Fatalf("room ids %v, want 1..4 (the spread above assumes them)", ids)
		}
		again, created, err := f.rooms.CreateDirect(ctx, 3, 1)
		if err != nil || created || again.ID != d2.ID {
			t.Errorf("CreateDirect(3, 1) again = room %d, created %v, %v; want room %d", again.ID, created, err, d2.ID)
		}

		if added, err := f.rooms.AddMember(ctx, g3.ID, 2, 1); err != nil || !added {
			t.Errorf("AddMember(room 3, user 1) = %v, %v", added, err)
		}
		if removed, err := f.rooms.RemoveMember(ctx, g1.ID, 1, 2); err != nil || !removed {
			t.Errorf("RemoveMember(room 1, user 2) = %v, %v", removed, err)
		}
		for _, tc := range []struct {
			user      int64
			wantRooms []int64
		}{{1, []int64{1, 2, 3, 4}}, {2, []int64{3}}, {3, []int64{2, 3, 4}}} {
			if got := f.userRooms(t, tc.user); !slices.Equal(got, tc.wantRooms) {
				t.Errorf("rooms of user %d = %v, want %v", tc.user, got, tc.wantRooms)
			}
		}
		if got := f.members(t, g3.ID); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Errorf("members of room 3 = %v", got)
		}
		if in, err := f.rooms.IsMember(ctx, g1.ID, 2); err != nil || in {
			t.Errorf("IsMember(room 1, user 2) = %v, %v; want false", in, err)
		}

		// Activity orders the list: the room with the latest message first.
		for _, id := range []int64{2, 3, 4, 1} {
			nextMilli(t)
			if _, _, err := f.msgs.Send(ctx, id, 1, 0, "hi"); err != nil {
				t.Fatalf("Send(room %d): %v", id, err)
			}
		}
		list, err := f.rooms.ListForUser(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		var order []int64
		for _, r := range list {
			order = append(order, r.ID)
			if r.LastSeq != 1 || len(r.LastMessage) == 0 || r.LastMessageAt == "" {
				t.Errorf("room %d in the list: lastSeq %d, lastMessage %s, lastMessageAt %q", r.ID, r.LastSeq, r.LastMessage, r.LastMessageAt)
			}
		}
		if !slices.Equal(order, []int64{1, 4, 3, 2}) {
			t.Errorf("ListForUser(1) = %v, want [1 4 3 2]", order)
		}
		got, err := f.rooms.ViewFor(ctx, g3.ID, 1)
		if err != nil || got.Type != room.TypeGroup || got.CreatedBy != 2 || !slices.Equal(got.MemberIDs, []int64{1, 2, 3}) {
			t.Errorf("ViewFor(room 3, user 1) = %+v, %v", got, err)
		}
	})
}
