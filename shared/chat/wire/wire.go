// Package wire holds the JSON shapes that cross process boundaries: chat
// messages (STOMP bodies, REST bodies, history entries and channel payloads),
// room events, and control commands between the api and ws nodes.
package wire

import (
	"bytes"
	"encoding/json"
	"time"
)

// TimeLayout is the layout of every timestamp on the wire: RFC 3339 in UTC
// with milliseconds, e.g. "2026-11-26T15:44:02.123Z".
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime renders t in TimeLayout, in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// Message is one chat message as delivered on /sub/chat/room/{id}, stored in
// history and returned by the REST API. Field names follow the seed client.
type Message struct {
	ID         string `json:"id"`
	ChatRoomID int64  `json:"chatRoomId"`
	Seq        int64  `json:"seq"`
	SendID     int64  `json:"sendId"`
	RcvID      int64  `json:"rcvId,omitempty"`
	Message    string `json:"message"`
	SentAt     string `json:"sentAt"`
	// EditedAt is set once the author edited the text (PATCH).
	EditedAt string `json:"editedAt,omitempty"`
}

// SendRequest is the body of SEND /pub/send-message, as the seed client sends
// it. SendID may be omitted; when present it must equal the caller.
// ChatRoomID may be omitted on STOMP when CONNECT named a room.
type SendRequest struct {
	ChatRoomID int64  `json:"chatRoomId"`
	SendID     int64  `json:"sendId"`
	RcvID      int64  `json:"rcvId"`
	Message    string `json:"message"`
}

// Event types published on a room's events channel.
const (
	EventEnter         = "ENTER"
	EventLeave         = "LEAVE"
	EventMemberAdded   = "MEMBER_ADDED"
	EventMemberRemoved = "MEMBER_REMOVED"
)

// Event is a non-chat room event (delivered on /sub/chat/room/{id}/events).
type Event struct {
	Type       string `json:"type"`
	ChatRoomID int64  `json:"chatRoomId"`
	UserID     int64  `json:"userId"`
	At         string `json:"at"`
	// Reason explains a LEAVE ("disconnect", "closed", "api", "node-lost",
	// "shutdown", ...) when known.
	Reason string `json:"reason,omitempty"`
}

// Control operations understood by ws nodes.
const (
	// OpDisconnect closes the listed sessions on the receiving node.
	OpDisconnect = "disconnect"
	// OpRevoke ends user UserID's subscriptions to room RoomID on every node.
	OpRevoke = "revoke"
)

// Control is a command sent to ws nodes over their control channels.
type Control struct {
	Op         string   `json:"op"`
	SessionIDs []string `json:"sessionIds,omitempty"`
	RoomID     int64    `json:"roomId,omitempty"`
	UserID     int64    `json:"userId,omitempty"`
	Reason     string   `json:"reason,omitempty"`
}

// Marshal encodes v; the wire types above cannot fail to encode. It is
// the one encoder of every JSON the services store or publish (history
// entries, message texts, events, notifications, control commands).
//
// Unlike json.Marshal it does not escape <, > and & as \u003c, \u003e,
// \u0026: that HTML escaping made a text of 4,096 "<" a 24,674-byte history
// entry. The output is valid JSON all the same, and no client puts it in
// HTML unescaped (the web client renders texts as React text nodes). What
// is still escaped: " and \ (2 bytes), tab, LF, CR, backspace and form feed
// (2 bytes), other control characters (\u00XX, 6 bytes for 1) and U+2028,
// U+2029 (6 bytes for 3). The send path refuses those control characters,
// so a stored text is at most twice its size in bytes.
func Marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("wire: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")) // Encode ends each value with a newline
}
