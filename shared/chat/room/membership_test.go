package room_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
)

// TestMembershipChecksAgree: the Go checks (IsMember, AreMembers,
// registry.Admit, all through room.QueueIsMember) and the atomic ones of
// send.lua and of the registry's claim.lua (a CONNECT into the room) tell
// members from non-members alike: members, a user never in
// the room, a user removed from it, a missing room.
func TestMembershipChecksAgree(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	reg := registry.New(f.rdb, f.keys)
	g := f.group(t, 1, 2, 3)
	if _, err := f.rooms.RemoveMember(ctx, g.ID, 3, 3); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		roomID, user int64
		want         bool
	}{
		{g.ID, 1, true}, {g.ID, 2, true}, {g.ID, 3, false}, {g.ID, 4, false}, {g.ID + 100, 1, false},
	}
	var pairs []room.Member
	var want []bool
	for i, tt := range tests {
		pairs, want = append(pairs, room.Member{RoomID: tt.roomID, UserID: tt.user}), append(want, tt.want)
		if got, err := f.rooms.IsMember(ctx, tt.roomID, tt.user); err != nil || got != tt.want {
			t.Errorf("IsMember(%d, %d) = %v, %v; want %v", tt.roomID, tt.user, got, err, tt.want)
		}
		if a, err := reg.Admit(ctx, tt.user, tt.roomID, tt.user); err != nil || !slices.Equal(a.Members, []bool{tt.want}) {
			t.Errorf("Admit(%d, %d) = %+v, %v; want member %v", tt.user, tt.roomID, a, err, tt.want)
		}
		s := registry.Session{ID: fmt.Sprint("s", i), UserID: tt.user, RoomID: tt.roomID, Node: "n1"}
		if _, err := reg.RegisterCapped(ctx, s, registry.Terms{Member: true, Max: 100}); (err == nil) != tt.want ||
			(err != nil && !errors.Is(err, registry.ErrNotMember)) {
			t.Errorf("RegisterCapped(%d in %d): %v; member %v", tt.user, tt.roomID, err, tt.want)
		}
		_, _, err := f.msgs.Send(ctx, tt.roomID, tt.user, 0, "hi")
		switch {
		case tt.roomID != g.ID:
			if !errors.Is(err, messages.ErrRoomNotFound) {
				t.Errorf("Send to the missing room %d: %v", tt.roomID, err)
			}
		case (err == nil) != tt.want || (err != nil && !errors.Is(err, messages.ErrNotMember)):
			t.Errorf("Send(%d, %d): %v; member %v", tt.roomID, tt.user, err, tt.want)
		}
	}
	if got, err := f.rooms.AreMembers(ctx, pairs); err != nil || !slices.Equal(got, want) {
		t.Errorf("AreMembers = %v, %v; want %v", got, err, want)
	}
}
