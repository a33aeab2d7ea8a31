package room_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/room"
)

// pageAll pages through user's rooms with q, failing on a page that does
// not advance, and returns the ids in order.
func pageAll(t testing.TB, f *fixture, user int64, q room.ListQuery, between func(page int)) []int64 {
	t.Helper()
	var ids []int64
	for n := 0; ; n++ {
		if n > 1000 {
			t.Fatal("paging does not end")
		}
		p, err := f.rooms.ListPage(context.Background(), user, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Rooms {
			ids = append(ids, r.ID)
		}
		if p.Next.IsZero() {
			return ids
		}
		if len(p.Rooms) == 0 {
			t.Fatalf("an empty page with a next cursor %+v", p.Next)
		}
		q.After = p.Next
		if between != nil {
			between(n)
		}
	}
}

func TestListPageWalksTheWholeListInOrder(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	var all []int64
	for i := range 23 {
		if i%4 == 0 {
			all = append(all, f.direct(t, 1, int64(100+i)).ID)
		} else {
			all = append(all, f.group(t, 1, 2, 3).ID)
		}
	}
	// Shuffle the activity: a message into every third room.
	for i := 0; i < len(all); i += 3 {
		nextMilli(t)
		if _, _, err := f.msgs.Send(ctx, all[i], 1, 0, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	full, err := f.rooms.ListForUser(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, r := range full {
		want = append(want, r.ID)
	}
	for _, limit := range []int{1, 5, 7, 23, 50} {
		if got := pageAll(t, f, 1, room.ListQuery{Limit: limit}, nil); !slices.Equal(got, want) {
			t.Errorf("limit %d: paged %v, want %v", limit, got, want)
		}
	}
	p, err := f.rooms.ListPage(ctx, 1, room.ListQuery{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Rooms {
		switch {
		case r.Type == room.TypeGroup && (r.MemberIDs != nil || r.MemberCount != 3):
			t.Errorf("group %d listed with members %v, count %d; want none, 3", r.ID, r.MemberIDs, r.MemberCount)
		case r.Type == room.TypeDirect && (len(r.MemberIDs) != 2 || r.MemberCount != 2):
			t.Errorf("direct room %d listed with members %v, count %d", r.ID, r.MemberIDs, r.MemberCount)
		}
	}
}

// TestListPageWhileRoomsMove: rooms that get messages while a client
// pages are never listed twice.
func TestListPageWhileRoomsMove(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	var all []int64
	for range 12 {
		all = append(all, f.group(t, 1).ID)
	}
	got := pageAll(t, f, 1, room.ListQuery{Limit: 3}, func(page int) {
		nextMilli(t)
		// The oldest room (already listed or not) jumps to the front.
		if _, _, err := f.msgs.Send(ctx, all[page], 1, 0, "bump"); err != nil {
			t.Fatal(err)
		}
	})
	seen := map[int64]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("room %d listed twice: %v", id, got)
		}
		seen[id] = true
	}
}

func TestListPageByteBound(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	for range 10 {
		id := f.group(t, 1).ID
		if _, _, err := f.msgs.Send(ctx, id, 1, 0, strings.Repeat("x", 2000)); err != nil {
			t.Fatal(err)
		}
	}
	bound := 3 * (2200 + room.RoomOverhead)
	p, err := f.rooms.ListPage(ctx, 1, room.ListQuery{Limit: 50, MaxBytes: bound})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rooms) != 3 || p.Next.IsZero() {
		t.Fatalf("a page of %d rooms (next %+v), want 3 and more", len(p.Rooms), p.Next)
	}
	if got := pageAll(t, f, 1, room.ListQuery{Limit: 50, MaxBytes: 1}, nil); len(got) != 10 {
		t.Fatalf("a bound below one room: paged %d rooms, want 10 one by one", len(got))
	}
}

func TestListPageSkipsMissingRooms(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	r := f.group(t, 1)
	f.rdb.SAdd(ctx, f.keys.UserRooms(1), 999, "junk")
	if got := pageAll(t, f, 1, room.ListQuery{Limit: 1}, nil); !slices.Equal(got, []int64{r.ID}) {
		t.Errorf("paged %v, want only room %d", got, r.ID)
	}
}
