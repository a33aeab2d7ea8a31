package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/room"
)

// TestRoomsAreVisibleToMembersOnly runs every room route as a member and as
// an outsider over three rooms. Outsiders get the very answer a missing room
// gets, so room ids cannot be probed.
func TestRoomsAreVisibleToMembersOnly(t *testing.T) {
	e := newEnv(t)
	const alice, bob = 8, 3
	rooms := map[string]int64{
		"alice's direct room": e.createDirect(t, alice, 5),
		"alice's group":       e.createGroup(t, alice, "A", 6),
		"bob's group":         e.createGroup(t, bob, "B", 6),
	}
	owner := map[string]int64{"alice's direct room": alice, "alice's group": alice, "bob's group": bob}
	routes := []struct {
		name     string
		method   string
		path     string // %d is the room id
		body     any
		okStatus int // the owner's answer; 0 for routes that change members (see members_test.go)
	}{
		{"get room", "GET", "/api/v1/chat-rooms/%d", nil, 200},
		{"history", "GET", "/api/v1/chat-rooms/%d/messages", nil, 200},
		{"send", "POST", "/api/v1/chat-rooms/%d/messages", map[string]any{"message": "hi"}, 201},
		{"presence", "GET", "/api/v1/chat-rooms/%d/presence", nil, 200},
		{"add member", "POST", "/api/v1/chat-rooms/%d/members", map[string]any{"userId": 7}, 0},
		{"remove member", "DELETE", "/api/v1/chat-rooms/%d/members/6", nil, 0},
	}
	for roomName, id := range rooms {
		for _, r := range routes {
			t.Run(roomName+"/"+r.name, func(t *testing.T) {
				outsider := int64(alice + bob - owner[roomName])
				path := fmt.Sprintf(r.path, id)
				missing := e.request(t, r.method, fmt.Sprintf(r.path, id+1000), owner[roomName], r.body)
				missing.wantProblem(t, http.StatusNotFound, "room not found")
				res := e.request(t, r.method, path, outsider, r.body)
				res.wantProblem(t, http.StatusNotFound, "room not found")
				if string(res.body) != string(missing.body) {
					t.Fatalf("outsider got %s, a missing room gets %s", res.body, missing.body)
				}
				if r.okStatus != 0 {
					e.request(t, r.method, path, owner[roomName], r.body).want(t, r.okStatus, nil)
				}
			})
		}
	}
	t.Run("lists", func(t *testing.T) {
		for user, want := range map[int64][]int64{
			alice: {rooms["alice's group"], rooms["alice's direct room"]},
			bob:   {rooms["bob's group"]},
			6:     {rooms["bob's group"], rooms["alice's group"]},
		} {
			var list struct{ Rooms []room.Room }
			e.request(t, "GET", "/api/v1/chat-rooms", user, nil).want(t, 200, &list)
			got := ids(list.Rooms)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("user %d lists %v, want %v", user, got, want)
			}
		}
	})
}
