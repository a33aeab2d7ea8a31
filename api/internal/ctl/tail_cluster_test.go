package ctl_test

import (
	"context"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestTailFollowsFailover: when the room's shard fails over, Redis ends the
// sharded subscription; tail says so, subscribes on the new master and
// prints what is sent afterwards.
func TestTailFollowsFailover(t *testing.T) {
	ctx := context.Background()
	c, err := redistest.StartCluster(redistest.ClusterOptions{Masters: 1, ReplicasPerMaster: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e := envOn(t, c.Client(t), c.URL())
	r, err := room.NewStore(e.rdb, e.ks, room.Config{}).CreateGroup(ctx, 8, "ops", []int64{3})
	if err != nil {
		t.Fatal(err)
	}
	store := messages.NewStore(e.rdb, e.ks, messages.Config{})
	tl := startTail(t, e.vars, "tail", "-room", itoa(r.ID))
	redistest.Eventually(t, "tail to subscribe", func() bool { return strings.Count(tl.errOut.String(), "listening on") == 1 })

	send := func(text string) {
		t.Helper()
		if _, _, err := store.Send(ctx, r.ID, 3, 0, text); err != nil {
			t.Fatal(err)
		}
		redistest.Eventually(t, "the line of "+text, func() bool { return strings.Contains(tl.out.String(), ": "+text) })
	}
	send("before")
	if err := c.Failover(ctx, c.Replicas[0]); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "tail to subscribe again", func() bool { return strings.Count(tl.errOut.String(), "listening on") == 2 })
	if !strings.Contains(tl.errOut.String(), "moved to another Redis shard") {
		t.Errorf("stderr does not say why it subscribed again:\n%s", tl.errOut.String())
	}
	send("after")
	tl.stop(t)
	if lines := strings.Split(strings.TrimSpace(tl.out.String()), "\n"); len(lines) != 2 {
		t.Errorf("output\n%s\nwant the two messages", tl.out.String())
	}
}
