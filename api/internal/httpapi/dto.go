package httpapi

import (
	"encoding/json"

	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/room"
)

// The JSON shapes of the REST answers built from domain values. Handlers
// convert room.Room and readstate.Result into these at the transport edge,
// so that a change to a domain struct changes no answer by itself:
// TestResponseJSON pins the bytes of each, and api/openapi.yaml documents
// them. (membershipJSON, presenceJSON, userPresenceJSON and roomListJSON
// sit beside their handlers.)

// roomJSON is one room: the answer of POST /chat-rooms.
type roomJSON struct {
	ID            int64           `json:"id"`
	Type          string          `json:"type"`
	Name          string          `json:"name,omitempty"`
	CreatedBy     int64           `json:"createdBy"`
	CreatedAt     string          `json:"createdAt"`
	MemberIDs     []int64         `json:"memberIds,omitempty"`
	MemberCount   int             `json:"memberCount"`
	LastSeq       int64           `json:"lastSeq"`
	LastMessageAt string          `json:"lastMessageAt,omitempty"`
	LastMessage   json.RawMessage `json:"lastMessage,omitempty"`
}

func roomOf(r room.Room) roomJSON {
	return roomJSON{ID: r.ID, Type: r.Type, Name: r.Name, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		MemberIDs: r.MemberIDs, MemberCount: r.MemberCount, LastSeq: r.LastSeq,
		LastMessageAt: r.LastMessageAt, LastMessage: r.LastMessage}
}

// roomUnreadJSON is a room with the caller's unread count (lastSeq minus
// the caller's read position): GET /chat-rooms/:id and the room list.
type roomUnreadJSON struct {
	roomJSON
	UnreadCount int64 `json:"unreadCount"`
}

// readJSON is the caller's read state in a room after
// POST /chat-rooms/:id/read.
type readJSON struct {
	ChatRoomID int64 `json:"chatRoomId"`
	UserID     int64 `json:"userId"`
	// Seq is the position: every message up to Seq is read.
	Seq int64 `json:"seq"`
	// UnreadCount is the room's lastSeq minus Seq.
	UnreadCount int64 `json:"unreadCount"`
}

func readOf(r readstate.Result) readJSON {
	return readJSON{ChatRoomID: r.ChatRoomID, UserID: r.UserID, Seq: r.Seq, UnreadCount: r.UnreadCount}
}
