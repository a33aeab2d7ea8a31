package gateway

import (
	"cmp"
	"slices"

	"github.com/roomwire/roomwire/shared/chat/room"
)

// Watched returns the (room, user) pairs that live sessions on this node
// watch: each session's CONNECT room and the rooms of its subscriptions,
// without duplicates, sorted. The node checks them against the member sets to
// revoke what a lost revoke command left open. No lock is held while the
// caller uses the result. Safe from any goroutine.
func (s *Server) Watched() []room.Member {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.live))
	for _, c := range s.live {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	seen := make(map[room.Member]struct{}, len(conns))
	for _, c := range conns {
		if c.roomID != 0 {
			seen[room.Member{RoomID: c.roomID, UserID: c.ident.UserID}] = struct{}{}
		}
		c.ackMu.Lock()
		for id := range c.watched {
			if id != 0 {
				seen[room.Member{RoomID: id, UserID: c.ident.UserID}] = struct{}{}
			}
		}
		c.ackMu.Unlock()
	}
	out := make([]room.Member, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b room.Member) int {
		if c := cmp.Compare(a.RoomID, b.RoomID); c != 0 {
			return c
		}
		return cmp.Compare(a.UserID, b.UserID)
	})
	return out
}
