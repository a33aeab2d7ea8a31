// Package wire holds the JSON shapes that cross process boundaries: chat
// messages (STOMP bodies, REST bodies, history entries and channel payloads),
// room events, and control commands between the api and ws nodes.
package wire

import (
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

// Marshal encodes v; the wire types above cannot fail to encode.
func Marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("wire: " + err.Error())
	}
	return b
}
