package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func TestCreateDirectRoomIsIdempotent(t *testing.T) {
	e := newEnv(t)
	steps := []struct {
		name       string
		caller     int64
		body       map[string]any
		wantStatus int
	}{
		{"first creation", 8, map[string]any{"type": "direct", "memberIds": []int64{3}}, http.StatusCreated},
		{"same caller again", 8, map[string]any{"type": "direct", "memberIds": []int64{3}}, http.StatusOK},
		{"other user, other order", 3, map[string]any{"type": "direct", "memberIds": []int64{8}}, http.StatusOK},
		{"caller listed too", 3, map[string]any{"type": "direct", "memberIds": []int64{3, 8}}, http.StatusOK},
	}
	var id int64
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var r room.Room
			e.request(t, "POST", "/api/v1/chat-rooms", st.caller, st.body).want(t, st.wantStatus, &r)
			if id == 0 {
				id = r.ID
			}
			if r.ID != id || r.ID <= 0 {
				t.Fatalf("room id %d, want %d", r.ID, id)
			}
			if r.Type != room.TypeDirect || !slices.Equal(r.MemberIDs, []int64{3, 8}) || r.CreatedBy != 8 {
				t.Fatalf("room %+v", r)
			}
		})
	}
	if other := e.createDirect(t, 8, 4); other == id {
		t.Fatalf("pair 8,4 got the room of pair 8,3")
	}
}

func TestCreateGroupRoom(t *testing.T) {
	e := newEnv(t)
	var r room.Room
	e.request(t, "POST", "/api/v1/chat-rooms", 8,
		map[string]any{"type": "group", "name": "Friends", "memberIds": []int64{5, 3, 5}}).want(t, http.StatusCreated, &r)
	if r.ID <= 0 || r.Type != room.TypeGroup || r.Name != "Friends" || r.CreatedBy != 8 || r.LastSeq != 0 {
		t.Fatalf("room %+v", r)
	}
	if !slices.Equal(r.MemberIDs, []int64{3, 5, 8}) {
		t.Fatalf("members %v, want [3 5 8]", r.MemberIDs)
	}
	if _, err := time.Parse(time.RFC3339, r.CreatedAt); err != nil {
		t.Fatalf("createdAt %q: %v", r.CreatedAt, err)
	}
	if again := e.createGroup(t, 8, "Friends", 3, 5); again == r.ID {
		t.Fatalf("a second group reused id %d", again)
	}
}

func TestCreateRoomRejectsBadRequests(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, body string
		wantStatus int
		wantDetail string
	}{
		{"no type", `{"memberIds":[3]}`, 400, `type must be "direct" or "group"`},
		{"unknown type", `{"type":"channel","memberIds":[3]}`, 400, `type must be`},
		{"direct without other", `{"type":"direct","memberIds":[8]}`, 400, "exactly one other user"},
		{"direct with two others", `{"type":"direct","memberIds":[3,4]}`, 400, "exactly one other user"},
		{"direct with a name", `{"type":"direct","name":"x","memberIds":[3]}`, 400, "no name"},
		{"direct with negative id", `{"type":"direct","memberIds":[-3]}`, 400, "positive user id"},
		{"group without name", `{"type":"group","memberIds":[3]}`, 400, "name must be 1 to 100 characters"},
		{"group with zero member", `{"type":"group","name":"g","memberIds":[0]}`, 400, "positive integers"},
		{"ids as strings", `{"type":"group","name":"g","memberIds":["3"]}`, 400, `field "memberIds": want an integer, got string`},
		{"fractional id", `{"type":"direct","memberIds":[3.5]}`, 400, `field "memberIds": want an integer, got number 3.5`},
		{"unknown field", `{"type":"direct","members":[3]}`, 400, `unknown field "members"`},
		{"malformed JSON", `{"type":`, 400, "malformed JSON"},
		{"not an object", `[1,2]`, 400, "must be a JSON object"},
		{"trailing garbage", `{"type":"direct","memberIds":[3]} x`, 400, "single JSON object"},
		{"two objects", `{"type":"direct","memberIds":[3]}{}`, 400, "single JSON object"},
		{"empty body", ``, 400, "request body is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.request(t, "POST", "/api/v1/chat-rooms", 8, c.body).wantProblem(t, c.wantStatus, c.wantDetail)
		})
	}
	var list struct{ Rooms []room.Room }
	e.request(t, "GET", "/api/v1/chat-rooms", 8, nil).want(t, 200, &list)
	if len(list.Rooms) != 0 {
		t.Fatalf("rejected requests created rooms: %+v", list.Rooms)
	}
}

