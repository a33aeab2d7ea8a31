package node

import (
	"context"
	"sync"
)

// Disconnects returns how many sessions this node closed because its ended
// hash listed them (registry.Kick) while no disconnect command for them
// had arrived: each is a disconnect command this node missed.
func (n *Node) Disconnects() uint64 { return n.kicked.Load() }

// closeEnded reads this node's ended hash (sessions the disconnect API or
// chatctl kick took from the registry) and closes those still live with
// the reason recorded there ("disconnected" when none), as the disconnect
// command would have. It deletes the entries of sessions no longer live,
// so an entry stays, and keeps its session from being registered again,
// until the socket is gone. It returns the hash as read. Called on the Run
// goroutine: on every heartbeat and when the node's control channel is
// confirmed again.
func (n *Node) closeEnded(ctx context.Context) (map[string]string, error) {
	ended, err := n.reg.Ended(ctx, n.cfg.ID)
	if err != nil {
		return nil, err
	}
	if len(ended) == 0 && syncMapEmpty(&n.delivered) {
		return ended, nil // the usual beat: no need to list the live sessions
	}
	live := map[string]bool{}
	sessions, connecting := n.sockets.Local()
	for _, s := range sessions {
		live[s.ID] = true
	}
	for _, id := range connecting {
		live[id] = true
	}
	n.delivered.Range(func(id, _ any) bool {
		if !live[id.(string)] {
			n.delivered.Delete(id)
		}
		return true
	})
	var gone []string
	byReason := map[string][]string{}
	for id, reason := range ended {
		if !live[id] {
			gone = append(gone, id)
			continue
		}
		if _, ok := n.delivered.Load(id); !ok {
			n.delivered.Store(id, struct{}{}) // closing: counted once
			byReason[or(reason, "disconnected")] = append(byReason[or(reason, "disconnected")], id)
		}
	}
	closed := 0
	for reason, ids := range byReason {
		closed += n.sockets.Kick(ids, reason)
	}
	if closed > 0 {
		n.kicked.Add(uint64(closed))
		n.cfg.Logger.Info("closed sessions ended elsewhere whose disconnect command was lost", "sessions", closed)
	}
	return ended, n.reg.DropEnded(ctx, n.cfg.ID, gone...)
}

// syncMapEmpty reports whether m holds no entry.
func syncMapEmpty(m *sync.Map) bool {
	empty := true
	m.Range(func(any, any) bool { empty = false; return false })
	return empty
}
