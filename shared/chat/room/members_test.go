package room_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/room"
)

func TestAddMember(t *testing.T) {
	tests := []struct {
		name        string
		direct      bool
		actor, user int64
		wantAdded   bool
		wantErr     error
		wantMembers []int64
	}{
		{"member adds a newcomer", false, 2, 4, true, nil, []int64{1, 2, 3, 4}},
		{"creator adds a newcomer", false, 1, 4, true, nil, []int64{1, 2, 3, 4}},
		{"existing member is not news", false, 2, 3, false, nil, []int64{1, 2, 3}},
		{"adding oneself again", false, 1, 1, false, nil, []int64{1, 2, 3}},
		{"non-member actor", false, 9, 4, false, room.ErrNotFound, []int64{1, 2, 3}},
		{"user zero", false, 1, 0, false, room.ErrInvalid, []int64{1, 2, 3}},
		{"user negative", false, 1, -4, false, room.ErrInvalid, []int64{1, 2, 3}},
		{"direct room", true, 1, 4, false, room.ErrConflict, []int64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, room.Config{})
			var r room.Room
			if tt.direct {
				r = f.direct(t, 1, 2)
			} else {
				r = f.group(t, 1, 2, 3)
			}
			added, err := f.rooms.AddMember(context.Background(), r.ID, tt.actor, tt.user)
			if !errors.Is(err, tt.wantErr) || added != tt.wantAdded {
				t.Fatalf("AddMember = %v, %v; want %v, %v", added, err, tt.wantAdded, tt.wantErr)
			}
			if got := f.members(t, r.ID); !slices.Equal(got, tt.wantMembers) {
				t.Errorf("members = %v, want %v", got, tt.wantMembers)
			}
			for _, u := range []int64{1, 2, 3, 4} {
				in := slices.Contains(f.userRooms(t, u), r.ID)
				if want := slices.Contains(tt.wantMembers, u); in != want {
					t.Errorf("user %d rooms contain %d: %v, want %v", u, r.ID, in, want)
				}
			}
		})
	}
}

func TestAddMemberMissingRoom(t *testing.T) {
	f := newFixture(t, room.Config{})
	if _, err := f.rooms.AddMember(context.Background(), 4242, 1, 2); !errors.Is(err, room.ErrNotFound) {
		t.Errorf("AddMember to a missing room: %v, want ErrNotFound", err)
	}
	if n := f.rdb.Exists(context.Background(), f.keys.RoomMembers(4242), f.keys.UserRooms(2)).Val(); n != 0 {
		t.Errorf("AddMember to a missing room wrote %d keys", n)
	}
}

func TestAddMemberAtCapacity(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{MaxMembers: 3})
	r := f.group(t, 1, 2, 3)
	if added, err := f.rooms.AddMember(ctx, r.ID, 1, 4); !errors.Is(err, room.ErrConflict) || added {
		t.Errorf("AddMember beyond MaxMembers = %v, %v; want ErrConflict", added, err)
	}
	// The doc comment: "Adding an existing member is not an error".
	if added, err := f.rooms.AddMember(ctx, r.ID, 1, 2); err != nil || added {
		t.Errorf("AddMember of an existing member of a full room = %v, %v; want false, nil", added, err)
	}
	if got := f.members(t, r.ID); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("members = %v", got)
	}
}

func TestRemoveMember(t *testing.T) {
	tests := []struct {
		name        string
		direct      bool
		actor, user int64
		wantRemoved bool
		wantErr     error
		wantMembers []int64
	}{
		{"member leaves", false, 2, 2, true, nil, []int64{1, 3}},
		{"creator leaves", false, 1, 1, true, nil, []int64{2, 3}},
		{"creator removes a member", false, 1, 3, true, nil, []int64{1, 2}},
		{"creator removes a non-member", false, 1, 9, false, nil, []int64{1, 2, 3}},
		{"member removes another", false, 2, 3, false, room.ErrForbidden, []int64{1, 2, 3}},
		{"member removes the creator", false, 2, 1, false, room.ErrForbidden, []int64{1, 2, 3}},
		{"non-member removes a member", false, 9, 2, false, room.ErrNotFound, []int64{1, 2, 3}},
		{"non-member removes itself", false, 9, 9, false, room.ErrNotFound, []int64{1, 2, 3}},
		{"direct: leave", true, 2, 2, true, nil, []int64{1}},
		{"direct: creator leaves", true, 1, 1, true, nil, []int64{2}},
		{"direct: creator removes the other", true, 1, 2, false, room.ErrForbidden, []int64{1, 2}},
		{"direct: other removes the creator", true, 2, 1, false, room.ErrForbidden, []int64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, room.Config{})
			var r room.Room
			if tt.direct {
				r = f.direct(t, 1, 2)
			} else {
				r = f.group(t, 1, 2, 3)
			}
			removed, err := f.rooms.RemoveMember(context.Background(), r.ID, tt.actor, tt.user)
			if !errors.Is(err, tt.wantErr) || removed != tt.wantRemoved {
				t.Fatalf("RemoveMember = %v, %v; want %v, %v", removed, err, tt.wantRemoved, tt.wantErr)
			}
			if got := f.members(t, r.ID); !slices.Equal(got, tt.wantMembers) {
				t.Errorf("members = %v, want %v", got, tt.wantMembers)
			}
			for _, u := range []int64{1, 2, 3, 9} {
				in := slices.Contains(f.userRooms(t, u), r.ID)
				if want := slices.Contains(tt.wantMembers, u); in != want {
					t.Errorf("user %d rooms contain %d: %v, want %v", u, r.ID, in, want)
				}
			}
		})
	}
}

func TestRemoveMemberMissingRoom(t *testing.T) {
	f := newFixture(t, room.Config{})
	if _, err := f.rooms.RemoveMember(context.Background(), 4242, 1, 1); !errors.Is(err, room.ErrNotFound) {
		t.Errorf("RemoveMember from a missing room: %v, want ErrNotFound", err)
	}
}

func TestRemovedMemberLosesAccess(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	r := f.group(t, 1, 2)
	if _, err := f.rooms.RemoveMember(ctx, r.ID, 1, 2); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.rooms.IsMember(ctx, r.ID, 2); ok || err != nil {
		t.Errorf("IsMember after removal = %v, %v", ok, err)
	}
	if _, err := f.rooms.ViewFor(ctx, r.ID, 2); !errors.Is(err, room.ErrNotFound) {
		t.Errorf("ViewFor after removal: %v, want ErrNotFound", err)
	}
	if _, err := f.rooms.AddMember(ctx, r.ID, 2, 2); !errors.Is(err, room.ErrNotFound) {
		t.Errorf("removed user re-added itself: %v", err)
	}
	if rooms, err := f.rooms.ListForUser(ctx, 2); err != nil || len(rooms) != 0 {
		t.Errorf("ListForUser(2) = %v, %v; want none", rooms, err)
	}
}
