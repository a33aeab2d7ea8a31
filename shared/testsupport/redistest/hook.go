package redistest

import (
	"context"
	"sync"

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
