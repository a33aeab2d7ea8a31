package messages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrArchiveUnavailable wraps the error of an Archive read (PostgreSQL down
// or slow): History or Since needed messages older than Redis keeps and
// could not read them. Pages Redis serves alone never fail with it.
var ErrArchiveUnavailable = errors.New("archived history is unavailable")

// ArchiveFeed turns on the archive stream records of send.lua and
// change.lua: each stored, edited or deleted message is appended, in the
// same script, as a "type message" record (room, seq, body: the history
// entry) to the room's archive stream (keys.Space.ArchiveStreamFor), from
// which the archiver copies it into PostgreSQL. With the feed on, send.lua
// also guards history trimming: it drops only messages at or below
// max(min(seq-HistoryLen, archivedSeq), seq-HistoryLen-BacklogMax), so
// Redis keeps every message PostgreSQL lacks unless the archive is more
// than BacklogMax messages behind in that room.
type ArchiveFeed struct {
	// On turns the records and the trim guard on; the zero value is off.
	On bool
	// StreamMax is the approximate MAXLEN (XADD MAXLEN ~) of each archive
	// stream; default 1,000,000.
	StreamMax int
	// BacklogMax bounds how many messages beyond HistoryLen a room keeps
	// while the archive lags; default 100,000.
	BacklogMax int
}

// Archive is older history kept in PostgreSQL (archive.Store implements it).
type Archive interface {
	// Range returns the entries of room with lo < seq < hi (hi <= 0: no upper bound), ascending when asc,
	// else descending, at most limit entries and at most maxBytes bytes counting each entry plus one
	// separator byte (maxBytes 0: no byte bound; the first entry is always returned), and more = whether
	// entries beyond the cut match.
	Range(ctx context.Context, roomID, lo, hi int64, limit, maxBytes int, asc bool) (entries []json.RawMessage, more bool, err error)
}

// Defaults of ArchiveFeed.
const (
	defaultStreamMax  = 1000000
	defaultBacklogMax = 100000
)

// below returns the exclusive upper bound of the part of the seq range
// (after, before) that lies below boundary (Redis's oldest retained seq,
// or lastSeq+1 when it retains none), and whether that part can hold a
// seq at all. before <= 0 means no upper bound.
func below(after, before, boundary int64) (hi int64, ok bool) {
	hi = boundary
	if before > 0 && before < hi {
		hi = before
	}
	return hi, hi-after > 1
}

// pageBuilder fills a page from two sources in page order under one count
// and one byte bound, with the rules of history.lua: each entry counts its
// bytes plus one separator, the first entry of the page always fits.
type pageBuilder struct {
	limit, maxBytes int
	used            int
	msgs            []json.RawMessage
}

// add appends entries while they fit; it reports false at the first that
// does not (the page is then cut: more entries match).
func (b *pageBuilder) add(entries []json.RawMessage) bool {
	for _, e := range entries {
		if len(b.msgs) == b.limit || (b.maxBytes > 0 && len(b.msgs) > 0 && b.used+len(e)+1 > b.maxBytes) {
			return false
		}
		b.used += len(e) + 1
		b.msgs = append(b.msgs, e)
	}
	return true
}

// mergeArchive completes the Redis page p of q (read with the boundary,
// see history.lua) with the Archive's entries below the boundary: newest
// first, the archive continues a Redis page that was not cut; oldest
// first, the archive's entries come first and p (read with the whole
// limit and byte bound, so it holds at least what is left) follows.
func (s *Store) mergeArchive(ctx context.Context, roomID int64, q Query, asc bool, boundary int64, p Page) (Page, error) {
	hi, ok := below(q.After, q.Before, boundary)
	if !ok {
		return p, nil
	}
	b := pageBuilder{limit: q.Limit, maxBytes: max(q.MaxBytes, 0)}
	if asc {
		entries, more, err := s.cfg.Archive.Range(ctx, roomID, q.After, hi, q.Limit, b.maxBytes, true)
		if err != nil {
			return Page{}, fmt.Errorf("read archived history of room %d: %w: %w", roomID, ErrArchiveUnavailable, err)
		}
		if !b.add(entries) || more {
			return Page{Messages: b.msgs, HasMore: true}, nil
		}
		fits := b.add(p.Messages)
		return Page{Messages: b.msgs, HasMore: !fits || p.HasMore}, nil
	}
	if p.HasMore {
		return p, nil
	}
	b.add(p.Messages) // fits: history.lua cut it with the same rules
	// Ask for one entry at least even when the page is full, to learn
	// whether it has more; the archive returns its first entry whatever
	// the bytes left, and add tells whether it fits.
	budget := b.maxBytes
	if budget > 0 && len(b.msgs) > 0 {
		budget = max(budget-b.used, 1)
	}
	entries, more, err := s.cfg.Archive.Range(ctx, roomID, q.After, hi, max(q.Limit-len(b.msgs), 1), budget, false)
	if err != nil {
		return Page{}, fmt.Errorf("read archived history of room %d: %w: %w", roomID, ErrArchiveUnavailable, err)
	}
	fits := b.add(entries)
	return Page{Messages: b.msgs, HasMore: !fits || more}, nil
}

// sinceArchive puts the Archive's entries after `after` and below
// boundary before msgs (Redis's, all at or above boundary), up to limit in
// all, and returns the oldest seq the two hold after `after`.
func (s *Store) sinceArchive(ctx context.Context, roomID, after int64, limit int, boundary int64, msgs [][]byte, oldest int64) ([][]byte, int64, error) {
	hi, ok := below(after, 0, boundary)
	if !ok {
		return msgs, oldest, nil
	}
	limit = max(limit, 1)
	entries, more, err := s.cfg.Archive.Range(ctx, roomID, after, hi, limit, 0, true)
	if err != nil {
		// What Redis holds, with the error: a resume can go on from there
		// and report the rest as truncated.
		return msgs, oldest, fmt.Errorf("read archived history of room %d after %d: %w: %w", roomID, after, ErrArchiveUnavailable, err)
	}
	if len(entries) == 0 {
		return msgs, oldest, nil
	}
	var first struct{ Seq int64 }
	if err := json.Unmarshal(entries[0], &first); err != nil || first.Seq <= after {
		return nil, 0, fmt.Errorf("read archived history of room %d after %d: bad entry %.100s (%v)", roomID, after, entries[0], err)
	}
	out := make([][]byte, 0, min(len(entries)+len(msgs), limit))
	for _, e := range entries[:min(len(entries), limit)] {
		out = append(out, e)
	}
	if !more {
		out = append(out, msgs[:min(len(msgs), limit-len(out))]...)
	}
	return out, first.Seq, nil
}
