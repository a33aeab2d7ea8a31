package archivetest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/chat/archiver"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// Open opens an archive store on dbURL with cfg and closes it when t ends.
func Open(t testing.TB, dbURL string, cfg archive.Config) *archive.Store {
	t.Helper()
	s, err := archive.Open(context.Background(), dbURL, cfg)
	if err != nil {
		t.Fatalf("archivetest: open the archive: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Migrated is Open followed by Migrate: a store on the current schema.
func Migrated(t testing.TB, dbURL string, cfg archive.Config) *archive.Store {
	t.Helper()
	s := Open(t, dbURL, cfg)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("archivetest: migrate the archive: %v", err)
	}
	return s
}

// NewArchiver returns an archiver of ks's archive streams on rdb into sink
// for tests: consumer "test", Block and Retry 20ms, no log, obs (may be
// nil) told of each round. It does not run: tests call Drain, or Run it.
func NewArchiver(rdb redis.UniversalClient, ks keys.Space, sink archiver.Sink, obs archiver.Observer) *archiver.Archiver {
	return archiver.New(rdb, ks, sink, archiver.Config{Consumer: "test", Block: 20 * time.Millisecond,
		Retry: 20 * time.Millisecond, Observer: obs, Logger: slog.New(slog.DiscardHandler)})
}

// Drain runs arc's rounds until one archives nothing and the streams hold
// nothing; it fails t when a round fails or after 1,000 rounds.
func Drain(t testing.TB, arc *archiver.Archiver) {
	t.Helper()
	ctx := context.Background()
	for range 1000 {
		n, err := arc.Round(ctx)
		if err != nil {
			t.Fatalf("archive round: %v", err)
		}
		if n > 0 {
			continue
		}
		backlog, _, err := arc.Backlog(ctx)
		if err != nil {
			t.Fatalf("archive backlog: %v", err)
		}
		if backlog == 0 {
			return
		}
	}
	b, _, _ := arc.Backlog(ctx)
	t.Fatalf("the archive did not drain: %+v, backlog %d", arc.Status(), b)
}

// Text is the text of the i-th message of Fill: unique, and of varying
// length (so byte-bounded pages cut at varying counts).
func Text(i int) string {
	return fmt.Sprintf("message %d %s", i, strings.Repeat("x", i*7%60))
}

// Filler fills a room past what Redis keeps of it, archiving as a running
// archiver would.
type Filler struct {
	// Msgs is the send path: a message store with the archive feed on.
	Msgs *messages.Store
	// HistoryLen is Msgs' HistoryLen (how many messages Redis keeps).
	HistoryLen int
	// Arc archives the feed of Msgs' key space; Fill drains it.
	Arc *archiver.Archiver
}

// Fill sends n messages (Text(0..n-1)) from sender into roomID, which must
// have had no message before, eight at a time. It drains the archive after
// every 1,000 of them (as a running archiver keeps up) and before the last
// HistoryLen: the trim guard then lets Redis drop what PostgreSQL holds,
// and Redis ends with the newest HistoryLen messages only. It returns each
// message's JSON as Send returned it, by seq (index 0 unused).
func (f Filler) Fill(t testing.TB, roomID, sender int64, n int) [][]byte {
	t.Helper()
	const workers, every = 8, 1000
	bySeq := make([][]byte, n+1)
	var mu sync.Mutex
	start := time.Now()
	var draining time.Duration
	for lo := 0; lo < n; {
		hi := min(lo+every, n)
		if lo < n-f.HistoryLen && hi > n-f.HistoryLen {
			hi = n - f.HistoryLen
		}
		next := make(chan int)
		errs := make(chan error, workers)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := range next {
					m, raw, err := f.Msgs.Send(context.Background(), roomID, sender, 0, Text(i))
					if err == nil && (m.Seq < 1 || m.Seq > int64(n)) {
						err = fmt.Errorf("message %d got seq %d", i, m.Seq)
					}
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					bySeq[m.Seq] = raw
					mu.Unlock()
				}
			})
		}
		for i := lo; i < hi; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			t.Fatalf("send: %v", err)
		}
		d := time.Now()
		Drain(t, f.Arc)
		draining += time.Since(d)
		lo = hi
	}
	t.Logf("sent and archived %d messages in %v (%v of it draining the archive)", n,
		time.Since(start).Round(time.Millisecond), draining.Round(time.Millisecond))
	for seq := 1; seq <= n; seq++ {
		if bySeq[seq] == nil {
			t.Fatalf("no message got seq %d", seq)
		}
	}
	return bySeq
}

// Window is what Redis holds of a room's history.
type Window struct {
	Len            int64 // how many messages
	Oldest, Newest int64 // their lowest and highest seq
}

// RedisWindow reads what Redis holds of roomID's history; it fails t when
// Redis holds none.
func RedisWindow(t testing.TB, rdb redis.UniversalClient, ks keys.Space, roomID int64) Window {
	t.Helper()
	ctx := context.Background()
	key := ks.RoomHistory(roomID)
	first, err := rdb.ZRangeWithScores(ctx, key, 0, 0).Result()
	if err != nil || len(first) == 0 {
		t.Fatalf("room %d's Redis history: %v %v", roomID, first, err)
	}
	last, err := rdb.ZRangeWithScores(ctx, key, -1, -1).Result()
	if err != nil || len(last) == 0 {
		t.Fatalf("room %d's Redis history: %v %v", roomID, last, err)
	}
	n, err := rdb.ZCard(ctx, key).Result()
	if err != nil {
		t.Fatalf("room %d's Redis history: %v", roomID, err)
	}
	return Window{Len: n, Oldest: int64(first[0].Score), Newest: int64(last[0].Score)}
}
