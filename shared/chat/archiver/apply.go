package archiver

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/archive"
)

//go:embed archived.lua
var archivedLua string

var archivedScript = redis.NewScript(archivedLua)

// fillMax bounds the history entries one round copies per room to close a
// gap (records lost to the stream's MAXLEN, or history from before the
// archive was turned on); a larger gap closes over several rounds.
const fillMax = 2000

// knownMax bounds the set of rooms whose row this process has written.
const knownMax = 100000

// record is one archive stream entry.
type record struct {
	id     string
	typ    string // "message" or "room"
	room   int64
	seq    int64
	body   string
	ms, sq int64 // the entry id's parts: the version of a message
}

func parseRecord(m redis.XMessage) (record, error) {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	r := record{id: m.ID, typ: str("type"), body: str("body")}
	var ok bool
	if r.ms, r.sq, ok = parseID(m.ID); !ok {
		return r, malformed(m.ID, "bad id")
	}
	var err error
	if r.room, err = strconv.ParseInt(str("room"), 10, 64); err != nil || r.room <= 0 {
		return r, malformed(m.ID, "bad room")
	}
	switch r.typ {
	case "room":
	case "message":
		if r.seq, err = strconv.ParseInt(str("seq"), 10, 64); err != nil || r.seq <= 0 {
			return r, malformed(m.ID, "bad seq")
		}
		if r.body == "" {
			return r, malformed(m.ID, "empty body")
		}
	default:
		return r, malformed(m.ID, "unknown type "+strconv.Quote(r.typ))
	}
	return r, nil
}

