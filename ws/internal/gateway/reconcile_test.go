package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/node"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
)

// newAuditedEnv is a node like newEnv's whose duties are cfg's (the
// membership audit included); it returns the hub too.
func newAuditedEnv(t *testing.T, cfg node.Config) (*env, *fanout.Hub) {
	t.Helper()
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := startEnv(t, redistest.Space(t), verifier, wsnode.Config{Logger: log,
		Gateway: gateway.Config{WriteTimeout: 2 * time.Second, ConnectRate: -1}, Duties: cfg})
	return e, e.hub
}

// TestRevokeLostDuringPubSubOutageStillEndsSession: a member is removed
// while the node's pub/sub connection is down (Redis refuses to subscribe
// it again for a while), so the revoke command never reaches the node.
// Once the control channel is confirmed again the node reconciles and
// ends the removed user's session; the periodic audit is off.
func TestRevokeLostDuringPubSubOutageStillEndsSession(t *testing.T) {
	e, hub := newAuditedEnv(t, node.Config{Audit: -1})
	ctx := context.Background()
	g, err := e.rooms.CreateGroup(ctx, 1, "g", []int64{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	watcher, _ := e.connect(2)
	watcher.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", g.ID), "receipt", "r")
	watcher.expect("RECEIPT")
	stays, _ := e.connect(3)
	stays.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", g.ID), "receipt", "r")
	stays.expect("RECEIPT")

	allow := refuseSubscribes(t, hub)
	// What DELETE /chat-rooms/{id}/members/{userId} does.
	if _, err := e.rooms.RemoveMember(ctx, g.ID, 1, 2); err != nil {
		t.Fatal(err)
	}
	revoke := wire.Control{Op: wire.OpRevoke, RoomID: g.ID, UserID: 2, Reason: "removed from room"}
	if err := events.NewPublisher(srv.Client(t), e.keys).Broadcast(ctx, revoke); err != nil {
		t.Fatal(err)
	}
	allow()

	if f := watcher.expect("ERROR"); !strings.Contains(f.Value("message"), "membership revoked") {
		t.Errorf("message = %q", f.Value("message"))
	}
	watcher.expectClosed()
	// The member who stays keeps the room, and gets what is sent now.
	stays.send("SEND", sendBody(g.ID, 3, "still here"), "destination", gateway.SendDestination)
	if m := msgOf(t, stays.expect("MESSAGE")); m["message"] != "still here" {
		t.Errorf("remaining member got %v", m)
	}
}

// TestAuditEndsSessionOfMemberRemovedWithoutRevoke: a membership removed
// in Redis with no revoke command at all ends the session at the next
// periodic audit.
func TestAuditEndsSessionOfMemberRemovedWithoutRevoke(t *testing.T) {
	e, _ := newAuditedEnv(t, node.Config{Audit: 100 * time.Millisecond})
	ctx := context.Background()
	g, err := e.rooms.CreateGroup(ctx, 1, "g", []int64{2})
	if err != nil {
		t.Fatal(err)
	}
	// Watches the room as its CONNECT room only.
	watcher, _ := e.connect(2, "chatRoomId", fmt.Sprint(g.ID))
	if err := e.rdb.SRem(ctx, e.keys.RoomMembers(g.ID), 2).Err(); err != nil {
		t.Fatal(err)
	}
	watcher.expect("ERROR")
	watcher.expectClosed()
}

// refuseSubscribes makes Redis refuse every SUBSCRIBE (ACL) and drops the
// node's pub/sub connection, then waits until hub has lost its channels.
// allow lets subscriptions through again (also done at cleanup).
func refuseSubscribes(t *testing.T, hub *fanout.Hub) (allow func()) {
	t.Helper()
	ctx := context.Background()
	admin := srv.Client(t)
	acl := func(rules ...any) {
		t.Helper()
		if err := admin.Do(ctx, append([]any{"ACL", "SETUSER", "default"}, rules...)...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	acl("-subscribe")
	t.Cleanup(func() { acl("+@all", "allchannels") })
	if err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "the node's channels lost", func() bool { return hub.Unconfirmed() > 0 })
	return func() { acl("+@all", "allchannels") }
}
