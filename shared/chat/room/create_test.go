package room_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/room"
)

var wireTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func TestCreateDirectIsIdempotentInEitherOrder(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	first, created, err := f.rooms.CreateDirect(ctx, 1, 2)
	if err != nil || !created {
		t.Fatalf("first CreateDirect = created %v, %v", created, err)
	}
	if first.Type != room.TypeDirect || first.Name != "" || first.CreatedBy != 1 || first.LastSeq != 0 ||
		!slices.Equal(first.MemberIDs, []int64{1, 2}) || !wireTime.MatchString(first.CreatedAt) {
		t.Errorf("room = %+v", first)
	}
	for _, pair := range [][2]int64{{2, 1}, {1, 2}} {
		again, created, err := f.rooms.CreateDirect(ctx, pair[0], pair[1])
		if err != nil || created || again.ID != first.ID {
			t.Errorf("CreateDirect%v = room %d, created %v, %v; want room %d, false", pair, again.ID, created, err, first.ID)
		}
		if again.CreatedAt != first.CreatedAt || again.CreatedBy != 1 {
			t.Errorf("CreateDirect%v rewrote the meta: %+v", pair, again)
		}
	}
	if got, _ := f.rdb.Get(ctx, f.keys.Direct(2, 1)).Int64(); got != first.ID {
		t.Errorf("direct key holds %d, want %d", got, first.ID)
	}
	for _, u := range []int64{1, 2} {
		if got := f.userRooms(t, u); !slices.Equal(got, []int64{first.ID}) {
			t.Errorf("user %d rooms = %v", u, got)
		}
	}
	if other := f.direct(t, 1, 3); other.ID == first.ID {
		t.Error("pairs (1,2) and (1,3) share a room")
	}
}

func TestCreateDirectRejoins(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	r := f.direct(t, 1, 2)
	if _, _, err := f.msgs.Send(ctx, r.ID, 1, 0, "hi"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rooms.RemoveMember(ctx, r.ID, 2, 2); err != nil {
		t.Fatal(err)
	}
	again, created, err := f.rooms.CreateDirect(ctx, 1, 2)
	if err != nil || created || again.ID != r.ID || !slices.Equal(again.MemberIDs, []int64{1, 2}) {
		t.Errorf("CreateDirect after leaving = %+v, created %v, %v", again, created, err)
	}
	if again.LastSeq != 1 || again.LastMessage == nil || again.CreatedAt != r.CreatedAt {
		t.Errorf("CreateDirect rewrote the room: LastSeq %d, LastMessage %s, CreatedAt %q (was %q)",
			again.LastSeq, again.LastMessage, again.CreatedAt, r.CreatedAt)
	}
	if got := f.userRooms(t, 2); !slices.Equal(got, []int64{r.ID}) {
		t.Errorf("user 2 rooms = %v", got)
	}
}

func TestCreateDirectRefuses(t *testing.T) {
	tests := []struct {
		name          string
		caller, other int64
	}{
		{"self", 4, 4},
		{"other zero", 4, 0},
		{"other negative", 4, -2},
		{"caller zero", 0, 4},
		{"caller negative", -1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, room.Config{})
			r, created, err := f.rooms.CreateDirect(ctx, tt.caller, tt.other)
			if !errors.Is(err, room.ErrInvalid) {
				t.Errorf("CreateDirect(%d, %d) = room %d, created %v, %v; want ErrInvalid", tt.caller, tt.other, r.ID, created, err)
			}
			if n := f.rdb.Exists(ctx, f.keys.RoomIDs(), f.keys.Direct(tt.caller, tt.other)).Val(); n != 0 {
				t.Errorf("a refused CreateDirect wrote %d keys", n)
			}
		})
	}
}

