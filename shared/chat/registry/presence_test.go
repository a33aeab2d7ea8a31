package registry_test

import (
	"context"
	"testing"
)

// TestPresenceHoldsOnlyUsersWithASession: a user's presence field goes
// when their last session in the room does; send.lua relies on it (every
// field of the presence hash is a user in the room).
func TestPresenceHoldsOnlyUsersWithASession(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.register(t, "a1", 1, 5, "n1")
	f.register(t, "a2", 1, 5, "n1")
	f.register(t, "b1", 2, 5, "n1")
	for _, id := range []string{"a1", "a2", "a2"} { // the last one again: no effect
		if _, _, err := f.reg.Remove(ctx, id, "closed"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.rdb.HGetAll(ctx, f.keys.RoomPresence(5)).Result()
	if err != nil || len(got) != 1 || got["2"] != "1" {
		t.Fatalf("presence hash %v, %v; want only user 2 with 1 session", got, err)
	}
}
