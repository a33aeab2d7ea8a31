package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// EndedTTL is how long a node's ended hash (keys.NodeEnded) outlives its
// last write: far beyond the node's heartbeat, by which it reads the hash.
const EndedTTL = 10 * time.Minute

// Kick is Remove for a session ended from outside its node (the disconnect
// API, chatctl kick), which then asks the node over its control channel to
// close the socket with notice as the reason. So that the close happens
// even if that command is lost, Kick also records the session in the
// node's ended hash (keys.NodeEnded, session id -> notice): the node reads
// it on every heartbeat and after its control channel is resubscribed,
// closes what is still open and never registers those sessions again.
//
// The entry is written before the node's session set loses the session (in
// the same pipeline on a single Redis; one round trip earlier on a
// cluster), so a node that finds the session gone from its set also finds
// it in the hash. leave is the LEAVE reason, as Remove's.
func (r *Registry) Kick(ctx context.Context, id, leave, notice string) (s Session, removed bool, err error) {
	vals, err := takeScript.Run(ctx, r.rdb, []string{r.keys.Session(id)}).StringSlice()
	if err != nil {
		return Session{}, false, fmt.Errorf("take session %s: %w", id, err)
	}
	if len(vals) == 0 {
		return Session{}, false, nil
	}
	s = fromPairs(vals)
	_, ordered := r.rdb.(*redis.Client)
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		r.noteEnded(ctx, p, s, notice)
		if ordered {
			r.dropViews(ctx, p, s)
		}
		return nil
	})
	if err != nil {
		return s, true, fmt.Errorf("record kick of session %s for node %s: %w", s.ID, s.Node, err)
	}
	if !ordered {
		_, err = r.views(ctx, s, false, leave)
		return s, true, err
	}
	_, err = r.presence(ctx, s, false, leave)
	return s, true, err
}

func (r *Registry) noteEnded(ctx context.Context, p redis.Pipeliner, s Session, notice string) {
	p.HSet(ctx, r.keys.NodeEnded(s.Node), s.ID, notice)
	p.Expire(ctx, r.keys.NodeEnded(s.Node), EndedTTL)
}

// Ended returns node's ended hash: the sessions others kicked (Kick),
// session id -> the reason to give the client ("" when none was given).
func (r *Registry) Ended(ctx context.Context, node string) (map[string]string, error) {
	m, err := r.rdb.HGetAll(ctx, r.keys.NodeEnded(node)).Result()
	if err != nil {
		return nil, fmt.Errorf("list ended sessions of node %s: %w", node, err)
	}
	return m, nil
}

// DropEnded deletes ids from node's ended hash, once their sessions are
// gone from the node.
func (r *Registry) DropEnded(ctx context.Context, node string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := r.rdb.HDel(ctx, r.keys.NodeEnded(node), ids...).Err(); err != nil {
		return fmt.Errorf("drop ended sessions of node %s: %w", node, err)
	}
	return nil
}
