// Package events publishes room events and control commands on Redis pub/sub.
// It is the one place that chooses the publish command, so that cluster mode
// (sharded pub/sub) changes only here.
package events

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// Publisher publishes JSON payloads. It is safe for concurrent use.
type Publisher struct {
	rdb  redis.UniversalClient
	keys keys.Space
	now  func() time.Time
}

// NewPublisher returns a Publisher writing through rdb under names from ks.
func NewPublisher(rdb redis.UniversalClient, ks keys.Space) *Publisher {
	return &Publisher{rdb: rdb, keys: ks, now: time.Now}
}

// Room publishes ev on its room's events channel, stamping At when empty.
func (p *Publisher) Room(ctx context.Context, ev wire.Event) error {
	if ev.At == "" {
		ev.At = wire.FormatTime(p.now())
	}
	if err := Publish(ctx, p.rdb, p.keys.RoomEvents(ev.ChatRoomID), wire.Marshal(ev)).Err(); err != nil {
		return fmt.Errorf("publish %s event for room %d: %w", ev.Type, ev.ChatRoomID, err)
	}
	return nil
}

// Node sends c to one ws node's control channel.
func (p *Publisher) Node(ctx context.Context, node string, c wire.Control) error {
	if err := Publish(ctx, p.rdb, p.keys.NodeControl(node), wire.Marshal(c)).Err(); err != nil {
		return fmt.Errorf("publish %s control to node %s: %w", c.Op, node, err)
	}
	return nil
}

// Broadcast sends c to every ws node.
func (p *Publisher) Broadcast(ctx context.Context, c wire.Control) error {
	if err := Publish(ctx, p.rdb, p.keys.Control(), wire.Marshal(c)).Err(); err != nil {
		return fmt.Errorf("broadcast %s control: %w", c.Op, err)
	}
	return nil
}
