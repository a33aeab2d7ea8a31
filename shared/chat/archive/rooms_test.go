package archive_test

import (
	"context"
	"slices"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/archive"
)

func putRooms(t *testing.T, s *archive.Store, rows ...archive.RoomRow) {
	t.Helper()
	if err := s.PutRooms(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
}

func allRooms(t *testing.T, s *archive.Store) []archive.RoomRow {
	t.Helper()
	rooms, err := s.Rooms(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return rooms
}

func sameRooms(a, b []archive.RoomRow) bool {
	return slices.EqualFunc(a, b, func(x, y archive.RoomRow) bool {
		return x.ID == y.ID && x.Type == y.Type && x.Name == y.Name && x.CreatedBy == y.CreatedBy &&
			x.CreatedAt == y.CreatedAt && slices.Equal(x.Members, y.Members)
	})
}

// TestPutRoomsReplacesMembers: each put leaves exactly the given meta and
// members, in any order of calls; other rooms are untouched.
func TestPutRoomsReplacesMembers(t *testing.T) {
	s := newStore(t)
	other := archive.RoomRow{ID: 2, Type: "direct", CreatedBy: 1, CreatedAt: "1700000000001", Members: []int64{1, 9}}
	g := archive.RoomRow{ID: 1, Type: "group", Name: "g", CreatedBy: 1, CreatedAt: "1700000000000", Members: []int64{3, 1, 2}}
	putRooms(t, s, g, other)
	sorted := g
	sorted.Members = []int64{1, 2, 3}
	if got := allRooms(t, s); !sameRooms(got, []archive.RoomRow{sorted, other}) {
		t.Fatalf("rooms %+v", got)
	}
	steps := []struct {
		name    string
		put     []archive.RoomRow
		members []int64
		title   string
	}{
		{"again", []archive.RoomRow{g}, []int64{1, 2, 3}, "g"},
		{"members and name change", []archive.RoomRow{{ID: 1, Type: "group", Name: "h", CreatedBy: 1, CreatedAt: "1700000000000", Members: []int64{3, 4}}}, []int64{3, 4}, "h"},
		{"duplicate member", []archive.RoomRow{{ID: 1, Type: "group", Name: "h", CreatedBy: 1, CreatedAt: "1700000000000", Members: []int64{5, 5, 4}}}, []int64{4, 5}, "h"},
		{"two rows of one room: the last wins", []archive.RoomRow{
			{ID: 1, Type: "group", Name: "x", CreatedBy: 1, CreatedAt: "1700000000000", Members: []int64{7}},
			{ID: 1, Type: "group", Name: "y", CreatedBy: 1, CreatedAt: "1700000000000", Members: []int64{8}},
		}, []int64{8}, "y"},
		{"no members", []archive.RoomRow{{ID: 1, Type: "group", Name: "y", CreatedBy: 1, CreatedAt: "1700000000000"}}, []int64{}, "y"},
	}
	for _, st := range steps {
		putRooms(t, s, st.put...)
		want := archive.RoomRow{ID: 1, Type: "group", Name: st.title, CreatedBy: 1, CreatedAt: "1700000000000", Members: st.members}
		if got := allRooms(t, s); !sameRooms(got, []archive.RoomRow{want, other}) {
			t.Fatalf("%s: rooms %+v, want %+v and the other room", st.name, got, want)
		}
	}
	if err := s.PutRooms(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestRoomsPaging(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var all []archive.RoomRow
	for _, id := range []int64{50, 10, 40, 20, 30} {
		all = append(all, archive.RoomRow{ID: id, Type: "group", Name: "r", CreatedBy: id, CreatedAt: "1", Members: []int64{id, id + 1}})
	}
	putRooms(t, s, all...)
	slices.SortFunc(all, func(a, b archive.RoomRow) int { return int(a.ID - b.ID) })
	for _, tt := range []struct {
		after int64
		limit int
		want  []archive.RoomRow
	}{
		{0, 2, all[0:2]},
		{20, 2, all[2:4]},
		{40, 2, all[4:]},
		{50, 2, []archive.RoomRow{}},
		{15, 10, all[1:]},
		{0, 0, []archive.RoomRow{}},
		{-1, 5, all},
	} {
		got, err := s.Rooms(ctx, tt.after, tt.limit)
		if err != nil || !sameRooms(got, tt.want) {
			t.Errorf("Rooms(%d, %d) = %+v, %v; want %+v", tt.after, tt.limit, got, err, tt.want)
		}
	}
}