func TestCreateDirectConcurrent(t *testing.T) {
	const n = 10
	f := newFixture(t, room.Config{})
	type result struct {
		id      int64
		created bool
		err     error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, b := int64(5), int64(6)
			if i%2 == 1 {
				a, b = b, a
			}
			r, created, err := f.rooms.CreateDirect(context.Background(), a, b)
			results[i] = result{r.ID, created, err}
		})
	}
	wg.Wait()
	createdCount := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("goroutine %d: %v", i, r.err)
		}
		if r.id != results[0].id {
			t.Errorf("goroutine %d got room %d, goroutine 0 got %d", i, r.id, results[0].id)
		}
		if r.created {
			createdCount++
		}
	}
	if createdCount != 1 {
		t.Errorf("%d callers report created, want exactly 1", createdCount)
	}
	for _, u := range []int64{5, 6} {
		if got := f.userRooms(t, u); !slices.Equal(got, []int64{results[0].id}) {
			t.Errorf("user %d rooms = %v, want only %d", u, got, results[0].id)
		}
	}
	r, err := f.rooms.Get(context.Background(), results[0].id)
	if err != nil || r.Type != room.TypeDirect || !slices.Equal(r.MemberIDs, []int64{5, 6}) {
		t.Errorf("Get = %+v, %v", r, err)
	}
}

func TestCreateGroup(t *testing.T) {
	tests := []struct {
		name        string
		caller      int64
		groupName   string
		members     []int64
		wantMembers []int64
		wantErr     error
	}{
		{"caller added", 1, "team", []int64{2, 3}, []int64{1, 2, 3}, nil},
		{"alone", 1, "me", nil, []int64{1}, nil},
		{"duplicates collapsed", 3, "team", []int64{2, 2, 3, 1, 1}, []int64{1, 2, 3}, nil},
		{"at MaxMembers", 1, "team", []int64{2, 3}, []int64{1, 2, 3}, nil},
		{"duplicates do not count toward MaxMembers", 1, "team", []int64{2, 3, 2, 1, 3}, []int64{1, 2, 3}, nil},
		{"name of MaxNameLen characters", 1, strings.Repeat("é", 10), nil, []int64{1}, nil},
		{"empty name", 1, "", []int64{2}, nil, room.ErrInvalid},
		{"name too long", 1, strings.Repeat("é", 11), []int64{2}, nil, room.ErrInvalid},
		{"name not UTF-8", 1, "te\xffam", []int64{2}, nil, room.ErrInvalid},
		{"member zero", 1, "team", []int64{2, 0}, nil, room.ErrInvalid},
		{"member negative", 1, "team", []int64{-3}, nil, room.ErrInvalid},
		{"over MaxMembers", 1, "team", []int64{2, 3, 4}, nil, room.ErrInvalid},
		{"caller zero", 0, "team", []int64{2}, nil, room.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, room.Config{MaxMembers: 3, MaxNameLen: 10})
			r, err := f.rooms.CreateGroup(ctx, tt.caller, tt.groupName, tt.members)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CreateGroup = %+v, %v; want %v", r, err, tt.wantErr)
			}
			if err != nil {
				if f.rdb.Exists(ctx, f.keys.RoomIDs()).Val() != 0 {
					t.Error("a refused CreateGroup allocated a room id")
				}
				return
			}
			if r.ID <= 0 || r.Type != room.TypeGroup || r.Name != tt.groupName || r.CreatedBy != tt.caller ||
				r.LastSeq != 0 || !wireTime.MatchString(r.CreatedAt) || !slices.Equal(r.MemberIDs, tt.wantMembers) {
				t.Errorf("room = %+v, want members %v", r, tt.wantMembers)
			}
			for _, u := range tt.wantMembers {
				if got := f.userRooms(t, u); !slices.Equal(got, []int64{r.ID}) {
					t.Errorf("user %d rooms = %v", u, got)
				}
			}
			if got, err := f.rooms.Get(ctx, r.ID); err != nil || !slices.Equal(got.MemberIDs, r.MemberIDs) || got.Name != r.Name {
				t.Errorf("Get = %+v, %v; want %+v", got, err, r)
			}
		})
	}
}

func TestCreateGroupAllocatesDistinctIDs(t *testing.T) {
	f := newFixture(t, room.Config{})
	seen := map[int64]bool{f.direct(t, 1, 2).ID: true}
	for range 5 {
		id := f.group(t, 1).ID
		if seen[id] {
			t.Fatalf("room id %d allocated twice", id)
		}
		seen[id] = true
	}
}
