package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// The authorization matrix: users A and B, rooms R1 (group of A with B),
// R2 (group of A alone) and R3 (direct room of B and C). Every REST route
// that takes a room is run by both users in all three rooms: members get
// the route's normal answer, non-members get exactly the 404 problem a
// missing room gets and change nothing (no Redis key written, nothing
// published on any channel).
const (
	authzA int64 = 8
	authzB int64 = 3
	authzC int64 = 5
	authzD int64 = 7 // never a member of anything; the one added by "add member"
)

// authzWorld is the matrix set up on a fresh API.
type authzWorld struct {
	e       *env
	rooms   map[string]int64           // R1, R2, R3
	members map[string][]int64         // members of each room
	owner   map[string]int64           // creator of each room (author of its seq 1)
	direct  map[string]bool            // direct rooms
	seq1    map[string]json.RawMessage // each room's first message as stored
}

func (w *authzWorld) isMember(room string, user int64) bool {
	return slices.Contains(w.members[room], user)
}

func newAuthzWorld(t *testing.T) *authzWorld {
	t.Helper()
	e := newEnv(t)
	w := &authzWorld{e: e,
		rooms: map[string]int64{
			"R1": e.createGroup(t, authzA, "R1", authzB),
			"R2": authzGroupAlone(t, e, authzA, "R2"),
			"R3": e.createDirect(t, authzB, authzC),
		},
		members: map[string][]int64{"R1": {authzA, authzB}, "R2": {authzA}, "R3": {authzB, authzC}},
		owner:   map[string]int64{"R1": authzA, "R2": authzA, "R3": authzB},
		direct:  map[string]bool{"R3": true},
		seq1:    map[string]json.RawMessage{},
	}
	for name, id := range w.rooms {
		// seq 1 of every room is its owner's; every member has a live
		// session in the room (so presence and disconnect have something
		// to show or to end).
		var m json.RawMessage
		e.request(t, "POST", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id), w.owner[name],
			map[string]any{"message": "first in " + name}).want(t, http.StatusCreated, &m)
		w.seq1[name] = m
		for _, u := range w.members[name] {
			e.register(t, fmt.Sprintf("s-%s-%d", name, u), u, id, "n1")
		}
	}
	return w
}

// authzGroupAlone makes a group whose only member is by (createGroup
// would send "memberIds": null, which the spec refuses).
func authzGroupAlone(t *testing.T, e *env, by int64, name string) int64 {
	t.Helper()
	var r struct{ ID int64 }
	e.request(t, "POST", "/api/v1/chat-rooms", by,
		map[string]any{"type": "group", "name": name, "memberIds": []int64{}}).want(t, http.StatusCreated, &r)
	return r.ID
}

// authzRoute is one REST route of the matrix.
type authzRoute struct {
	name string
	// request builds the request user makes in room (the setup a member
	// needs, such as a message of their own to edit, happens here).
	request func(t *testing.T, w *authzWorld, room string, user int64) (method, path string, body any)
	// member checks a member's answer.
	member func(t *testing.T, w *authzWorld, room string, user int64, r resp)
	// outsider, when set, replaces the standard non-member check (404
	// exactly as for a missing room).
	outsider func(t *testing.T, r, missing resp)
}

func roomPath(w *authzWorld, room, suffix string) string {
	return fmt.Sprintf("/api/v1/chat-rooms/%d%s", w.rooms[room], suffix)
}

// ownMessage has user post a message in room and returns its seq.
func ownMessage(t *testing.T, w *authzWorld, room string, user int64) int64 {
	t.Helper()
	var m struct{ Seq int64 }
	w.e.request(t, "POST", roomPath(w, room, "/messages"), user, map[string]any{"message": "mine"}).
		want(t, http.StatusCreated, &m)
	return m.Seq
}

func wantStatus(status int) func(*testing.T, *authzWorld, string, int64, resp) {
	return func(t *testing.T, _ *authzWorld, _ string, _ int64, r resp) { r.want(t, status, nil) }
}

// otherMember is a member of room other than user, or D when there is none.
func otherMember(w *authzWorld, room string, user int64) int64 {
	for _, m := range w.members[room] {
		if m != user {
			return m
		}
	}
	return authzD
}

