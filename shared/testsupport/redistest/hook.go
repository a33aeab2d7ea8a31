package redistest

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// PauseAfter returns a go-redis hook that runs then, once, right after the
// first command that match accepts has completed, alone or in a pipeline.
// Added to one client (AddHook), it lets a test put another client's work
// at an exact point inside a store call, against the real Redis, without
// sleeping.
func PauseAfter(match func(redis.Cmder) bool, then func()) redis.Hook {
	return &pauseAfter{match: match, then: then}
}

type pauseAfter struct {
	match func(redis.Cmder) bool
	then  func()
	once  sync.Once
}

func (h *pauseAfter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *pauseAfter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if h.match(cmd) {
			h.once.Do(h.then)
		}
		return err
	}
}

func (h *pauseAfter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if h.match(c) {
				h.once.Do(h.then)
				break
			}
		}
		return err
	}
}

// RoundTrips is a go-redis hook that counts the round trips a client
// makes: each command sent alone and each pipeline (on a cluster client,
// one per pipeline, whatever the nodes it spans), except the connection's
// set-up (HELLO, CLIENT). It is safe for concurrent use.
type RoundTrips struct{ n atomic.Int64 }

// N returns the round trips counted since the last Reset.
func (h *RoundTrips) N() int64 { return h.n.Load() }

// Reset starts the count again from 0.
func (h *RoundTrips) Reset() { h.n.Store(0) }

func setupCmd(cmd redis.Cmder) bool { return cmd.Name() == "hello" || cmd.Name() == "client" }

func (h *RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !setupCmd(cmd) {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !setupCmd(cmds[0]) {
			h.n.Add(1)
		}
		return next(ctx, cmds)
	}
}
