package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

func TestAddMember(t *testing.T) {
	e := newEnv(t)
	g := e.createGroup(t, 8, "G", 3)
	direct := e.createDirect(t, 8, 3)
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/members", g)
	events := e.ks.RoomEvents(g)
	sub := listen(t, e.rdb, events)

	var got struct {
		ChatRoomID int64 `json:"chatRoomId"`
		UserID     int64 `json:"userId"`
		Added      bool  `json:"added"`
	}
	e.request(t, "POST", path, 3, map[string]any{"userId": 5}).want(t, http.StatusCreated, &got)
	if got.ChatRoomID != g || got.UserID != 5 || !got.Added {
		t.Fatalf("answer %+v", got)
	}
	e.request(t, "POST", path, 8, map[string]any{"userId": 5}).want(t, http.StatusOK, &got)
	if got.Added {
		t.Fatalf("adding an existing member answered added: %+v", got)
	}
	e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d", g), 5, nil).want(t, http.StatusOK, nil)

	published := collect(t, e.rdb, sub, events)[events]
	if len(published) != 1 {
		t.Fatalf("events %v, want exactly one MEMBER_ADDED", published)
	}
	var ev wire.Event
	if err := json.Unmarshal([]byte(published[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != wire.EventMemberAdded || ev.ChatRoomID != g || ev.UserID != 5 || ev.At == "" {
		t.Fatalf("event %+v", ev)
	}

	cases := []struct {
		name       string
		path       string
		user       int64
		body       any
		wantStatus int
		wantDetail string
	}{
		{"non-member", path, 4, map[string]any{"userId": 6}, 404, "room not found"},
		{"missing room", fmt.Sprintf("/api/v1/chat-rooms/%d/members", g+100), 8, map[string]any{"userId": 6}, 404, "room not found"},
		{"direct room", fmt.Sprintf("/api/v1/chat-rooms/%d/members", direct), 8, map[string]any{"userId": 6}, 409, "direct room cannot change"},
		{"no user id", path, 8, map[string]any{}, 400, "userId must be a positive integer"},
		{"negative user id", path, 8, map[string]any{"userId": -6}, 400, "userId must be a positive integer"},
		{"user id as string", path, 8, `{"userId":"6"}`, 400, `field "userId": want an integer, got string`},
		{"bad room id", "/api/v1/chat-rooms/x/members", 8, map[string]any{"userId": 6}, 400, "invalid room id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.request(t, "POST", c.path, c.user, c.body).wantProblem(t, c.wantStatus, c.wantDetail)
		})
	}
}

func TestRemoveMemberAnnouncesAndRevokes(t *testing.T) {
	e := newEnv(t)
	g := e.createGroup(t, 8, "G", 3, 5, 6)
	member := func(u int64) string { return fmt.Sprintf("/api/v1/chat-rooms/%d/members/%d", g, u) }
	events, control := e.ks.RoomEvents(g), e.ks.Control()
	sub := listen(t, e.rdb, events, control)

	e.request(t, "DELETE", member(5), 8, nil).want(t, http.StatusNoContent, nil)
	got := collect(t, e.rdb, sub, events, control)
	wantOne(t, got[events], wire.Event{Type: wire.EventMemberRemoved, ChatRoomID: g, UserID: 5})
	wantControl(t, got[control], wire.Control{Op: wire.OpRevoke, RoomID: g, UserID: 5, Reason: "removed from room"})
	e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d", g), 5, nil).wantProblem(t, 404, "room not found")

	cases := []struct {
		name       string
		path       string
		user       int64
		wantStatus int
		wantDetail string
	}{
		{"removed again", member(5), 8, 404, "not a member"},
		{"non-creator removes another", member(6), 3, 403, "only the group's creator"},
		{"non-member", member(3), 5, 404, "room not found"},
		{"missing room", fmt.Sprintf("/api/v1/chat-rooms/%d/members/3", g+100), 8, 404, "room not found"},
		{"bad user id", fmt.Sprintf("/api/v1/chat-rooms/%d/members/abc", g), 8, 400, "invalid user id"},
		{"zero user id", fmt.Sprintf("/api/v1/chat-rooms/%d/members/0", g), 8, 400, "invalid user id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.request(t, "DELETE", c.path, c.user, nil).wantProblem(t, c.wantStatus, c.wantDetail)
		})
	}

	t.Run("member leaves", func(t *testing.T) {
		e.request(t, "DELETE", member(3), 3, nil).want(t, http.StatusNoContent, nil)
		got := collect(t, e.rdb, sub, events, control)
		wantOne(t, got[events], wire.Event{Type: wire.EventMemberRemoved, ChatRoomID: g, UserID: 3})
		// "removed again" re-sent user 5's revoke (so that a retry heals a
		// failed broadcast); no refused request sent any.
		wantControl(t, got[control],
			wire.Control{Op: wire.OpRevoke, RoomID: g, UserID: 5, Reason: "removed from room"},
			wire.Control{Op: wire.OpRevoke, RoomID: g, UserID: 3, Reason: "removed from room"})
	})
}

// wantOne checks that payloads hold exactly one event like want (At aside).
func wantOne(t testing.TB, payloads []string, want wire.Event) {
	t.Helper()
	if len(payloads) != 1 {
		t.Fatalf("events %v, want exactly one %s", payloads, want.Type)
	}
	var ev wire.Event
	if err := json.Unmarshal([]byte(payloads[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.At == "" {
		t.Fatalf("event %s has no time", payloads[0])
	}
	ev.At = ""
	if ev != want {
		t.Fatalf("event %+v, want %+v", ev, want)
	}
}

// wantControl checks that payloads are exactly the controls want, in order.
func wantControl(t testing.TB, payloads []string, want ...wire.Control) {
	t.Helper()
	if len(payloads) != len(want) {
		t.Fatalf("controls %v, want %d", payloads, len(want))
	}
	for i, w := range want {
		if exp := string(wire.Marshal(w)); payloads[i] != exp {
			t.Fatalf("control %d is %s, want %s", i, payloads[i], exp)
		}
	}
}
