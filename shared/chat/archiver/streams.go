package archiver

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/redis/keys"
)

// Discovery and backlog reads on a cluster, where the streams are many.
const (
	scanEvery    = time.Second
	backlogEvery = 5 * time.Second
	pipelineMax  = 1000 // commands per pipeline
)

// stream is one archive stream and what the archiver knows of it.
type stream struct {
	key     string
	grouped bool // the consumer group exists (as far as we know)
	// pendingDone: this consumer's own unacknowledged records (from
	// before a restart) were read again; from then on it reads new ones.
	pendingDone bool
	lastClaim   time.Time
}

// batch is what one read returned from one stream.
type batch struct {
	key     string
	entries []redis.XMessage
}

// streamSet knows the archive streams: the one stream of a single Redis, or
// on a cluster the streams of the hash slots that hold rooms (found from the
// room id counter, since room ids are allocated 1, 2, 3, ...).
type streamSet struct {
	a           *Archiver
	all         []*stream
	bySlot      map[int]*stream
	scannedTo   int64 // room ids up to here have their slot's stream
	lastScan    time.Time
	lastBacklog time.Time
}

func newStreamSet(a *Archiver) *streamSet {
	s := &streamSet{a: a, bySlot: map[int]*stream{}}
	if !a.sharded {
		s.all = []*stream{{key: a.keys.ArchiveStream()}}
	}
	return s
}

// discover adds the streams of the slots of rooms created since the last
// look (cluster only).
func (s *streamSet) discover(ctx context.Context) error {
	if !s.a.sharded || time.Since(s.lastScan) < scanEvery {
		return nil
	}
	top, err := s.a.rdb.Get(ctx, s.a.keys.RoomIDs()).Int64()
	if err != nil && err != redis.Nil {
		return fmt.Errorf("read room id counter: %w", err)
	}
	s.lastScan = time.Now()
	for id := s.scannedTo + 1; id <= top && len(s.bySlot) < 16384; id++ {
		slot := keys.RoomSlot(id)
		if s.bySlot[slot] == nil {
			st := &stream{key: s.a.keys.ArchiveSlotStream(slot)}
			s.bySlot[slot] = st
			s.all = append(s.all, st)
		}
	}
	s.scannedTo = max(s.scannedTo, top)
	return nil
}

// ensureGroups creates the consumer group (and the empty stream) where it
// is not known to exist. The group starts at 0: records written before the
// first archiver ran are archived too.
func (s *streamSet) ensureGroups(ctx context.Context) error {
	var todo []*stream
	for _, st := range s.all {
		if !st.grouped {
			todo = append(todo, st)
		}
	}
	return chunks(len(todo), func(lo, hi int) error {
		cmds := make([]*redis.StatusCmd, hi-lo)
		_, _ = s.a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, st := range todo[lo:hi] {
				cmds[i] = p.XGroupCreateMkStream(ctx, st.key, keys.ArchiveGroup, "0")
			}
			return nil
		})
		for i, c := range cmds {
			if err := c.Err(); err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
				return fmt.Errorf("create consumer group on %s: %w", todo[lo+i].key, err)
			}
			todo[lo+i].grouped = true
		}
		return nil
	})
}

// read reads each stream once: first this consumer's own pending records
// (left by a crash), then new ones, plus records of dead consumers idle for
// Config.ClaimIdle. On a single Redis the read of new records blocks for up
// to Config.Block.
func (s *streamSet) read(ctx context.Context) ([]batch, error) {
	if err := s.discover(ctx); err != nil {
		return nil, err
	}
	if err := s.ensureGroups(ctx); err != nil {
		return nil, err
	}
	cfg := s.a.cfg
	var out []batch
	err := chunks(len(s.all), func(lo, hi int) error {
		part := s.all[lo:hi]
		reads := make([]*redis.XStreamSliceCmd, len(part))
		claims := make([]*redis.XAutoClaimCmd, len(part))
		block := time.Duration(-1)
		if !s.a.sharded {
			block = cfg.Block
		}
		s.run(ctx, func(p redis.Cmdable) {
			for i, st := range part {
				if time.Since(st.lastClaim) >= cfg.ClaimIdle {
					st.lastClaim = time.Now()
					claims[i] = p.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: st.key, Group: keys.ArchiveGroup,
						Consumer: cfg.Consumer, MinIdle: cfg.ClaimIdle, Start: "0-0", Count: int64(cfg.Batch)})
				}
				from, b := ">", block
				if !st.pendingDone {
					from, b = "0", -1
				}
				reads[i] = p.XReadGroup(ctx, &redis.XReadGroupArgs{Group: keys.ArchiveGroup, Consumer: cfg.Consumer,
					Streams: []string{st.key, from}, Count: int64(cfg.Batch), Block: b})
			}
		})
		for i, st := range part {
			var got []redis.XMessage
			if c := claims[i]; c != nil {
				msgs, _, err := c.Result()
				if err := s.check(st, err); err != nil {
					return err
				}
				got = append(got, msgs...)
			}
			res, err := reads[i].Result()
			if err := s.check(st, err); err != nil {
				return err
			}
			n := 0
			for _, r := range res {
				got = append(got, r.Messages...)
				n += len(r.Messages)
			}
			if !st.pendingDone && n == 0 && err == nil {
				st.pendingDone = true
			}
			if len(got) > 0 {
				out = append(out, batch{key: st.key, entries: dedupe(got)})
			}
		}
		return nil
	})
	return out, err
}

