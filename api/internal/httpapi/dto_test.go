package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/room"
)

// TestResponseJSON pins the bytes of every REST answer type as the
// handlers write it (gin's c.JSON), converted from domain values where it
// is: a renamed or reordered field here or in shared is an API change and
// fails this test. The room and read-state answers were domain structs
// (room.Room, readstate.Result) until the DTOs of dto.go; these bytes are
// what those structs produced.
func TestResponseJSON(t *testing.T) {
	full := room.Room{ID: 7, Type: room.TypeGroup, Name: "<team> & co", CreatedBy: 1, CreatedAt: "2026-01-02T03:04:05.000Z",
		MemberIDs: []int64{1, 2, 3}, MemberCount: 3, LastSeq: 17, LastMessageAt: "2026-01-02T03:04:06.000Z",
		LastMessage: json.RawMessage(`{"id":"7-17","message":"<hi>"}`)}
	bare := room.Room{ID: 8, Type: room.TypeDirect, CreatedBy: 2, CreatedAt: "c", MemberCount: 2}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"room, every field", roomOf(full),
			`{"id":7,"type":"group","name":"\u003cteam\u003e \u0026 co","createdBy":1,"createdAt":"2026-01-02T03:04:05.000Z","memberIds":[1,2,3],"memberCount":3,"lastSeq":17,"lastMessageAt":"2026-01-02T03:04:06.000Z","lastMessage":{"id":"7-17","message":"\u003chi\u003e"}}`},
		{"room, optional fields absent", roomOf(bare),
			`{"id":8,"type":"direct","createdBy":2,"createdAt":"c","memberCount":2,"lastSeq":0}`},
		{"room with unread count", roomUnreadJSON{roomJSON: roomOf(full), UnreadCount: 4},
			`{"id":7,"type":"group","name":"\u003cteam\u003e \u0026 co","createdBy":1,"createdAt":"2026-01-02T03:04:05.000Z","memberIds":[1,2,3],"memberCount":3,"lastSeq":17,"lastMessageAt":"2026-01-02T03:04:06.000Z","lastMessage":{"id":"7-17","message":"\u003chi\u003e"},"unreadCount":4}`},
		{"room list", roomListJSON{Rooms: []roomUnreadJSON{{roomJSON: roomOf(bare)}}, NextCursor: "x"},
			`{"rooms":[{"id":8,"type":"direct","createdBy":2,"createdAt":"c","memberCount":2,"lastSeq":0,"unreadCount":0}],"nextCursor":"x"}`},
		{"last room list page", roomListJSON{Rooms: []roomUnreadJSON{}}, `{"rooms":[]}`},
		{"read state", readOf(readstate.Result{ChatRoomID: 7, UserID: 2, Seq: 15, UnreadCount: 2, Moved: true}),
			`{"chatRoomId":7,"userId":2,"seq":15,"unreadCount":2}`},
		{"membership", membershipJSON{ChatRoomID: 7, UserID: 3, Added: true}, `{"chatRoomId":7,"userId":3,"added":true}`},
		{"room presence", presenceJSON{UserID: 3, Sessions: 2, InRoom: true}, `{"userId":3,"sessions":2,"inRoom":true}`},
		{"user presence", userPresenceJSON{UserID: 3, Online: false, Sessions: 0, LastSeen: "l"},
			`{"userId":3,"online":false,"sessions":0,"lastSeen":"l"}`},
		{"user presence, never seen", userPresenceJSON{UserID: 4}, `{"userId":4,"online":false,"sessions":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.JSON(200, tt.v)
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("c.JSON wrote %s\nwant         %s", got, tt.want)
			}
		})
	}
}
