package httpapi

import (
	"context"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/fanout"
)

// RoomReader reads rooms as one user may see them.
type RoomReader interface {
	// ListPage returns a page of the user's rooms, most recent activity
	// first.
	ListPage(ctx context.Context, userID int64, q room.ListQuery) (room.ListPage, error)
	// ViewFor returns the room, or room.ErrNotFound unless user is a member.
	ViewFor(ctx context.Context, roomID, userID int64) (room.Room, error)
}

// RoomWriter creates rooms and changes their members.
type RoomWriter interface {
	CreateDirect(ctx context.Context, caller, other int64) (room.Room, bool, error)
	CreateGroup(ctx context.Context, caller int64, name string, memberIDs []int64) (room.Room, error)
	AddMember(ctx context.Context, roomID, actor, user int64) (bool, error)
	RemoveMember(ctx context.Context, roomID, actor, user int64) (bool, error)
}

// RoomStore is what the room handlers need; room.Store implements it.
type RoomStore interface {
	RoomReader
	RoomWriter
}

// MessageStore is the shared send path and the history reader.
type MessageStore interface {
	Send(ctx context.Context, roomID, sender, rcv int64, text string) (wire.Message, []byte, error)
	History(ctx context.Context, roomID int64, q messages.Query) (messages.Page, error)
}

// SessionRegistry is the part of the session registry the API uses:
// finding and ending a user's sessions, and presence counts.
type SessionRegistry interface {
	UserSessions(ctx context.Context, userID int64) (map[string]int64, error)
	Kick(ctx context.Context, id, leave, notice string) (registry.Session, bool, error)
	SessionCounts(ctx context.Context, userIDs []int64) (map[int64]int, error)
	RoomPresence(ctx context.Context, roomID int64) (map[int64]int, error)
}

// Publisher announces room events and sends control commands to ws nodes.
type Publisher interface {
	Room(ctx context.Context, ev wire.Event) error
	Node(ctx context.Context, node string, c wire.Control) error
	Broadcast(ctx context.Context, c wire.Control) error
}

// Notifier signals messages published on a channel; fanout.Hub implements it.
type Notifier interface {
	Notify(ctx context.Context, channel string) (<-chan struct{}, func(), error)
}

// TokenVerifier turns a bearer token into an identity.
type TokenVerifier interface {
	Verify(token string) (auth.Identity, error)
}

var (
	_ RoomStore       = (*room.Store)(nil)
	_ MessageStore    = (*messages.Store)(nil)
	_ SessionRegistry = (*registry.Registry)(nil)
	_ Publisher       = (*events.Publisher)(nil)
	_ TokenVerifier   = (*auth.Verifier)(nil)
	_ Notifier        = (*fanout.Hub)(nil)
)
