package room_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/room"
)

func TestAreMembers(t *testing.T) {
	f := newFixture(t, room.Config{})
	ctx := context.Background()
	g, err := f.rooms.CreateGroup(ctx, 1, "g", []int64{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.rooms.RemoveMember(ctx, g.ID, 1, 3); err != nil {
		t.Fatal(err)
	}
	got, err := f.rooms.AreMembers(ctx, []room.Member{{g.ID, 1}, {g.ID, 3}, {g.ID + 100, 1}, {g.ID, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[true false false true]" {
		t.Fatalf("AreMembers = %v, want [true false false true]", got)
	}
	if got, err := f.rooms.AreMembers(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("AreMembers(nil) = %v, %v", got, err)
	}
}
