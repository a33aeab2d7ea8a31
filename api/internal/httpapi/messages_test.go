package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

func TestSendMessage(t *testing.T) {
	e := newEnv(t)
	id := e.createDirect(t, 8, 3)
	channel := e.ks.RoomMessages(id)
	sub := listen(t, e.rdb, channel)
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id)

	res := e.request(t, "POST", path, 8, map[string]any{"message": "héllo \"3\""})
	var m wire.Message
	res.want(t, http.StatusCreated, &m)
	want := wire.Message{ID: fmt.Sprintf("%d-1", id), ChatRoomID: id, Seq: 1, SendID: 8, RcvID: 3, Message: "héllo \"3\"", SentAt: m.SentAt}
	if m != want {
		t.Fatalf("message %+v, want %+v", m, want)
	}
	if _, err := time.Parse(wire.TimeLayout, m.SentAt); err != nil {
		t.Fatalf("sentAt %q: %v", m.SentAt, err)
	}
	published := collect(t, e.rdb, sub, channel)[channel]
	if len(published) != 1 || published[0] != string(res.body) {
		t.Fatalf("published %q, want exactly the answer %s", published, res.body)
	}
	var page struct{ Messages []json.RawMessage }
	e.request(t, "GET", path, 3, nil).want(t, 200, &page)
	if len(page.Messages) != 1 || string(page.Messages[0]) != string(res.body) {
		t.Fatalf("history %s, want exactly the answer %s", page.Messages, res.body)
	}

	t.Run("with matching sendId, chatRoomId and rcvId", func(t *testing.T) {
		var m wire.Message
		e.request(t, "POST", path, 3, map[string]any{"message": "back", "sendId": 3, "chatRoomId": id, "rcvId": 8}).
			want(t, http.StatusCreated, &m)
		if m.Seq != 2 || m.SendID != 3 || m.RcvID != 8 {
			t.Fatalf("message %+v", m)
		}
	})
}

func TestSendMessageRejectsBadRequests(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup(t, 8, "G", 3)
	e.createGroup(t, 4, "other", 5)
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id)
	cases := []struct {
		name       string
		body       any
		wantStatus int
		wantDetail string
	}{
		{"empty message", map[string]any{"message": ""}, 400, "message is empty"},
		{"missing message", map[string]any{}, 400, "message is empty"},
		{"white space only", map[string]any{"message": " \t\n "}, 400, "message is empty"},
		{"too long", map[string]any{"message": strings.Repeat("x", maxMessage+1)}, 413, "message is too long: at most 100 bytes"},
		{"too long in multi-byte characters", map[string]any{"message": strings.Repeat("é", maxMessage/2+1)}, 413, "too long"},
		{"invalid JSON", `{"message":"hi"`, 400, "malformed JSON"},
		{"unknown field", map[string]any{"message": "hi", "text": "hi"}, 400, `unknown field "text"`},
		{"message as number", `{"message":5}`, 400, `field "message": want a string, got number`},
		{"trailing garbage", `{"message":"hi"}]`, 400, "single JSON object"},
		{"spoofed sendId", map[string]any{"message": "hi", "sendId": 3}, 403, "sendId does not match the authenticated user"},
		{"zero sendId", map[string]any{"message": "hi", "sendId": 0}, 403, "sendId does not match"},
		{"mismatched chatRoomId", map[string]any{"message": "hi", "chatRoomId": id + 1}, 400, "chatRoomId does not match"},
		{"receiver outside the room", map[string]any{"message": "hi", "rcvId": 5}, 400, "rcvId is not a member"},
		{"negative receiver", map[string]any{"message": "hi", "rcvId": -3}, 400, "rcvId must be a positive integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.request(t, "POST", path, 8, c.body).wantProblem(t, c.wantStatus, c.wantDetail)
		})
	}
	var page struct{ Messages []json.RawMessage }
	e.request(t, "GET", path, 8, nil).want(t, 200, &page)
	if len(page.Messages) != 0 {
		t.Fatalf("refused sends stored %s", page.Messages)
	}
	e.request(t, "POST", path, 8, map[string]any{"message": strings.Repeat("x", maxMessage)}).want(t, 201, nil)
}

func TestHistoryPagination(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup(t, 8, "G", 3)
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id)
	var empty map[string]json.RawMessage
	e.request(t, "GET", path, 8, nil).want(t, 200, &empty)
	if string(empty["messages"]) != "[]" || string(empty["hasMore"]) != "false" {
		t.Fatalf("empty history %v", empty)
	}
	for i := 1; i <= 7; i++ {
		e.request(t, "POST", path, 3, map[string]any{"message": fmt.Sprint("m", i)}).want(t, 201, nil)
	}
	cases := []struct {
		query    string
		wantSeqs []int64
		wantMore bool
	}{
		{"", []int64{7, 6, 5, 4, 3, 2, 1}, false},
		{"limit=3", []int64{7, 6, 5}, true},
		{"limit=7", []int64{7, 6, 5, 4, 3, 2, 1}, false},
		{"before=5&limit=3", []int64{4, 3, 2}, true},
		{"before=2", []int64{1}, false},
		{"before=1", []int64{}, false},
		{"after=5", []int64{6, 7}, false},
		{"after=2&limit=2", []int64{3, 4}, true},
		{"after=7", []int64{}, false},
		{"after=2&before=6", []int64{5, 4, 3}, false},
		{"after=2&before=6&limit=2", []int64{5, 4}, true},
		{"order=asc&limit=3", []int64{1, 2, 3}, true},
		{"order=asc&after=2&before=6", []int64{3, 4, 5}, false},
		{"order=desc&after=4", []int64{7, 6, 5}, false},
		{"order=desc&after=2&limit=2", []int64{7, 6}, true},
		{"order=desc", []int64{7, 6, 5, 4, 3, 2, 1}, false},
		{"limit=500", []int64{7, 6, 5, 4, 3, 2, 1}, false},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			var page struct {
				Messages []wire.Message `json:"messages"`
				HasMore  bool           `json:"hasMore"`
			}
			e.request(t, "GET", path+"?"+c.query, 8, nil).want(t, 200, &page)
			seqs := []int64{}
			for _, m := range page.Messages {
				seqs = append(seqs, m.Seq)
				if m.Message != fmt.Sprint("m", m.Seq) {
					t.Fatalf("message %+v", m)
				}
			}
			if !slices.Equal(seqs, c.wantSeqs) || page.HasMore != c.wantMore {
				t.Fatalf("seqs %v hasMore %v, want %v %v", seqs, page.HasMore, c.wantSeqs, c.wantMore)
			}
		})
	}
	bad := []struct{ query, wantDetail string }{
		{"limit=0", "limit must be an integer from 1 to 500"},
		{"limit=501", "limit must be"},
		{"limit=ten", "limit must be"},
		{"limit=", "limit must be"},
		{"before=-1", "before must be a non-negative integer"},
		{"before=1.5", "before must be a non-negative integer"},
		{"after=x", "after must be a non-negative integer"},
		{"order=newest", "order must be asc or desc"},
	}
	for _, c := range bad {
		t.Run("bad "+c.query, func(t *testing.T) {
			e.request(t, "GET", path+"?"+c.query, 8, nil).wantProblem(t, 400, c.wantDetail)
		})
	}
}
