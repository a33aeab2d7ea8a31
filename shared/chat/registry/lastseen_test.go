package registry_test

import (
	"context"
	"testing"
	"time"
)

func TestPresenceAndLastSeen(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	before := time.Now().Add(-time.Millisecond)
	f.register(t, "a1", 1, 5, "n1")
	f.register(t, "a2", 1, 0, "n2")
	f.register(t, "b1", 2, 5, "n1")

	got, err := f.reg.Presence(ctx, []int64{2, 1, 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].UserID != 2 || got[0].Sessions != 1 || got[1].UserID != 1 || got[1].Sessions != 2 ||
		got[2].UserID != 3 || got[2].Sessions != 0 {
		t.Fatalf("Presence = %+v", got)
	}
	for _, p := range got {
		if !p.LastSeen.IsZero() {
			t.Errorf("user %d was never seen leaving, LastSeen = %v", p.UserID, p.LastSeen)
		}
	}

	// One of two sessions ends: still online. The last one ends (here by
	// node loss, as the reaper does it): offline, last seen then.
	if _, _, err := f.reg.Remove(ctx, "a1", "closed"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Forget(ctx, "n2", "node-lost"); err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Millisecond)
	got, err = f.reg.Presence(ctx, []int64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Sessions != 0 || got[0].LastSeen.Before(before) || got[0].LastSeen.After(after) {
		t.Errorf("user 1 after its last session ended: %+v (window %v..%v)", got[0], before, after)
	}
	if got[1].Sessions != 1 {
		t.Errorf("user 2: %+v", got[1])
	}
	if got, _ := f.reg.Presence(ctx, nil); len(got) != 0 {
		t.Errorf("Presence(nil) = %+v", got)
	}
}