// run runs f's commands: in one pipeline on a cluster; one by one on a
// single Redis, whose one read blocks (a pipeline would hold its reply to
// the connection's read timeout rather than the command's).
func (s *streamSet) run(ctx context.Context, f func(p redis.Cmdable)) {
	if !s.a.sharded {
		f(s.a.rdb)
		return
	}
	_, _ = s.a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		f(p)
		return nil
	})
}

// check maps a stream command's error: nil and redis.Nil (nothing new) are
// fine; NOGROUP means the stream or its group is gone (Redis flushed or
// restored), to be created again next round.
func (s *streamSet) check(st *stream, err error) error {
	switch {
	case err == nil || err == redis.Nil:
		return nil
	case redis.HasErrorPrefix(err, "NOGROUP"):
		st.grouped, st.pendingDone = false, false
		return nil
	}
	return fmt.Errorf("read %s: %w", st.key, err)
}

// ack acknowledges the batches' records and trims every record before the
// oldest one still unacknowledged, so a stream holds only what waits for
// PostgreSQL.
func (s *streamSet) ack(ctx context.Context, batches []batch) error {
	return chunks(len(batches), func(lo, hi int) error {
		part := batches[lo:hi]
		pend := make([]*redis.XPendingCmd, len(part))
		_, err := s.a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, b := range part {
				ids := make([]string, len(b.entries))
				for j, e := range b.entries {
					ids[j] = e.ID
				}
				p.XAck(ctx, b.key, keys.ArchiveGroup, ids...)
				pend[i] = p.XPending(ctx, b.key, keys.ArchiveGroup)
			}
			return nil
		})
		if err != nil && err != redis.Nil {
			return fmt.Errorf("acknowledge archive records: %w", err)
		}
		_, err = s.a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, b := range part {
				// Nothing pending: every record read so far is written,
				// and records not read yet come after the batch's last.
				minID := nextID(b.entries[len(b.entries)-1].ID)
				if pd, err := pend[i].Result(); err == nil && pd.Count > 0 && idLess(pd.Lower, minID) {
					minID = pd.Lower
				}
				p.XTrimMinID(ctx, b.key, minID)
			}
			return nil
		})
		if err != nil && err != redis.Nil {
			return fmt.Errorf("trim archive streams: %w", err)
		}
		return nil
	})
}

// retry makes the next read start with this consumer's pending records
// (those of a round that failed), so they are written before newer ones.
func (s *streamSet) retry() {
	for _, st := range s.all {
		st.pendingDone = false
	}
}

// backlog returns the records waiting in all streams and the age of the
// oldest; fresh is false when it was not read this round (a cluster reads
// it every backlogEvery).
func (s *streamSet) backlog(ctx context.Context) (n int64, lag float64, fresh bool, err error) {
	if s.a.sharded && time.Since(s.lastBacklog) < backlogEvery {
		return 0, 0, false, nil
	}
	return s.readBacklog(ctx)
}

// readBacklog is backlog, read now.
func (s *streamSet) readBacklog(ctx context.Context) (n int64, lag float64, fresh bool, err error) {
	s.lastBacklog = time.Now()
	oldest := int64(0)
	err = chunks(len(s.all), func(lo, hi int) error {
		part := s.all[lo:hi]
		lens := make([]*redis.IntCmd, len(part))
		firsts := make([]*redis.XMessageSliceCmd, len(part))
		_, err := s.a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, st := range part {
				lens[i] = p.XLen(ctx, st.key)
				firsts[i] = p.XRangeN(ctx, st.key, "-", "+", 1)
			}
			return nil
		})
		if err != nil && err != redis.Nil {
			return fmt.Errorf("read archive backlog: %w", err)
		}
		for i := range part {
			n += lens[i].Val()
			if f := firsts[i].Val(); len(f) == 1 {
				if ms := idMillis(f[0].ID); ms > 0 && (oldest == 0 || ms < oldest) {
					oldest = ms
				}
			}
		}
		return nil
	})
	if oldest > 0 {
		lag = max(0, float64(time.Now().UnixMilli()-oldest)/1000)
	}
	return n, lag, err == nil, err
}

// chunks calls f on [lo, hi) ranges of at most pipelineMax of n items.
func chunks(n int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += pipelineMax {
		if err := f(lo, min(n, lo+pipelineMax)); err != nil {
			return err
		}
	}
	return nil
}

// dedupe drops repeated ids (a record both claimed and read again), keeping
// stream order.
func dedupe(msgs []redis.XMessage) []redis.XMessage {
	seen := make(map[string]bool, len(msgs))
	out := msgs[:0]
	for _, m := range msgs {
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b redis.XMessage) int {
		switch {
		case idLess(a.ID, b.ID):
			return -1
		case idLess(b.ID, a.ID):
			return 1
		}
		return 0
	})
	return out
}

// parseID splits a stream entry id "ms-seq".
func parseID(id string) (ms, seq int64, ok bool) {
	a, b, found := strings.Cut(id, "-")
	ms, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	return ms, seq, found && err1 == nil && err2 == nil
}

func idMillis(id string) int64 {
	ms, _, _ := parseID(id)
	return ms
}

// nextID is the smallest id after id.
func nextID(id string) string {
	ms, seq, ok := parseID(id)
	if !ok {
		return id
	}
	return strconv.FormatInt(ms, 10) + "-" + strconv.FormatInt(seq+1, 10)
}

// idLess orders stream ids.
func idLess(a, b string) bool {
	am, as, _ := parseID(a)
	bm, bs, _ := parseID(b)
	return am < bm || (am == bm && as < bs)
}