var authzRoutes = []authzRoute{
	{name: "get room",
		request: func(_ *testing.T, w *authzWorld, room string, _ int64) (string, string, any) {
			return "GET", roomPath(w, room, ""), nil
		},
		member: wantStatus(http.StatusOK)},
	{name: "add member",
		request: func(_ *testing.T, w *authzWorld, room string, _ int64) (string, string, any) {
			return "POST", roomPath(w, room, "/members"), map[string]any{"userId": authzD}
		},
		member: func(t *testing.T, w *authzWorld, room string, _ int64, r resp) {
			if w.direct[room] {
				r.wantProblem(t, http.StatusConflict, "direct")
				return
			}
			r.want(t, http.StatusCreated, nil)
		}},
	{name: "remove self",
		request: func(_ *testing.T, w *authzWorld, room string, user int64) (string, string, any) {
			return "DELETE", roomPath(w, room, fmt.Sprintf("/members/%d", user)), nil
		},
		member: wantStatus(http.StatusNoContent)},
	{name: "remove other",
		request: func(_ *testing.T, w *authzWorld, room string, user int64) (string, string, any) {
			// A non-member targets the room's owner: a real member.
			target := w.owner[room]
			if w.isMember(room, user) {
				target = otherMember(w, room, user)
			}
			return "DELETE", roomPath(w, room, fmt.Sprintf("/members/%d", target)), nil
		},
		member: func(t *testing.T, w *authzWorld, room string, user int64, r resp) {
			switch {
			case w.direct[room] || w.owner[room] != user:
				r.wantProblem(t, http.StatusForbidden, "creator")
			case otherMember(w, room, user) == authzD:
				r.wantProblem(t, http.StatusNotFound, "not a member")
			default:
				r.want(t, http.StatusNoContent, nil)
			}
		}},
	{name: "history",
		request: func(_ *testing.T, w *authzWorld, room string, _ int64) (string, string, any) {
			return "GET", roomPath(w, room, "/messages"), nil
		},
		member: func(t *testing.T, w *authzWorld, room string, _ int64, r resp) {
			var page struct{ Messages []json.RawMessage }
			r.want(t, http.StatusOK, &page)
			if len(page.Messages) != 1 || !strings.Contains(string(page.Messages[0]), "first in "+room) {
				t.Fatalf("history %s", r.body)
			}
		}},
	{name: "long poll",
		request: func(_ *testing.T, w *authzWorld, room string, _ int64) (string, string, any) {
			return "GET", roomPath(w, room, "/messages?after=0&wait=5s"), nil
		},
		member: func(t *testing.T, w *authzWorld, room string, _ int64, r resp) {
			var page struct{ Messages []json.RawMessage }
			r.want(t, http.StatusOK, &page)
			if len(page.Messages) != 1 {
				t.Fatalf("long poll %s", r.body)
			}
		}},
	{name: "send",
		request: func(_ *testing.T, w *authzWorld, room string, _ int64) (string, string, any) {
			return "POST", roomPath(w, room, "/messages"), map[string]any{"message": "hi"}
		},
		member: func(t *testing.T, w *authzWorld, room string, user int64, r resp) {
			var m struct{ Seq, SendID int64 }
			r.want(t, http.StatusCreated, &m)
			if m.Seq != 2 || m.SendID != user {
				t.Fatalf("sent %s", r.body)
			}
		}},
	{name: "edit",
		request: func(t *testing.T, w *authzWorld, room string, user int64) (string, string, any) {
			seq := int64(1) // a non-member tries the owner's message
			if w.isMember(room, user) {
				seq = ownMessage(t, w, room, user)
			}
			return "PATCH", roomPath(w, room, fmt.Sprintf("/messages/%d", seq)), map[string]any{"message": "changed"}
		},
		member: func(t *testing.T, w *authzWorld, room string, _ int64, r resp) {
			var m struct{ Message, EditedAt string }
			r.want(t, http.StatusOK, &m)
			if m.Message != "changed" || m.EditedAt == "" {
				t.Fatalf("edited %s", r.body)
			}
		}},
	{name: "delete",
		request: func(t *testing.T, w *authzWorld, room string, user int64) (string, string, any) {
			seq := int64(1)
			if w.isMember(room, user) {
				seq = ownMessage(t, w, room, user)
			}
			return "DELETE", roomPath(w, room, fmt.Sprintf("/messages/%d", seq)), nil
		},
		member: func(t *testing.T, w *authzWorld, room string, _ int64, r resp) {
			var m struct{ Deleted bool }
			r.want(t, http.StatusOK, &m)
			if !m.Deleted {
				t.Fatalf("deleted %s", r.body)
			}
		}},
	{name: "read",
		request: func(_ *testing.T, w *authzWorld, room string, _ int64) (string, string, any) {
			return "POST", roomPath(w, room, "/read"), map[string]any{"seq": 1}
		},
		member: func(t *testing.T, w *authzWorld, room string, user int64, r resp) {
			var got struct{ ChatRoomID, UserID, Seq, UnreadCount int64 }
			r.want(t, http.StatusOK, &got)
			if got.ChatRoomID != w.rooms[room] || got.UserID != user || got.Seq != 1 || got.UnreadCount != 0 {
				t.Fatalf("read %s", r.body)
			}
		}},
	{name: "presence",
		request: func(_ *testing.T, w *authzWorld, room string, _ int64) (string, string, any) {
			return "GET", roomPath(w, room, "/presence"), nil
		},
		member: func(t *testing.T, w *authzWorld, room string, _ int64, r resp) {
			var p struct {
				Online []struct{ UserID int64 }
			}
			r.want(t, http.StatusOK, &p)
			var got []int64
			for _, o := range p.Online {
				got = append(got, o.UserID)
			}
			want := slices.Sorted(slices.Values(w.members[room]))
			if !slices.Equal(got, want) {
				t.Fatalf("presence %s, want users %v", r.body, want)
			}
		}},
	{name: "disconnect",
		request: func(_ *testing.T, w *authzWorld, room string, user int64) (string, string, any) {
			return "POST", "/api/v1/chat-room/disconnect", map[string]any{"sendId": user, "chatRoomId": w.rooms[room]}
		},
		member: func(t *testing.T, w *authzWorld, room string, user int64, r resp) {
			var got struct{ Disconnected int }
			r.want(t, http.StatusOK, &got)
			if got.Disconnected != 1 {
				t.Fatalf("member's disconnect ended %d sessions, want its 1", got.Disconnected)
			}
		},
		// Documented in api/openapi.yaml: no membership is needed, the
		// caller only ever ends their own sessions. A non-member therefore
		// gets 200 {"disconnected":0}, the very answer a missing room gets
		// (no probing), and changes nothing.
		outsider: func(t *testing.T, r, missing resp) {
			var got struct{ Disconnected int }
			r.want(t, http.StatusOK, &got)
			if got.Disconnected != 0 || string(r.body) != string(missing.body) {
				t.Fatalf("outsider's disconnect answered %s, a missing room %s", r.body, missing.body)
			}
		}},
}

