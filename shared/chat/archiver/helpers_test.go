package archiver_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/chat/archiver"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// fixture is the send path with the archive feed on, over a private key
// space, a PostgreSQL database of its own, and an archiver (not running:
// tests call archivetest.Drain or start it).
type fixture struct {
	rdb   redis.UniversalClient
	keys  keys.Space
	store *archive.Store
	msgs  *messages.Store
	rooms *room.Store
	obs   *observer
	arc   *archiver.Archiver
}

type fixtureConfig struct {
	historyLen, backlogMax int
	dbURL                  string // "" = a new database
}

func newFixture(t *testing.T, rdb redis.UniversalClient, fc fixtureConfig) *fixture {
	t.Helper()
	if fc.dbURL == "" {
		fc.dbURL = archivetest.NewDB(t)
	}
	store := archivetest.Migrated(t, fc.dbURL, archive.Config{})
	if fc.historyLen == 0 {
		fc.historyLen = 100000
	}
	ks := redistest.Space(t)
	f := &fixture{rdb: rdb, keys: ks, store: store, obs: &observer{}}
	f.msgs = messages.NewStore(rdb, ks, messages.Config{HistoryLen: fc.historyLen,
		ArchiveFeed: messages.ArchiveFeed{On: true, StreamMax: 100000, BacklogMax: fc.backlogMax}, Archive: store})
	f.rooms = room.NewStore(rdb, ks, room.Config{ArchiveFeed: room.ArchiveFeed{On: true, StreamMax: 100000}})
	f.arc = archivetest.NewArchiver(rdb, ks, store, f.obs)
	return f
}

// archived returns every archived entry of room, oldest first.
func (f *fixture) archived(t testing.TB, roomID int64) []string {
	t.Helper()
	entries, more, err := f.store.Range(context.Background(), roomID, 0, 0, 1<<30, 0, true)
	if err != nil || more {
		t.Fatalf("read archive of room %d: more %v, %v", roomID, more, err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = string(e)
	}
	return out
}

// archivedSeq reads the room's archivedSeq from its meta hash.
func (f *fixture) archivedSeq(t testing.TB, roomID int64) int64 {
	t.Helper()
	n, err := f.rdb.HGet(context.Background(), f.keys.RoomMeta(roomID), "archivedSeq").Int64()
	if err != nil && err != redis.Nil {
		t.Fatal(err)
	}
	return n
}

// send sends n messages "<prefix> i" into roomID as sender and returns
// their JSON.
func (f *fixture) send(t testing.TB, roomID, sender int64, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		_, raw, err := f.msgs.Send(context.Background(), roomID, sender, 0, "message "+strconv.Itoa(i))
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		out[i] = string(raw)
	}
	return out
}

func seqOf(t testing.TB, entry string) int64 {
	t.Helper()
	var m struct{ Seq int64 }
	if err := json.Unmarshal([]byte(entry), &m); err != nil {
		t.Fatalf("entry %q: %v", entry, err)
	}
	return m.Seq
}

// counts are what the archiver reported.
type counts struct {
	failed, malformed, lost  int
	messages, rooms, records int
}

// observer records what the archiver reports.
type observer struct {
	mu sync.Mutex
	counts
}

func (o *observer) Round(n int, _ time.Duration, _ archiver.Status) {
	o.mu.Lock()
	o.records += n
	o.mu.Unlock()
}
func (o *observer) Failed() { o.mu.Lock(); o.failed++; o.mu.Unlock() }
func (o *observer) Wrote(m, r int) {
	o.mu.Lock()
	o.messages += m
	o.rooms += r
	o.mu.Unlock()
}
func (o *observer) Malformed() { o.mu.Lock(); o.malformed++; o.mu.Unlock() }
func (o *observer) Lost(n int) { o.mu.Lock(); o.lost += n; o.mu.Unlock() }

func (o *observer) get() counts {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts
}
