package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/auth"
	"github.com/roomwire/roomwire/shared/events"
	"github.com/roomwire/roomwire/shared/fanout"
	"github.com/roomwire/roomwire/shared/keys"
	"github.com/roomwire/roomwire/shared/messages"
	"github.com/roomwire/roomwire/shared/redistest"
	"github.com/roomwire/roomwire/shared/registry"
	"github.com/roomwire/roomwire/shared/room"
	"github.com/roomwire/roomwire/shared/wire"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/node"
)

// newAuditedEnv is a node like newEnv's whose duties include the
// membership audit (cfg's Members is set here); it returns the hub too.
func newAuditedEnv(t *testing.T, cfg node.Config) (*env, *fanout.Hub) {
	t.Helper()
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	e := &env{t: t, rdb: rdb, keys: ks, rooms: room.NewStore(rdb, ks, room.Config{}),
		msgs: messages.NewStore(rdb, ks, messages.Config{}), reg: registry.New(rdb, ks)}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	hub := fanout.New(rdb, fanout.Config{Logger: log})
	gcfg := gateway.Config{NodeID: "node-" + ks.Prefix(), Logger: log, WriteTimeout: 2 * time.Second, ConnectRate: -1}
	e.gw = gateway.New(gcfg, gateway.Deps{Keys: ks, Verifier: verifier, Hub: hub, Members: e.rooms,
		Sender: e.msgs, History: e.msgs, Sessions: e.reg})
	cfg.ID, cfg.Logger, cfg.Members = gcfg.NodeID, log, e.rooms
	nd := node.New(cfg, ks, e.reg, e.gw, hub)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = hub.Run(ctx) }()
	go func() { defer wg.Done(); nd.Run(ctx) }()
	<-nd.Ready()
	hs := httptest.NewServer(e.gw)
	e.url = "ws" + strings.TrimPrefix(hs.URL, "http")
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = e.gw.Shutdown(sctx)
		hs.Close()
		cancel()
		wg.Wait()
	})
	return e, hub
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
	eventually(t, "the node's channels lost", func() bool { return hub.Unconfirmed() > 0 })
	return func() { acl("+@all", "allchannels") }
}
