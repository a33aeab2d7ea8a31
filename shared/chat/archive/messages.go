package archive

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// MessageRow is one version of one message: the history entry JSON (Body)
// of seq Seq in room Room, as of the archive stream entry RevMS-RevSeq.
type MessageRow struct {
	Room, Seq     int64
	Body          string
	RevMS, RevSeq int64
}

// newer reports whether r is a later version than o.
func (r MessageRow) newer(o MessageRow) bool {
	return r.RevMS > o.RevMS || (r.RevMS == o.RevMS && r.RevSeq > o.RevSeq)
}

// PutMessages upserts rows in one statement (so in one transaction): a
// stored row is replaced only by a newer (RevMS, RevSeq), so applying rows
// again, or out of order, leaves the newest version. Of several versions
// of one message within rows the newest is written. Rows are written in
// (Room, Seq) order, so concurrent callers do not deadlock.
func (s *Store) PutMessages(ctx context.Context, rows []MessageRow) error {
	if len(rows) == 0 {
		return nil
	}
	rows = newestPerSeq(rows)
	rooms := make([]int64, len(rows))
	seqs := make([]int64, len(rows))
	bodies := make([]string, len(rows))
	revMS := make([]int64, len(rows))
	revSeq := make([]int64, len(rows))
	for i, r := range rows {
		rooms[i], seqs[i], bodies[i], revMS[i], revSeq[i] = r.Room, r.Seq, r.Body, r.RevMS, r.RevSeq
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO messages AS m (room_id, seq, body, rev_ms, rev_seq)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[])
		ON CONFLICT (room_id, seq) DO UPDATE
		SET body = excluded.body, rev_ms = excluded.rev_ms, rev_seq = excluded.rev_seq, archived_at = now()
		WHERE (m.rev_ms, m.rev_seq) < (excluded.rev_ms, excluded.rev_seq)`,
		rooms, seqs, bodies, revMS, revSeq)
	if err != nil {
		return fmt.Errorf("archive: put %d messages (rooms %d..%d): %w", len(rows), rooms[0], rooms[len(rooms)-1], err)
	}
	return nil
}

// newestPerSeq returns rows sorted by (Room, Seq) with one row per message,
// its newest version (ON CONFLICT DO UPDATE may touch a row only once per
// statement). rows itself is left alone.
func newestPerSeq(rows []MessageRow) []MessageRow {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b MessageRow) int {
		return cmp.Or(cmp.Compare(a.Room, b.Room), cmp.Compare(a.Seq, b.Seq))
	})
	n := 0
	for _, r := range out {
		if n > 0 && out[n-1].Room == r.Room && out[n-1].Seq == r.Seq {
			if r.newer(out[n-1]) {
				out[n-1] = r
			}
			continue
		}
		out[n] = r
		n++
	}
	return out[:n]
}

// Range returns the entries of room roomID with lo < seq < hi (hi <= 0: no
// upper bound), ascending when asc, else descending, at most limit entries
// and at most maxBytes bytes counting each entry plus one separator byte
// (maxBytes <= 0: no byte bound; the first entry is returned whatever its
// size), and more = whether entries beyond the cut match. It reads at most
// limit+1 rows; this is messages.Archive.
func (s *Store) Range(ctx context.Context, roomID, lo, hi int64, limit, maxBytes int, asc bool) ([]json.RawMessage, bool, error) {
	limit = max(limit, 0)
	q := "SELECT body FROM messages WHERE room_id = $1 AND seq > $2"
	args := []any{roomID, lo, limit + 1}
	if hi > 0 {
		q += " AND seq < $4"
		args = append(args, hi)
	}
	if asc {
		q += " ORDER BY seq LIMIT $3"
	} else {
		q += " ORDER BY seq DESC LIMIT $3"
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("archive: range of room %d: %w", roomID, err)
	}
	defer rows.Close()
	out := []json.RawMessage{} // never nil, as messages.Store.History
	used, more := 0, false
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, false, fmt.Errorf("archive: range of room %d: %w", roomID, err)
		}
		if len(out) == limit || (maxBytes > 0 && len(out) > 0 && used+len(body)+1 > maxBytes) {
			more = true
			break
		}
		used += len(body) + 1
		out = append(out, body)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("archive: range of room %d: %w", roomID, err)
	}
	return out, more, nil
}

// Recent returns the newest n message rows of room roomID, oldest first
// (none when n <= 0).
func (s *Store) Recent(ctx context.Context, roomID int64, n int) ([]MessageRow, error) {
	if n <= 0 {
		return nil, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `
		SELECT room_id, seq, body, rev_ms, rev_seq FROM (
			SELECT room_id, seq, body, rev_ms, rev_seq FROM messages
			WHERE room_id = $1 ORDER BY seq DESC LIMIT $2) newest
		ORDER BY seq`, roomID, n)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (MessageRow, error) {
		var m MessageRow
		err := row.Scan(&m.Room, &m.Seq, &m.Body, &m.RevMS, &m.RevSeq)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("archive: recent %d of room %d: %w", n, roomID, err)
	}
	return out, nil
}

// MaxSeq returns the highest seq of room roomID the archive holds, 0 when
// it holds none.
func (s *Store) MaxSeq(ctx context.Context, roomID int64) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var seq int64
	err := s.pool.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM messages WHERE room_id = $1", roomID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("archive: highest seq of room %d: %w", roomID, err)
	}
	return seq, nil
}