// missingPath is path with the room id replaced by one that does not exist.
func missingPath(w *authzWorld, room, path string, body any) (string, any) {
	id := fmt.Sprint(w.rooms[room])
	missing := fmt.Sprint(w.rooms[room] + 1000)
	if m, ok := body.(map[string]any); ok && m["chatRoomId"] != nil {
		c := maps.Clone(m)
		c["chatRoomId"] = w.rooms[room] + 1000
		return path, c
	}
	return strings.Replace(path, "/chat-rooms/"+id, "/chat-rooms/"+missing, 1), body
}

func TestAuthorizationMatrixREST(t *testing.T) {
	users := map[string]int64{"A": authzA, "B": authzB}
	cases := 0
	for _, route := range authzRoutes {
		for _, un := range []string{"A", "B"} {
			for _, rn := range []string{"R1", "R2", "R3"} {
				cases++
				user := users[un]
				t.Run(fmt.Sprintf("%s/%s/%s", route.name, un, rn), func(t *testing.T) {
					w := newAuthzWorld(t)
					method, path, body := route.request(t, w, rn, user)
					if w.isMember(rn, user) {
						route.member(t, w, rn, user, w.e.request(t, method, path, user, body))
						return
					}
					// The answer a missing room gets.
					mp, mb := missingPath(w, rn, path, body)
					missing := w.e.request(t, method, mp, user, mb)

					before := redistest.TakeSnapshot(t, w.e.rdb, w.e.ks.Prefix()+":*")
					published := redistest.Published(t, w.e.rdb, w.e.ks.Prefix()+":authz-marker", w.e.ks.Prefix()+":*")
					start := time.Now()
					r := w.e.request(t, method, path, user, body)
					took := time.Since(start)
					if route.outsider != nil {
						route.outsider(t, r, missing)
					} else {
						r.wantProblem(t, http.StatusNotFound, "room not found")
						missing.wantProblem(t, http.StatusNotFound, "room not found")
						if string(r.body) != string(missing.body) {
							t.Errorf("non-member got %s, a missing room gets %s", r.body, missing.body)
						}
					}
					if took > 2*time.Second {
						t.Errorf("non-member waited %v for the answer", took)
					}
					if pub := published(); len(pub) != 0 {
						t.Errorf("non-member's %s published %q", route.name, pub)
					}
					if d := before.Diff(redistest.TakeSnapshot(t, w.e.rdb, w.e.ks.Prefix()+":*")); len(d) != 0 {
						t.Errorf("non-member's %s changed Redis: %v", route.name, d)
					}
					// And the room's members still see it as before.
					var page struct{ Messages []json.RawMessage }
					w.e.request(t, "GET", roomPath(w, rn, "/messages"), w.owner[rn], nil).want(t, http.StatusOK, &page)
					if len(page.Messages) != 1 || string(page.Messages[0]) != string(w.seq1[rn]) {
						t.Errorf("history of %s after the non-member's %s: %s", rn, route.name, page.Messages)
					}
				})
			}
		}
	}
	if want := len(authzRoutes) * 2 * 3; cases != want {
		t.Fatalf("matrix has %d cases, want %d", cases, want)
	}
}
