package wire_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

// The JSON shapes of the chat features are a documented contract
// (docs/stomp.md, docs/rest.md).
func TestFeatureShapes(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"read", wire.ReadEvent{Type: wire.EventRead, ChatRoomID: 2, UserID: 8, Seq: 17, At: "a"},
			`{"type":"READ","chatRoomId":2,"userId":8,"seq":17,"at":"a"}`},
		{"typing", wire.TypingEvent{Type: wire.EventTyping, ChatRoomID: 2, UserID: 8, Typing: true, At: "a"},
			`{"type":"TYPING","chatRoomId":2,"userId":8,"typing":true,"at":"a"}`},
		{"typing stopped", wire.TypingEvent{Type: wire.EventTyping, ChatRoomID: 2, UserID: 8, At: "a"},
			`{"type":"TYPING","chatRoomId":2,"userId":8,"typing":false,"at":"a"}`},
		{"edited message", wire.Message{ID: "2-1", ChatRoomID: 2, Seq: 1, SendID: 8, Message: "x", SentAt: "s", EditedAt: "e"},
			`{"id":"2-1","chatRoomId":2,"seq":1,"sendId":8,"message":"x","sentAt":"s","editedAt":"e"}`},
		{"tombstone", wire.Tombstone{ID: "2-1", ChatRoomID: 2, Seq: 1, SendID: 8, Deleted: true, SentAt: "s", DeletedAt: "d"},
			`{"id":"2-1","chatRoomId":2,"seq":1,"sendId":8,"deleted":true,"sentAt":"s","deletedAt":"d"}`},
		{"message event", wire.MessageEvent{Type: wire.EventMessageDeleted, ChatRoomID: 2, UserID: 8, Seq: 1, At: "a",
			Message: json.RawMessage(`{"id":"2-1"}`)},
			`{"type":"MESSAGE_DELETED","chatRoomId":2,"userId":8,"seq":1,"at":"a","message":{"id":"2-1"}}`},
		{"message note", wire.Notification{Type: wire.NoteMessage, ChatRoomID: 2, Seq: 3, SendID: 8, Preview: "hi", UnreadCount: wire.Count(2), At: "a"},
			`{"type":"MESSAGE","chatRoomId":2,"seq":3,"sendId":8,"preview":"hi","unreadCount":2,"at":"a"}`},
		{"added note", wire.Notification{Type: wire.NoteAdded, ChatRoomID: 2, At: "a"},
			`{"type":"ADDED","chatRoomId":2,"at":"a"}`},
		{"unread note keeps zero", wire.Notification{Type: wire.NoteUnread, ChatRoomID: 2, UnreadCount: wire.Count(0), At: "a"},
			`{"type":"UNREAD","chatRoomId":2,"unreadCount":0,"at":"a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(wire.Marshal(tt.v)); got != tt.want {
				t.Errorf("Marshal = %s\nwant      %s", got, tt.want)
			}
		})
	}
}

func TestTypingPrefix(t *testing.T) {
	for _, ev := range []wire.TypingEvent{
		{Type: wire.EventTyping, ChatRoomID: 2, UserID: 8, Typing: true, At: "a"},
		{Type: wire.EventTyping, ChatRoomID: 123456789, UserID: 9007199254740993, At: "b"},
	} {
		b := wire.Marshal(ev)
		if p := wire.TypingPrefix(ev.ChatRoomID, ev.UserID); !bytes.HasPrefix(b, p) {
			t.Errorf("%s does not start with %s", b, p)
		}
		if p := wire.TypingPrefix(ev.ChatRoomID, ev.UserID*10); bytes.HasPrefix(b, p) {
			t.Errorf("%s starts with another user's prefix %s", b, p)
		}
		if p := wire.TypingPrefix(ev.ChatRoomID, ev.UserID/10); bytes.HasPrefix(b, p) {
			t.Errorf("%s starts with another user's prefix %s", b, p)
		}
	}
}
