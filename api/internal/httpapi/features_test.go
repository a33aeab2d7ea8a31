package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/api/internal/httpapi"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/wire"
)

// postN sends n messages from user over REST.
func (e *env) postN(t testing.TB, room, user int64, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		e.request(t, "POST", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", room), user,
			map[string]any{"message": fmt.Sprint("m", i)}).want(t, http.StatusCreated, nil)
	}
}

// unread returns user's unread count of each room in GET /chat-rooms.
func (e *env) unread(t testing.TB, user int64) map[int64]int64 {
	t.Helper()
	var list struct {
		Rooms []struct {
			ID          int64  `json:"id"`
			UnreadCount *int64 `json:"unreadCount"`
		} `json:"rooms"`
	}
	e.request(t, "GET", "/api/v1/chat-rooms", user, nil).want(t, http.StatusOK, &list)
	out := map[int64]int64{}
	for _, r := range list.Rooms {
		if r.UnreadCount == nil {
			t.Fatalf("room %d has no unreadCount", r.ID)
		}
		out[r.ID] = *r.UnreadCount
	}
	return out
}

func TestUnreadCountsAndReads(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup(t, 8, "g", 3)
	other := e.createDirect(t, 3, 5)
	e.postN(t, id, 8, 3)
	e.postN(t, other, 5, 1)
	if got := e.unread(t, 3); got[id] != 3 || got[other] != 1 {
		t.Fatalf("unread of 3 = %v", got)
	}
	if got := e.unread(t, 8); got[id] != 0 {
		t.Fatalf("the sender has read their own messages: %v", got)
	}
	events, notes := e.ks.RoomEvents(id), e.ks.UserNotifications(3)
	sub := listen(t, e.rdb, events, notes)
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/read", id)

	steps := []struct {
		seq      int64
		wantSeq  int64
		wantLeft int64
	}{{2, 2, 1}, {1, 2, 1}, {50, 3, 0}}
	for _, st := range steps {
		var r struct {
			ChatRoomID, UserID, Seq, UnreadCount int64
		}
		e.request(t, "POST", path, 3, map[string]any{"seq": st.seq}).want(t, http.StatusOK, &r)
		if r.ChatRoomID != id || r.UserID != 3 || r.Seq != st.wantSeq || r.UnreadCount != st.wantLeft {
			t.Fatalf("read %d: %+v", st.seq, r)
		}
	}
	got := collect(t, e.rdb, sub, events, notes)
	if len(got[events]) != 2 || !strings.Contains(got[events][0], `"type":"READ"`) || !strings.Contains(got[events][1], `"seq":3`) {
		t.Fatalf("READ events %q", got[events])
	}
	if len(got[notes]) != 2 || !strings.Contains(got[notes][1], `"type":"UNREAD","chatRoomId":`+fmt.Sprint(id)+`,"unreadCount":0`) {
		t.Fatalf("UNREAD notifications %q", got[notes])
	}
	if got := e.unread(t, 3); got[id] != 0 || got[other] != 1 {
		t.Fatalf("unread of 3 after reading = %v", got)
	}
	var one struct{ UnreadCount int64 }
	e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d", other), 3, nil).want(t, http.StatusOK, &one)
	if one.UnreadCount != 1 {
		t.Fatalf("GET room: unreadCount %d", one.UnreadCount)
	}

	for _, c := range []struct {
		name   string
		user   int64
		body   any
		status int
		detail string
	}{
		{"no seq", 3, map[string]any{}, 400, "seq"},
		{"negative", 3, map[string]any{"seq": -1}, 400, "seq"},
		{"not a number", 3, `{"seq":"2"}`, 400, "seq"},
		{"unknown field", 3, `{"seq":2,"upTo":3}`, 400, "unknown field"},
		{"outsider", 9, map[string]any{"seq": 1}, 404, "room not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.request(t, "POST", path, c.user, c.body).wantProblem(t, c.status, c.detail)
		})
	}
}

func TestHistoryTellsWhoReadWhat(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.MaxWait = 2 * time.Second })
	id := e.createGroup(t, 8, "g", 3, 5)
	e.postN(t, id, 8, 4)
	e.request(t, "POST", fmt.Sprintf("/api/v1/chat-rooms/%d/read", id), 3, map[string]any{"seq": 2}).want(t, 200, nil)
	for _, q := range []string{"", "?after=3", "?before=2&order=asc"} {
		var page struct {
			Messages []json.RawMessage `json:"messages"`
			ReadBy   map[string]int64  `json:"readBy"`
		}
		e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d/messages%s", id, q), 5, nil).want(t, http.StatusOK, &page)
		if want := map[string]int64{"8": 4, "3": 2}; fmt.Sprint(page.ReadBy) != fmt.Sprint(want) {
			t.Errorf("%q: readBy %v, want %v", q, page.ReadBy, want)
		}
	}
	// Long polls answer only messages and hasMore.
	poll := e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d/messages?after=4&wait=1s", id), 5, nil)
	if poll.status != http.StatusOK || string(poll.body) != `{"messages":[],"hasMore":false}` {
		t.Errorf("long poll answer %d %s", poll.status, poll.body)
	}
	empty := e.createDirect(t, 3, 5)
	res := e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", empty), 5, nil)
	if !strings.Contains(string(res.body), `"readBy":{}`) {
		t.Errorf("empty room: %s", res.body)
	}
}

