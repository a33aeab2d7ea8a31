package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
)

// register puts a session into the registry as a ws node would.
func (e *env) register(t testing.TB, id string, user, roomID int64, node string) {
	t.Helper()
	s := registry.Session{ID: id, UserID: user, RoomID: roomID, Node: node, ConnectedAt: "2026-01-01T00:00:00.000Z", RemoteAddr: "127.0.0.1:1"}
	if _, err := e.reg.Register(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func TestDisconnectEndsTheCallersSessionsInTheRoom(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "s-n1", 8, 2, "n1")
	e.register(t, "s-n2", 8, 2, "n2")
	e.register(t, "s-room5", 8, 5, "n1")
	e.register(t, "s-other-user", 3, 2, "n1")
	n1, n2, events := e.ks.NodeControl("n1"), e.ks.NodeControl("n2"), e.ks.RoomEvents(2)
	sub := listen(t, e.rdb, n1, n2, events)

	var got struct {
		Disconnected int `json:"disconnected"`
	}
	body := map[string]any{"sendId": 8, "rcvId": 3, "chatRoomId": 2}
	e.request(t, "POST", "/api/v1/chat-room/disconnect", 8, body).want(t, 200, &got)
	if got.Disconnected != 2 {
		t.Fatalf("disconnected %d, want 2", got.Disconnected)
	}
	e.request(t, "POST", "/api/v1/chat-room/disconnect", 8, body).want(t, 200, &got)
	if got.Disconnected != 0 {
		t.Fatalf("second call disconnected %d, want 0", got.Disconnected)
	}

	published := collect(t, e.rdb, sub, n1, n2, events)
	wantControl(t, published[n1], wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{"s-n1"}, Reason: "disconnected via API"})
	wantControl(t, published[n2], wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{"s-n2"}, Reason: "disconnected via API"})
	wantOne(t, published[events], wire.Event{Type: wire.EventLeave, ChatRoomID: 2, UserID: 8, Reason: "api"})

	// Recorded for each node, should its command be lost.
	for node, sid := range map[string]string{"n1": "s-n1", "n2": "s-n2"} {
		if got, err := e.reg.Ended(ctx, node); err != nil || len(got) != 1 || got[sid] != "disconnected via API" {
			t.Errorf("ended sessions of %s = %v, %v; want %s", node, got, err, sid)
		}
	}

	left, err := e.reg.UserSessions(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left["s-room5"] != 5 {
		t.Fatalf("user 8 still has %v, want only s-room5 in room 5", left)
	}
	for _, sid := range []string{"s-n1", "s-n2"} {
		if _, ok, err := e.reg.Get(ctx, sid); err != nil || ok {
			t.Fatalf("session %s still registered (err %v)", sid, err)
		}
	}
	presence, err := e.reg.RoomPresence(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(presence) != 1 || presence[3] != 1 {
		t.Fatalf("presence of room 2 is %v, want only user 3", presence)
	}
}

func TestDisconnectWithoutSendIDUsesTheCaller(t *testing.T) {
	e := newEnv(t)
	e.register(t, "s1", 8, 2, "n1")
	e.register(t, "s2", 8, 2, "n1")
	n1 := e.ks.NodeControl("n1")
	sub := listen(t, e.rdb, n1)
	var got struct{ Disconnected int }
	e.request(t, "POST", "/api/v1/chat-room/disconnect", 3, map[string]any{"chatRoomId": 2}).want(t, 200, &got)
	if got.Disconnected != 0 {
		t.Fatalf("user 3 disconnected %d of user 8's sessions", got.Disconnected)
	}
	e.request(t, "POST", "/api/v1/chat-room/disconnect", 8, map[string]any{"chatRoomId": 2}).want(t, 200, &got)
	if got.Disconnected != 2 {
		t.Fatalf("disconnected %d, want 2", got.Disconnected)
	}
	// One command per node, naming all its sessions.
	wantControl(t, collect(t, e.rdb, sub, n1)[n1],
		wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{"s1", "s2"}, Reason: "disconnected via API"})
}

func TestDisconnectRejectsBadRequests(t *testing.T) {
	e := newEnv(t)
	e.register(t, "s1", 8, 2, "n1")
	cases := []struct {
		name       string
		body       any
		wantStatus int
		wantDetail string
	}{
		{"someone else's sendId", map[string]any{"sendId": 3, "chatRoomId": 2}, 403, "sendId does not match the authenticated user"},
		{"no chatRoomId", map[string]any{"sendId": 8}, 400, "chatRoomId must be a positive integer"},
		{"negative chatRoomId", map[string]any{"chatRoomId": -2}, 400, "chatRoomId must be a positive integer"},
		{"unknown field", map[string]any{"chatRoomId": 2, "sessionId": "s1"}, 400, `unknown field "sessionId"`},
		{"empty body", "", 400, "request body is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.request(t, "POST", "/api/v1/chat-room/disconnect", 8, c.body).wantProblem(t, c.wantStatus, c.wantDetail)
		})
	}
	if _, ok, err := e.reg.Get(context.Background(), "s1"); err != nil || !ok {
		t.Fatalf("a refused request removed the session (err %v)", err)
	}
}

func TestPresence(t *testing.T) {
	e := newEnv(t)
	g := e.createGroup(t, 8, "G", 3, 5, 6)
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/presence", g)
	var empty map[string]json.RawMessage
	e.request(t, "GET", path, 8, nil).want(t, 200, &empty)
	if string(empty["online"]) != "[]" || string(empty["chatRoomId"]) != fmt.Sprint(g) {
		t.Fatalf("presence of an idle room: %v", empty)
	}

	e.register(t, "a", 8, g, "n1")
	e.register(t, "b", 8, 0, "n2")
	e.register(t, "c", 3, g+1, "n1")
	e.register(t, "d", 5, g, "n2")
	e.register(t, "e", 9, g, "n2") // not a member: not listed
	type online struct {
		UserID   int64 `json:"userId"`
		Sessions int   `json:"sessions"`
		InRoom   bool  `json:"inRoom"`
	}
	var got struct {
		ChatRoomID int64    `json:"chatRoomId"`
		Online     []online `json:"online"`
	}
	e.request(t, "GET", path, 6, nil).want(t, 200, &got)
	want := []online{{3, 1, false}, {5, 1, true}, {8, 2, true}}
	if got.ChatRoomID != g || fmt.Sprint(got.Online) != fmt.Sprint(want) {
		t.Fatalf("presence %+v, want room %d online %v", got, g, want)
	}

	if _, _, err := e.reg.Remove(context.Background(), "d", "closed"); err != nil {
		t.Fatal(err)
	}
	e.request(t, "GET", path, 6, nil).want(t, 200, &got)
	if want := []online{{3, 1, false}, {8, 2, true}}; fmt.Sprint(got.Online) != fmt.Sprint(want) {
		t.Fatalf("after user 5 left: online %v, want %v", got.Online, want)
	}
	e.request(t, "GET", path, 9, nil).wantProblem(t, http.StatusNotFound, "room not found")
}