func TestListRoomsNewestActivityFirst(t *testing.T) {
	e := newEnv(t)
	var empty map[string]json.RawMessage
	e.request(t, "GET", "/api/v1/chat-rooms", 8, nil).want(t, 200, &empty)
	if string(empty["rooms"]) != "[]" {
		t.Fatalf("no rooms answered %s, want []", empty["rooms"])
	}

	a := e.createDirect(t, 8, 3)
	b := e.createGroup(t, 8, "B", 4)
	c := e.createGroup(t, 3, "C", 8)
	e.createGroup(t, 3, "not 8's", 4)
	waitNextMillisecond(t)
	e.request(t, "POST", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", a), 3, map[string]any{"message": "hi 8"}).want(t, 201, nil)

	var list struct{ Rooms []room.Room }
	e.request(t, "GET", "/api/v1/chat-rooms", 8, nil).want(t, 200, &list)
	if got := ids(list.Rooms); !slices.Equal(got, []int64{a, c, b}) {
		t.Fatalf("order %v, want [%d %d %d] (messaged room first, then newest created)", got, a, c, b)
	}
	first := list.Rooms[0]
	var last wire.Message
	if err := json.Unmarshal(first.LastMessage, &last); err != nil {
		t.Fatalf("lastMessage %s: %v", first.LastMessage, err)
	}
	if last.Message != "hi 8" || last.SendID != 3 || first.LastSeq != 1 || first.LastMessageAt == "" {
		t.Fatalf("room %+v with last message %+v", first, last)
	}
	if list.Rooms[1].LastMessage != nil || list.Rooms[1].LastMessageAt != "" {
		t.Fatalf("room without messages has a last message: %+v", list.Rooms[1])
	}

	waitNextMillisecond(t)
	e.request(t, "POST", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", b), 8, map[string]any{"message": "to B"}).want(t, 201, nil)
	e.request(t, "GET", "/api/v1/chat-rooms", 8, nil).want(t, 200, &list)
	if got := ids(list.Rooms); !slices.Equal(got, []int64{b, a, c}) {
		t.Fatalf("order %v, want [%d %d %d]", got, b, a, c)
	}
}

// waitNextMillisecond lets the clock pass the millisecond of what happened
// so far, since room activity is ordered by millisecond timestamps.
func waitNextMillisecond(t testing.TB) {
	t.Helper()
	now := time.Now().UnixMilli()
	redistest.Eventually(t, "the next millisecond", func() bool { return time.Now().UnixMilli() > now })
}

func ids(rooms []room.Room) []int64 {
	out := make([]int64, len(rooms))
	for i, r := range rooms {
		out[i] = r.ID
	}
	return out
}

func TestGetRoom(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup(t, 8, "G", 3)
	var r room.Room
	e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d", id), 3, nil).want(t, 200, &r)
	if r.ID != id || r.Name != "G" || !slices.Equal(r.MemberIDs, []int64{3, 8}) {
		t.Fatalf("room %+v", r)
	}
	cases := []struct {
		name, path string
		user       int64
		wantStatus int
		wantDetail string
	}{
		{"non-member", fmt.Sprint(id), 4, 404, "room not found"},
		{"missing room", fmt.Sprint(id + 100), 8, 404, "room not found"},
		{"not a number", "abc", 8, 400, "invalid room id"},
		{"zero", "0", 8, 400, "invalid room id"},
		{"negative", "-1", 8, 400, "invalid room id"},
		{"signed", "+1", 8, 400, "invalid room id"},
		{"overflow", "99999999999999999999", 8, 400, "invalid room id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.request(t, "GET", "/api/v1/chat-rooms/"+c.path, c.user, nil).wantProblem(t, c.wantStatus, c.wantDetail)
		})
	}
}