func TestMembershipNotificationsAndReadPositions(t *testing.T) {
	e := newEnv(t)
	n3, n5, n6 := e.ks.UserNotifications(3), e.ks.UserNotifications(5), e.ks.UserNotifications(6)
	sub := listen(t, e.rdb, n3, n5, n6)
	id := e.createGroup(t, 8, "g", 3)
	direct := e.createDirect(t, 8, 6) // 6 is told
	e.createDirect(t, 8, 6)           // exists already: nobody is told again
	e.postN(t, id, 8, 5)
	e.request(t, "POST", fmt.Sprintf("/api/v1/chat-rooms/%d/members", id), 8, map[string]any{"userId": 5}).want(t, http.StatusCreated, nil)
	if got := e.unread(t, 5); got[id] != 0 {
		t.Fatalf("a new member starts with the past read: %v", got)
	}
	e.request(t, "DELETE", fmt.Sprintf("/api/v1/chat-rooms/%d/members/5", id), 8, nil).want(t, http.StatusNoContent, nil)
	got := collect(t, e.rdb, sub, n3, n5, n6)
	kinds := func(ch string) string {
		var out []string
		for _, p := range got[ch] {
			var n wire.Notification
			if err := json.Unmarshal([]byte(p), &n); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %d", n.Type, n.ChatRoomID))
		}
		return strings.Join(out, ", ")
	}
	checks := map[string]string{
		n3: fmt.Sprintf("ADDED %d", id), // 3 has no session: its MESSAGEs went to the outbox
		n5: fmt.Sprintf("ADDED %d, REMOVED %d", id, id),
		n6: fmt.Sprintf("ADDED %d", direct),
	}
	for ch, want := range checks {
		if k := kinds(ch); k != want {
			t.Errorf("%s got %q, want %q", ch, k, want)
		}
	}
	if n := e.rdb.XLen(context.Background(), e.ks.UserOutbox(3)).Val(); n != 5 {
		t.Errorf("outbox holds %d records, want 5 (one per message for offline 3)", n)
	}
	var page struct{ ReadBy map[string]int64 }
	e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id), 8, nil).want(t, 200, &page)
	if _, ok := page.ReadBy["5"]; ok {
		t.Errorf("a former member keeps a read position: %v", page.ReadBy)
	}
}

func TestEditAndDeleteMessages(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup(t, 8, "g", 3)
	e.postN(t, id, 8, 2)
	events := e.ks.RoomEvents(id)
	sub := listen(t, e.rdb, events)
	msg := func(seq int) string { return fmt.Sprintf("/api/v1/chat-rooms/%d/messages/%d", id, seq) }

	var edited wire.Message
	e.request(t, "PATCH", msg(1), 8, map[string]any{"message": "fixed"}).want(t, http.StatusOK, &edited)
	if edited.Seq != 1 || edited.Message != "fixed" || edited.EditedAt == "" || edited.SendID != 8 {
		t.Fatalf("edited %+v", edited)
	}
	res := e.request(t, "DELETE", msg(2), 8, nil)
	var tomb map[string]any
	res.want(t, http.StatusOK, &tomb)
	if tomb["deleted"] != true || tomb["deletedAt"] == nil || tomb["message"] != nil || tomb["seq"] != float64(2) {
		t.Fatalf("tombstone %s", res.body)
	}
	var page struct{ Messages []map[string]any }
	e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d/messages?order=asc", id), 3, nil).want(t, 200, &page)
	if len(page.Messages) != 2 || page.Messages[0]["message"] != "fixed" || page.Messages[0]["editedAt"] == nil ||
		page.Messages[1]["deleted"] != true || page.Messages[1]["message"] != nil {
		t.Fatalf("history %v", page.Messages)
	}
	got := collect(t, e.rdb, sub, events)[events]
	if len(got) != 2 || !strings.HasPrefix(got[0], `{"type":"MESSAGE_EDITED","chatRoomId":`) ||
		!strings.Contains(got[0], `"message":{"id":`) || !strings.HasPrefix(got[1], `{"type":"MESSAGE_DELETED"`) ||
		!strings.Contains(got[1], string(res.body)) {
		t.Fatalf("events %q", got)
	}

	e.postN(t, id, 3, 1) // seq 3, by 3
	for _, c := range []struct {
		name, method, path string
		user               int64
		body               any
		status             int
		detail             string
	}{
		{"not the author", "PATCH", msg(3), 8, map[string]any{"message": "x"}, 403, "author"},
		{"not the author deletes", "DELETE", msg(3), 8, nil, 403, "author"},
		{"outsider", "PATCH", msg(3), 9, map[string]any{"message": "x"}, 404, "room not found"},
		{"no such message", "PATCH", msg(99), 3, map[string]any{"message": "x"}, 404, "message not found"},
		{"bad seq", "DELETE", fmt.Sprintf("/api/v1/chat-rooms/%d/messages/x", id), 3, nil, 400, "seq"},
		{"empty text", "PATCH", msg(3), 3, map[string]any{"message": " "}, 400, "empty"},
		{"too long", "PATCH", msg(3), 3, map[string]any{"message": strings.Repeat("x", maxMessage+1)}, 413, "too long"},
		{"unknown field", "PATCH", msg(3), 3, map[string]any{"message": "x", "seq": 3}, 400, "unknown field"},
		{"edit a tombstone", "PATCH", msg(2), 8, map[string]any{"message": "x"}, 409, "deleted"},
		{"delete twice", "DELETE", msg(2), 8, nil, 409, "deleted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.request(t, c.method, c.path, c.user, c.body).wantProblem(t, c.status, c.detail)
		})
	}

}

