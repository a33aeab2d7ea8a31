package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/node"
)

// auditFixture runs a node whose one live session (user 2) watches a group
// room of users 1, 2 and 3.
type auditFixture struct {
	ks    keys.Space
	rooms *room.Store
	socks *sockets
	hub   *fanout.Hub
	node  *node.Node
	room  int64
}

func startAudit(t *testing.T, cfg node.Config) auditFixture {
	t.Helper()
	rdb := srv.Client(t)
	ks := redistest.Space(t)
	rooms := room.NewStore(rdb, ks, room.Config{})
	g, err := rooms.CreateGroup(context.Background(), 1, "g", []int64{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	socks := &sockets{watched: []room.Member{{RoomID: g.ID, UserID: 2}}}
	hub := fanout.New(rdb, fanout.Config{})
	cfg.ID, cfg.Members = "n", rooms
	n := node.New(cfg, ks, registry.New(rdb, ks), socks, hub)
	start(t, hub, n)
	return auditFixture{ks: ks, rooms: rooms, socks: socks, hub: hub, node: n, room: g.ID}
}

func (f auditFixture) revoked() [][2]int64 {
	_, r := f.socks.snapshot()
	return r
}

// TestRevokeMissedDuringResubscribeIsReconciled: a member is removed (and
// the revoke published) while the node's pub/sub connection is down and
// Redis refuses to subscribe it again. When the control channel is
// confirmed again, the node finds the lost membership and revokes it;
// the periodic audit is off, so only the reconcile can.
func TestRevokeMissedDuringResubscribeIsReconciled(t *testing.T) {
	f := startAudit(t, node.Config{Audit: -1})
	admin := srv.Client(t)
	ctx := context.Background()
	refuse := func(rules ...any) {
		t.Helper()
		if err := admin.Do(ctx, append([]any{"ACL", "SETUSER", "default"}, rules...)...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	restore := func() { refuse("+@all", "allchannels") }
	t.Cleanup(restore)
	refuse("-subscribe")
	if err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "the control channel lost", func() bool { return f.hub.Unconfirmed() > 0 })
	if _, err := f.rooms.RemoveMember(ctx, f.room, 1, 2); err != nil {
		t.Fatal(err)
	}
	ctl := wire.Control{Op: wire.OpRevoke, RoomID: f.room, UserID: 2, Reason: "removed from room"}
	if err := events.NewPublisher(admin, f.ks).Broadcast(ctx, ctl); err != nil {
		t.Fatal(err)
	}
	restore()
	redistest.Eventually(t, "the lost revoke reconciled", func() bool { return len(f.revoked()) > 0 })
	if r := f.revoked(); r[0] != [2]int64{f.room, 2} {
		t.Fatalf("revoked %v, want room %d user 2", r, f.room)
	}
	if n := f.node.Revocations(); n != 1 {
		t.Errorf("Revocations = %d, want 1", n)
	}
}

// TestAuditRevokesRemovalWithoutCommand: a membership removed in Redis
// with no revoke ever published is revoked by the periodic audit.
func TestAuditRevokesRemovalWithoutCommand(t *testing.T) {
	f := startAudit(t, node.Config{Audit: 50 * time.Millisecond})
	ctx := context.Background()
	time.Sleep(120 * time.Millisecond) // audits run and find nothing to revoke
	if r := f.revoked(); len(r) != 0 {
		t.Fatalf("revoked %v while every membership held", r)
	}
	if err := srv.Client(t).SRem(ctx, f.ks.RoomMembers(f.room), 2).Err(); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "the audit to revoke", func() bool { return len(f.revoked()) > 0 })
	if r := f.revoked(); r[0] != [2]int64{f.room, 2} {
		t.Fatalf("revoked %v, want room %d user 2", r, f.room)
	}
}
