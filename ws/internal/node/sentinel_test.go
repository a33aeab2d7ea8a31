package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/node"
)

// TestSentinelFailoverKeepsNodeState: under Redis Sentinel, the registry,
// presence and read state keep working across a coordinated failover (the
// promoted replica has everything) and across a crash of the master whose
// replica lacked the latest registrations (asynchronous replication,
// modelled by removing one on the replica before the crash): the node's
// reconcile writes its live sessions again on the new master, and read
// positions move on from what the new master holds. (Rate limits are per
// process, in memory: a failover does not touch them.)
func TestSentinelFailoverKeepsNodeState(t *testing.T) {
	s, err := redistest.StartSentinel(redistest.SentinelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close) // after the node's stop, which start registers later
	ctx := context.Background()
	rdb := s.Client(t)
	ks := redistest.Space(t)
	reg := registry.New(rdb, ks)
	r, _, err := room.NewStore(rdb, ks, room.Config{}).CreateDirect(ctx, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	msgs := messages.NewStore(rdb, ks, messages.Config{})
	reads := readstate.NewStore(rdb, ks, readstate.Config{})
	l1 := registry.Session{ID: "l1", UserID: 1, RoomID: r.ID, Node: "n"}
	l2 := registry.Session{ID: "l2", UserID: 2, RoomID: r.ID, Node: "n"}
	socks := &sockets{local: []registry.Session{l1, l2}}
	hub := fanout.New(rdb, fanout.Config{MasterCheck: 100 * time.Millisecond, CheckChannel: ks.MasterCheck("n")})
	n := node.New(node.Config{ID: "n", BeatEvery: 250 * time.Millisecond}, ks, reg, socks, hub)
	start(t, hub, n)

	bothPresent := func(what string) {
		t.Helper()
		redistest.Eventually(t, what, func() bool {
			ids, err := reg.NodeSessionIDs(ctx, "n")
			pres, perr := reg.RoomPresence(ctx, r.ID)
			return err == nil && perr == nil && len(ids) == 2 && len(pres) == 2 && pres[1] == 1 && pres[2] == 1
		})
	}
	sendAndRead := func(what string, wantSeq int64) {
		t.Helper()
		m, _, err := msgs.Send(ctx, r.ID, 2, 0, what)
		if err != nil {
			t.Fatalf("%s: send: %v", what, err)
		}
		if m.Seq != wantSeq {
			t.Fatalf("%s: seq %d, want %d", what, m.Seq, wantSeq)
		}
		res, err := reads.MarkRead(ctx, r.ID, 1, m.Seq)
		if err != nil || res.Seq != m.Seq || res.UnreadCount != 0 {
			t.Fatalf("%s: mark read = %+v, %v", what, res, err)
		}
		pos, err := reads.Positions(ctx, r.ID)
		if err != nil || pos[1] != m.Seq {
			t.Fatalf("%s: positions = %v, %v; want user 1 at %d", what, pos, err, m.Seq)
		}
	}
	bothPresent("sessions registered")
	sendAndRead("before", 1)

	if err := s.Failover(ctx); err != nil {
		t.Fatal(err)
	}
	bothPresent("sessions after the coordinated failover")
	sendAndRead("after the failover", 2)

	// The replica misses l2's registration: what asynchronous replication
	// can lose when the master crashes.
	rc := s.Replica.Client(t)
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rc.ConfigSet(ctx, "replica-read-only", "no").Err(); err != nil {
		t.Fatal(err)
	}
	if _, removed, err := registry.New(rc, ks).Remove(ctx, "l2", "lost"); err != nil || !removed {
		t.Fatalf("remove l2 on the replica: %v, %v", removed, err)
	}
	took, err := s.Crash(ctx)
	if err != nil {
		t.Fatal(err)
	}
	crashed := time.Now().Add(-took)
	bothPresent("sessions reconciled after the crash")
	t.Logf("replica promoted %v after the crash; registry repaired %v after it",
		took.Round(time.Millisecond), time.Since(crashed).Round(time.Millisecond))
	sendAndRead("after the crash", 3)
}
