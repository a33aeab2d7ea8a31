package archive

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// RoomRow is a room as the archive keeps it: its meta fields as the room
// meta hash holds them, and its members.
type RoomRow struct {
	ID        int64
	Type      string
	Name      string
	CreatedBy int64
	CreatedAt string
	Members   []int64
}

// PutRooms upserts rows and replaces each room's member list with the
// row's Members, in one transaction: the archive then holds the state the
// rows describe, however often and in whatever order they come. Of several
// rows with one ID the last wins. Rooms are written in ID order, so
// concurrent callers do not deadlock.
func (s *Store) PutRooms(ctx context.Context, rows []RoomRow) error {
	if len(rows) == 0 {
		return nil
	}
	rows = lastPerID(rows)
	var (
		ids, createdBy        = make([]int64, len(rows)), make([]int64, len(rows))
		types, names, created = make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
		memberRoom, member    []int64
	)
	for i, r := range rows {
		ids[i], types[i], names[i], createdBy[i], created[i] = r.ID, r.Type, r.Name, r.CreatedBy, r.CreatedAt
		for _, u := range r.Members {
			memberRoom, member = append(memberRoom, r.ID), append(member, u)
		}
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO rooms (id, type, name, created_by, created_at)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[])
			ON CONFLICT (id) DO UPDATE
			SET type = excluded.type, name = excluded.name, created_by = excluded.created_by,
				created_at = excluded.created_at, archived_at = now()`,
			ids, types, names, createdBy, created); err != nil {
			return fmt.Errorf("upsert rooms: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM room_members WHERE room_id = ANY($1::bigint[])", ids); err != nil {
			return fmt.Errorf("clear members: %w", err)
		}
		if len(member) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO room_members (room_id, user_id)
			SELECT * FROM unnest($1::bigint[], $2::bigint[])
			ON CONFLICT DO NOTHING`, memberRoom, member); err != nil {
			return fmt.Errorf("insert members: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("archive: put %d rooms (%d..%d): %w", len(rows), ids[0], ids[len(ids)-1], err)
	}
	return nil
}

// lastPerID returns rows sorted by ID with the last row of each ID.
func lastPerID(rows []RoomRow) []RoomRow {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b RoomRow) int { return cmp.Compare(a.ID, b.ID) })
	n := 0
	for _, r := range out {
		if n > 0 && out[n-1].ID == r.ID {
			out[n-1] = r
			continue
		}
		out[n] = r
		n++
	}
	return out[:n]
}

// Rooms returns up to limit rooms with ID > afterID in ID order, each with
// its members in ascending order (none when limit <= 0). Page on with the
// last ID returned.
func (s *Store) Rooms(ctx context.Context, afterID int64, limit int) ([]RoomRow, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `
		SELECT r.id, r.type, r.name, r.created_by, r.created_at,
			ARRAY(SELECT m.user_id FROM room_members m WHERE m.room_id = r.id ORDER BY m.user_id)
		FROM rooms r WHERE r.id > $1 ORDER BY r.id LIMIT $2`, afterID, limit)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RoomRow, error) {
		var r RoomRow
		err := row.Scan(&r.ID, &r.Type, &r.Name, &r.CreatedBy, &r.CreatedAt, &r.Members)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("archive: rooms after %d: %w", afterID, err)
	}
	return out, nil
}
