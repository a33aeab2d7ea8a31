package wire

import (
	"encoding/json"
	"strconv"
)

// Event types of the chat features, published on a room's events channel
// next to ENTER, LEAVE, MEMBER_ADDED and MEMBER_REMOVED.
const (
	// EventRead: a member's read position moved forwards (ReadEvent).
	EventRead = "READ"
	// EventTyping: a member is typing or stopped (TypingEvent); never stored.
	EventTyping = "TYPING"
	// EventMessageEdited: the author edited a message (MessageEvent).
	EventMessageEdited = "MESSAGE_EDITED"
	// EventMessageDeleted: the author deleted a message (MessageEvent).
	EventMessageDeleted = "MESSAGE_DELETED"
)

// ReadEvent announces a read position:
// {"type":"READ","chatRoomId":2,"userId":8,"seq":17,"at":"…"}.
// UserID has read every message of the room up to and including Seq.
type ReadEvent struct {
	Type       string `json:"type"`
	ChatRoomID int64  `json:"chatRoomId"`
	UserID     int64  `json:"userId"`
	Seq        int64  `json:"seq"`
	At         string `json:"at"`
}

// TypingEvent announces typing:
// {"type":"TYPING","chatRoomId":2,"userId":8,"typing":true,"at":"…"}.
// The field order is fixed: ws nodes recognise a session's own TYPING
// events by their leading bytes (see TypingPrefix).
type TypingEvent struct {
	Type       string `json:"type"`
	ChatRoomID int64  `json:"chatRoomId"`
	UserID     int64  `json:"userId"`
	Typing     bool   `json:"typing"`
	At         string `json:"at"`
}

// TypingPrefix is how every marshalled TYPING event of user in room begins:
// `{"type":"TYPING","chatRoomId":<room>,"userId":<user>,`.
func TypingPrefix(room, user int64) []byte {
	b := append([]byte(`{"type":"TYPING","chatRoomId":`), strconv.FormatInt(room, 10)...)
	b = append(b, `,"userId":`...)
	b = append(b, strconv.FormatInt(user, 10)...)
	return append(b, ',')
}

// MessageEvent announces an edit or a deletion:
// {"type":"MESSAGE_EDITED","chatRoomId":2,"userId":8,"seq":17,"at":"…","message":{…}}
// where message is the history entry as it now reads (a Message with
// editedAt, or a Tombstone).
type MessageEvent struct {
	Type       string          `json:"type"`
	ChatRoomID int64           `json:"chatRoomId"`
	UserID     int64           `json:"userId"`
	Seq        int64           `json:"seq"`
	At         string          `json:"at"`
	Message    json.RawMessage `json:"message"`
}

// Tombstone replaces a deleted message in history: the text is gone.
// {"id":"2-17","chatRoomId":2,"seq":17,"sendId":8,"rcvId":3,"deleted":true,"sentAt":"…","deletedAt":"…"}
type Tombstone struct {
	ID         string `json:"id"`
	ChatRoomID int64  `json:"chatRoomId"`
	Seq        int64  `json:"seq"`
	SendID     int64  `json:"sendId"`
	RcvID      int64  `json:"rcvId,omitempty"`
	Deleted    bool   `json:"deleted"`
	SentAt     string `json:"sentAt"`
	DeletedAt  string `json:"deletedAt"`
}

// Notification types delivered on /user/queue/notifications.
const (
	// NoteMessage: a message arrived in a room the user is not viewing.
	NoteMessage = "MESSAGE"
	// NoteAdded: the user was added to a room (or a room was created with them).
	NoteAdded = "ADDED"
	// NoteRemoved: the user was removed from (or left) a room.
	NoteRemoved = "REMOVED"
	// NoteUnread: the user's unread count of a room changed after a read.
	NoteUnread = "UNREAD"
)

// Notification is one personal notification:
//
//	{"type":"MESSAGE","chatRoomId":2,"seq":17,"sendId":8,"preview":"hi","unreadCount":3,"at":"…"}
//	{"type":"ADDED","chatRoomId":2,"at":"…"}   {"type":"REMOVED","chatRoomId":2,"at":"…"}
//	{"type":"UNREAD","chatRoomId":2,"unreadCount":0,"at":"…"}
type Notification struct {
	Type       string `json:"type"`
	ChatRoomID int64  `json:"chatRoomId"`
	Seq        int64  `json:"seq,omitempty"`
	SendID     int64  `json:"sendId,omitempty"`
	Preview    string `json:"preview,omitempty"`
	// UnreadCount is set for MESSAGE and UNREAD (0 is a value there).
	UnreadCount *int64 `json:"unreadCount,omitempty"`
	At          string `json:"at"`
}

// Count returns a pointer to n, for Notification.UnreadCount.
func Count(n int64) *int64 { return &n }
