package registry_test

import (
	"context"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/registry"
)

// A presence change whose reply was lost is run again by go-redis; it must
// not count the session twice (which would hide the user's LEAVE forever).
func TestRetriedRegistrationCountsOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	flaky, tripped := srv.LosingReply(t, f.keys.RoomPresence(3))
	s := registry.Session{ID: "s1", UserID: 7, RoomID: 3, Node: "n1"}
	if _, err := registry.New(flaky, f.keys).Register(ctx, s); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if !tripped() {
		t.Fatal("no reply was lost: the test did not exercise a retry")
	}
	if p, _ := f.reg.RoomPresence(ctx, 3); p[7] != 1 {
		t.Fatalf("presence = %v after a retried registration, want user 7 once", p)
	}
	if _, removed, err := f.reg.Remove(ctx, "s1", "disconnect"); err != nil || !removed {
		t.Fatalf("Remove = %v, %v", removed, err)
	}
	if p, _ := f.reg.RoomPresence(ctx, 3); len(p) != 0 {
		t.Fatalf("presence = %v after the only session left", p)
	}
}

// The owner's End cleans the views even when a take whose reply was lost
// removed the hash already (its retry then finds nothing).
func TestEndCleansViewsAfterALostTake(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := registry.Session{ID: "s1", UserID: 7, RoomID: 3, Node: "n1"}
	if _, err := f.reg.Register(ctx, s); err != nil {
		t.Fatal(err)
	}
	flaky, tripped := srv.LosingReply(t, f.keys.Session("s1"))
	if _, err := registry.New(flaky, f.keys).End(ctx, s, "closed"); err != nil {
		t.Fatalf("End: %v", err)
	}
	if !tripped() {
		t.Fatal("no reply was lost: the test did not exercise a retry")
	}
	if got := f.keysUnder(t); len(got) != 0 {
		t.Errorf("session s1 ended but these keys still describe it: %v", got)
	}
}
