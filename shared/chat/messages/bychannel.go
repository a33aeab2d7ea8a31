package messages

import (
	"context"
	"errors"
)

// ByChannel reads rooms' history by their messages channel: it is the
// fanout hub's Backfiller and HeadReader, with which a hub closes seq gaps
// (a dropped pub/sub connection, a cluster failover) from history. Other
// channels have no history: nothing, head 0.
type ByChannel struct{ s *Store }

// ByChannel returns the store's history by channel.
func (s *Store) ByChannel() ByChannel { return ByChannel{s} }

// backfillPage bounds one Since: a hub closes a gap of at most this many
// messages from history (a subscriber sees a larger one as a seq gap and
// can resume with last-seq).
const backfillPage = 1000

// Since returns up to backfillPage messages after seq `after` of the room
// whose messages channel is channel, oldest first. When the part below
// Redis's history cannot be read from the archive, it returns Redis's part.
func (b ByChannel) Since(ctx context.Context, channel string, after int64) ([][]byte, error) {
	roomID, ok := b.s.keys.RoomOfMessages(channel)
	if !ok {
		return nil, nil
	}
	msgs, _, err := b.s.Since(ctx, roomID, after, backfillPage)
	if errors.Is(err, ErrArchiveUnavailable) {
		// A gap reaching below Redis's history while PostgreSQL is down:
		// close what Redis holds, as without an archive.
		return msgs, nil
	}
	return msgs, err
}

// Head is the latest seq of the room whose messages channel is channel.
func (b ByChannel) Head(ctx context.Context, channel string) (int64, error) {
	roomID, ok := b.s.keys.RoomOfMessages(channel)
	if !ok {
		return 0, nil
	}
	return b.s.LastSeq(ctx, roomID)
}
