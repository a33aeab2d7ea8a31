package gateway_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/testsupport/authtest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
)

// A CONNECT into a room costs the node one Redis round trip on a single
// Redis once the scripts are loaded: the registration, with the room's
// membership checked in the claim and the room's read move riding in it; a
// second only when the read moved the position (the UNREAD note to the
// user's sessions).
func TestConnectIntoRoomRoundTrips(t *testing.T) {
	ctx := context.Background()
	counter := &redistest.RoundTrips{}
	e := quietNode(t, counter)
	id := e.group(8, 3)
	for i := 0; i < 2; i++ {
		if _, _, err := e.msgs.Send(ctx, id, 8, 0, "m"); err != nil {
			t.Fatal(err)
		}
	}
	notes := redistest.Listen(t, srv.Client(t), e.keys.UserNotifications(3))
	room := strconv.FormatInt(id, 10)
	connect := func(user int64) int64 {
		t.Helper()
		counter.Reset()
		c, _ := e.connect(user, "chatRoomId", room)
		// The CONNECT's work is done once a later frame is answered.
		c.send("BEGIN", "", "transaction", "t", "receipt", "r")
		c.expect("RECEIPT")
		return counter.N()
	}
	connect(8) // loads the scripts (8 sent the messages: nothing to read)

	if n := connect(3); n != 2 {
		t.Errorf("CONNECT that moved the read position made %d round trips, want 2", n)
	}
	var note wire.Notification
	if err := json.Unmarshal([]byte(notes.Next(t).Payload), &note); err != nil || note.Type != wire.NoteUnread || note.ChatRoomID != id || note.UnreadCount == nil || *note.UnreadCount != 0 {
		t.Errorf("notification %+v (%v), want UNREAD 0 in room %d", note, err, id)
	}
	if pos := e.rdb.HGet(ctx, e.keys.RoomRead(id), "3").Val(); pos != "2" {
		t.Errorf("position %q, want 2", pos)
	}

	if n := connect(3); n != 1 {
		t.Errorf("CONNECT into a room already read made %d round trips, want 1", n)
	}
	notes.None(t, 50*time.Millisecond)
}

// quietNode is a ws node as cmd/ws assembles it, on a client counted by
// counter, serving but not started: no background work (heart-beats,
// pub/sub, probes) sends commands, so counter sees only what the
// connections cause.
func quietNode(t *testing.T, counter *redistest.RoundTrips) *env {
	t.Helper()
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	rdb := srv.Client(t)
	rdb.AddHook(counter)
	ks := redistest.Space(t)
	n := wsnode.New(rdb, ks, verifier, wsnode.Config{ID: "quiet-" + ks.Prefix(),
		Gateway: gateway.Config{WriteTimeout: 2 * time.Second, ConnectRate: -1}})
	hs := httptest.NewServer(n.Handler())
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Gateway.Shutdown(sctx)
		hs.Close()
	})
	return &env{t: t, rdb: rdb, keys: ks, rooms: n.Rooms, msgs: n.Messages, reg: n.Registry, gw: n.Gateway,
		url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws", logs: &authtest.LogBuffer{}}
}