// apply writes the batches' records to the sink: the rooms first (their
// current state, read from Redis), then the messages with what closes a
// gap before them, then moves each room's archivedSeq.
func (a *Archiver) apply(ctx context.Context, batches []batch) error {
	msgs := map[int64][]record{}
	rooms := map[int64]bool{}
	var order []int64
	for _, b := range batches {
		for _, e := range b.entries {
			r, err := parseRecord(e)
			if err != nil {
				a.log.Error("skipping archive record", "stream", b.key, "err", err)
				if o := a.cfg.Observer; o != nil {
					o.Malformed()
				}
				continue
			}
			if _, seen := msgs[r.room]; !seen && !rooms[r.room] {
				order = append(order, r.room)
			}
			if r.typ == "room" {
				rooms[r.room] = true
				continue
			}
			msgs[r.room] = append(msgs[r.room], r)
			if !a.known(r.room) {
				rooms[r.room] = true
			}
		}
	}
	if err := a.putRooms(ctx, rooms); err != nil {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	bases, err := a.archivedSeqs(ctx, msgs)
	if err != nil {
		return err
	}
	var rows []archive.MessageRow
	upTo := map[int64]int64{}
	for _, room := range order {
		rs := msgs[room]
		if len(rs) == 0 {
			continue
		}
		filled, to, err := a.fill(ctx, room, bases[room], rs)
		if err != nil {
			return err
		}
		rows = append(rows, filled...)
		for _, r := range rs {
			rows = append(rows, archive.MessageRow{Room: r.room, Seq: r.seq, Body: r.body, RevMS: r.ms, RevSeq: r.sq})
		}
		if to > bases[room] {
			upTo[room] = to
		}
	}
	if err := a.sink.PutMessages(ctx, rows); err != nil {
		return fmt.Errorf("archive %d messages: %w", len(rows), err)
	}
	if o := a.cfg.Observer; o != nil {
		o.Wrote(len(rows), 0)
	}
	return a.moveArchived(ctx, upTo)
}

// known reports whether this process wrote room's row already, and marks it.
func (a *Archiver) known(room int64) bool {
	if a.rooms == nil || len(a.rooms) >= knownMax {
		a.rooms = map[int64]bool{}
	}
	if a.rooms[room] {
		return true
	}
	a.rooms[room] = true
	return false
}

// putRooms copies the rooms' current meta and members into the sink.
func (a *Archiver) putRooms(ctx context.Context, ids map[int64]bool) error {
	if len(ids) == 0 {
		return nil
	}
	type cmds struct {
		meta    *redis.MapStringStringCmd
		members *redis.StringSliceCmd
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	sort.Slice(list, func(i, j int) bool { return list[i] < list[j] })
	cs := make([]cmds, len(list))
	_, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range list {
			cs[i] = cmds{meta: p.HGetAll(ctx, a.keys.RoomMeta(id)), members: p.SMembers(ctx, a.keys.RoomMembers(id))}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read rooms to archive: %w", err)
	}
	rows := make([]archive.RoomRow, 0, len(list))
	for i, id := range list {
		m := cs[i].meta.Val()
		if len(m) == 0 || m["type"] == "" {
			continue // gone, or a meta hash holding only counters
		}
		row := archive.RoomRow{ID: id, Type: m["type"], Name: m["name"], CreatedAt: m["createdAt"]}
		row.CreatedBy, _ = strconv.ParseInt(m["createdBy"], 10, 64)
		for _, v := range cs[i].members.Val() {
			if u, err := strconv.ParseInt(v, 10, 64); err == nil {
				row.Members = append(row.Members, u)
			}
		}
		sort.Slice(row.Members, func(i, j int) bool { return row.Members[i] < row.Members[j] })
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	if err := a.sink.PutRooms(ctx, rows); err != nil {
		for _, r := range rows {
			delete(a.rooms, r.ID) // copy them again next time
		}
		return fmt.Errorf("archive %d rooms: %w", len(rows), err)
	}
	if o := a.cfg.Observer; o != nil {
		o.Wrote(0, len(rows))
	}
	return nil
}

// archivedSeqs reads the archivedSeq of each room of msgs.
func (a *Archiver) archivedSeqs(ctx context.Context, msgs map[int64][]record) (map[int64]int64, error) {
	cmds := map[int64]*redis.StringCmd{}
	_, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for room := range msgs {
			cmds[room] = p.HGet(ctx, a.keys.RoomMeta(room), "archivedSeq")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read archived positions: %w", err)
	}
	out := make(map[int64]int64, len(cmds))
	for room, c := range cmds {
		out[room], _ = c.Int64()
	}
	return out, nil
}

// fill returns the history entries of room between base (archivedSeq) and
// the first seq of rs that the stream no longer has, and the seq up to
// which PostgreSQL will hold every message once they and rs are written.
// Seqs neither in the stream nor in history any more (the archive was more
// than ARCHIVE_BACKLOG_MAX behind) are counted as lost and passed over.
func (a *Archiver) fill(ctx context.Context, room, base int64, rs []record) ([]archive.MessageRow, int64, error) {
	have := map[int64]bool{}
	first := int64(0)
	for _, r := range rs {
		have[r.seq] = true
		if r.seq > base && (first == 0 || r.seq < first) {
			first = r.seq
		}
	}
	if first == 0 {
		return nil, base, nil // only edits of archived messages
	}
	var rows []archive.MessageRow
	if first > base+1 {
		key := a.keys.RoomHistory(room)
		zs, err := a.rdb.ZRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{
			Min: "(" + strconv.FormatInt(base, 10), Max: "(" + strconv.FormatInt(first, 10), Count: fillMax}).Result()
		if err != nil {
			return nil, 0, fmt.Errorf("read history of room %d to fill the archive: %w", room, err)
		}
		oldest, err := a.rdb.ZRangeWithScores(ctx, key, 0, 0).Result()
		if err != nil {
			return nil, 0, fmt.Errorf("read history of room %d to fill the archive: %w", room, err)
		}
		for _, z := range zs {
			s := int64(z.Score)
			have[s] = true
			body, _ := z.Member.(string)
			rows = append(rows, archive.MessageRow{Room: room, Seq: s, Body: body})
		}
		// Below history's oldest entry nothing can be found any more.
		lostTo := first - 1
		if len(oldest) == 1 {
			lostTo = min(lostTo, int64(oldest[0].Score)-1)
		}
		lost := 0
		for s := base + 1; s <= lostTo; s++ {
			if !have[s] {
				have[s] = true
				lost++
			}
		}
		if lost > 0 {
			a.log.Error("archive lost messages: gone from the stream and from history", "room", room, "count", lost)
			if o := a.cfg.Observer; o != nil {
				o.Lost(lost)
			}
		}
	}
	to := base
	for have[to+1] {
		to++
	}
	return rows, to, nil
}

// moveArchived moves each room's archivedSeq forwards to upTo[room].
func (a *Archiver) moveArchived(ctx context.Context, upTo map[int64]int64) error {
	if len(upTo) == 0 {
		return nil
	}
	for attempt := 0; ; attempt++ {
		var cmds []*redis.Cmd
		_, _ = a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for room, seq := range upTo {
				cmds = append(cmds, archivedScript.EvalSha(ctx, p, []string{a.keys.RoomMeta(room)}, seq))
			}
			return nil
		})
		var err error
		for _, c := range cmds {
			if e := c.Err(); e != nil && err == nil {
				err = e
			}
		}
		if err == nil {
			return nil
		}
		if attempt == 0 && redis.HasErrorPrefix(err, "NOSCRIPT") {
			if err := archivedScript.Load(ctx, a.rdb).Err(); err != nil {
				return fmt.Errorf("load archived.lua: %w", err)
			}
			continue
		}
		return fmt.Errorf("move archived positions: %w", err)
	}
}
