package room_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// roomRecords reads the archive records of room id from its stream as
// "type room room <id>" lines, failing on records with other fields.
func roomRecords(t testing.TB, f *fixture, sharded bool, id int64) []string {
	t.Helper()
	stream := f.keys.ArchiveStreamFor(id, sharded)
	msgs, err := f.rdb.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatalf("XRANGE %s: %v", stream, err)
	}
	var out []string
	for _, m := range msgs {
		if len(m.Values) != 2 || m.Values["type"] != "room" {
			t.Fatalf("record %s of %s is %v, want type room and room", m.ID, stream, m.Values)
		}
		if m.Values["room"] == fmt.Sprint(id) {
			out = append(out, fmt.Sprintf("type room room %v", m.Values["room"]))
		}
	}
	return out
}

// TestArchiveRoomRecords: with the feed on, creating a room and adding or
// removing a member append one "type room" record to the room's archive
// stream (the room's slot's stream on a cluster, written in the same
// MULTI/EXEC or script as the room's side); refused or empty changes
// append none.
func TestArchiveRoomRecords(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, room.Config{MaxMembers: 3, ArchiveFeed: room.ArchiveFeed{On: true}})
		sharded := c != nil
		if sharded {
			c.Spread(t, f.keys.RoomMeta(1), f.keys.RoomMeta(3), f.keys.RoomMeta(4))
		}
		count := map[int64]int{}
		check := func(step string) {
			t.Helper()
			for id, n := range count {
				if got := roomRecords(t, f, sharded, id); len(got) != n {
					t.Errorf("%s: room %d has %d records %v, want %d", step, id, len(got), got, n)
				}
			}
		}
		g1 := f.group(t, 1, 2)  // room 1
		d2 := f.direct(t, 1, 3) // room 2
		g3 := f.group(t, 2)     // room 3
		g4 := f.group(t, 3, 1)  // room 4
		if ids := []int64{g1.ID, d2.ID, g3.ID, g4.ID}; !slices.Equal(ids, []int64{1, 2, 3, 4}) {
			t.Fatalf("room ids %v, want 1..4", ids)
		}
		count[1], count[2], count[3], count[4] = 1, 1, 1, 1
		check("creation")

		if _, created, err := f.rooms.CreateDirect(ctx, 3, 1); err != nil || created {
			t.Fatalf("CreateDirect again: created %v, %v", created, err)
		}
		check("CreateDirect of an existing pair") // nothing changed: no record
		rdb.SRem(ctx, f.keys.RoomMembers(2), 3)
		if _, _, err := f.rooms.CreateDirect(ctx, 1, 3); err != nil {
			t.Fatal(err)
		}
		count[2]++
		check("CreateDirect re-adding a member")

		if added, err := f.rooms.AddMember(ctx, 3, 2, 1); err != nil || !added {
			t.Fatalf("AddMember(room 3, user 1) = %v, %v", added, err)
		}
		count[3]++
		if added, err := f.rooms.AddMember(ctx, 3, 2, 1); err != nil || added {
			t.Fatalf("AddMember(room 3, user 1) again = %v, %v", added, err)
		}
		if added, err := f.rooms.AddMember(ctx, 3, 2, 4); err != nil || !added {
			t.Fatalf("AddMember(room 3, user 4) = %v, %v", added, err)
		}
		count[3]++
		if _, err := f.rooms.AddMember(ctx, 3, 2, 5); !errors.Is(err, room.ErrConflict) {
			t.Fatalf("AddMember to a full room: %v, want ErrConflict", err)
		}
		check("AddMember")

		if removed, err := f.rooms.RemoveMember(ctx, 4, 3, 1); err != nil || !removed {
			t.Fatalf("RemoveMember(room 4, user 1) = %v, %v", removed, err)
		}
		count[4]++
		if removed, err := f.rooms.RemoveMember(ctx, 1, 2, 2); err != nil || !removed {
			t.Fatalf("RemoveMember(room 1, user 2 leaves) = %v, %v", removed, err)
		}
		count[1]++
		check("RemoveMember")
		if got := f.userRooms(t, 1); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Errorf("rooms of user 1 = %v, want [1 2 3]", got)
		}

		streams := redistest.Keys(t, rdb, f.keys.Prefix()+":archive*")
		want := []string{f.keys.ArchiveStream()}
		if sharded {
			want = nil
			for _, id := range []int64{1, 2, 3, 4} {
				if s := f.keys.ArchiveStreamFor(id, true); !slices.Contains(want, s) {
					want = append(want, s)
				}
			}
			slices.Sort(want)
		}
		if !slices.Equal(streams, want) {
			t.Errorf("archive streams %v, want %v", streams, want)
		}
	})
}

// TestArchiveRoomRecordsOff: without the feed, room writes touch no
// archive stream.
func TestArchiveRoomRecordsOff(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, room.Config{})
		g := f.group(t, 1, 2)
		f.direct(t, 1, 2)
		f.direct(t, 2, 1)
		if _, err := f.rooms.AddMember(ctx, g.ID, 1, 3); err != nil {
			t.Fatal(err)
		}
		if _, err := f.rooms.RemoveMember(ctx, g.ID, 1, 2); err != nil {
			t.Fatal(err)
		}
		if ks := redistest.Keys(t, rdb, f.keys.Prefix()+":archive*"); len(ks) != 0 {
			t.Errorf("feed off wrote %v", ks)
		}
	})
}
