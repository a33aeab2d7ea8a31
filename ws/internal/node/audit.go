package node

import (
	"context"
	"time"

	"github.com/roomwire/roomwire/shared/chat/room"
)

// auditBatch bounds the memberships checked in one pipeline.
const auditBatch = 1000

// auditTimeout bounds one batch's round trip.
const auditTimeout = 5 * time.Second

// Revocations returns how many (room, user) memberships the audit found
// gone while a live session on this node still watched the room, and
// revoked (those sessions ended: see Sockets.Revoke). Each is a revoke
// command this node missed, or one that was never published.
func (n *Node) Revocations() uint64 { return n.revoked.Load() }

// audit revokes every (room, user) pair that live sessions watch but whose
// membership is gone: what a revoke command lost on the way would have
// done. The pairs are read before the member sets, so a session admitted
// after its membership check is never taken for a removed one. Called on
// the Run goroutine; a failure is retried on the next beat.
func (n *Node) audit(ctx context.Context, why string) {
	if n.cfg.Members == nil {
		return
	}
	watched := n.sockets.Watched()
	n.auditDue = false
	found, sessions := 0, 0
	for len(watched) > 0 {
		batch := watched[:min(len(watched), auditBatch)]
		watched = watched[len(batch):]
		actx, cancel := context.WithTimeout(ctx, auditTimeout)
		ok, err := n.cfg.Members.AreMembers(actx, batch)
		cancel()
		if err != nil {
			n.cfg.Logger.Warn("membership audit failed; retrying on the next beat", "why", why, "err", err)
			n.auditDue = true
			return
		}
		for i, m := range batch {
			if ok[i] {
				continue
			}
			if k := n.revoke(m); k > 0 {
				found++
				sessions += k
			}
		}
	}
	if found > 0 {
		n.revoked.Add(uint64(found))
		n.cfg.Logger.Info("membership audit revoked lost memberships", "why", why, "memberships", found, "sessions", sessions)
	}
}

func (n *Node) revoke(m room.Member) int {
	return n.sockets.Revoke(m.RoomID, m.UserID, "membership revoked")
}