// lateEditor lets a test give the API an editor built after newEnv.
type lateEditor struct{ httpapi.MessageEditor }

func TestEditWindow(t *testing.T) {
	le := &lateEditor{}
	e := newEnv(t, func(_ *httpapi.Config, d *httpapi.Deps) { d.Edits = le })
	le.MessageEditor = messages.NewStore(e.rdb, e.ks, messages.Config{EditWindow: time.Nanosecond})
	id := e.createDirect(t, 8, 3)
	e.postN(t, id, 8, 1)
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/messages/1", id)
	e.request(t, "PATCH", path, 8, map[string]any{"message": "late"}).wantProblem(t, http.StatusForbidden, "no longer")
	e.request(t, "DELETE", path, 8, nil).wantProblem(t, http.StatusForbidden, "no longer")
}

func TestBulkPresence(t *testing.T) {
	e := newEnv(t)
	e.register(t, "a1", 1, 0, "n1")
	e.register(t, "a2", 1, 7, "n2")
	e.register(t, "b1", 2, 0, "n1")
	before := time.Now().Add(-time.Second)
	if _, _, err := e.reg.Remove(context.Background(), "b1", "closed"); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Users []struct {
			UserID   int64   `json:"userId"`
			Online   bool    `json:"online"`
			Sessions int     `json:"sessions"`
			LastSeen *string `json:"lastSeen"`
		} `json:"users"`
	}
	e.request(t, "GET", "/api/v1/presence?userIds=2,1&userIds=3,1", 9, nil).want(t, http.StatusOK, &got)
	if len(got.Users) != 3 {
		t.Fatalf("users %+v", got.Users)
	}
	u2, u1, u3 := got.Users[0], got.Users[1], got.Users[2]
	if u1.UserID != 1 || !u1.Online || u1.Sessions != 2 || u1.LastSeen == nil {
		t.Errorf("user 1 %+v", u1)
	}
	if u2.UserID != 2 || u2.Online || u2.Sessions != 0 || u2.LastSeen == nil {
		t.Fatalf("user 2 %+v", u2)
	}
	if seen, err := time.Parse(wire.TimeLayout, *u2.LastSeen); err != nil || seen.Before(before) || seen.After(time.Now()) {
		t.Errorf("user 2 lastSeen %q: %v", *u2.LastSeen, err)
	}
	if u3.UserID != 3 || u3.Online || u3.LastSeen != nil {
		t.Errorf("user 3 %+v", u3)
	}

	many := make([]string, 201)
	for i := range many {
		many[i] = fmt.Sprint(i + 1)
	}
	for _, q := range []string{"", "?userIds=", "?userIds=1,x", "?userIds=0", "?userIds=-1", "?userIds=" + strings.Join(many, ",")} {
		e.request(t, "GET", "/api/v1/presence"+q, 9, nil).wantProblem(t, http.StatusBadRequest, "userIds")
	}
	e.request(t, "GET", "/api/v1/presence?userIds="+strings.Join(many[:200], ","), 9, nil).want(t, http.StatusOK, nil)
	e.request(t, "GET", "/api/v1/presence?userIds=1", 0, nil).wantProblem(t, http.StatusUnauthorized, "")
}
