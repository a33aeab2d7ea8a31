package events

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

// UserNote is one personal notification addressed to one user.
type UserNote struct {
	UserID int64
	Note   wire.Notification
}

// Users publishes each note on its user's notifications channel
// (keys.UserNotifications), stamping At when empty, in one pipeline. Every
// session of the user, on any node, that subscribed to
// /user/queue/notifications receives it.
func (p *Publisher) Users(ctx context.Context, notes ...UserNote) error {
	if len(notes) == 0 {
		return nil
	}
	at := wire.FormatTime(p.now())
	sharded := Sharded(p.rdb)
	_, err := p.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for _, n := range notes {
			if n.Note.At == "" {
				n.Note.At = at
			}
			ch, payload := p.keys.UserNotifications(n.UserID), wire.Marshal(n.Note)
			if sharded {
				pl.SPublish(ctx, ch, payload)
			} else {
				pl.Publish(ctx, ch, payload)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish %d user notifications (first %s to user %d): %w", len(notes), notes[0].Note.Type, notes[0].UserID, err)
	}
	return nil
}
