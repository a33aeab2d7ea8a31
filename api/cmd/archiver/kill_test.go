package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// The archiver binary killed (SIGKILL) in the middle of a stream of 10,000
// messages and started again loses and duplicates nothing in PostgreSQL:
// what it had read and not acknowledged it reads again and writes again,
// which changes nothing.
func TestArchiverKilledMidStreamLosesAndDuplicatesNothing(t *testing.T) {
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "archiver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build the archiver: %v\n%s", err, out)
	}
	dbURL := archivetest.NewDB(t)
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	feed := messages.ArchiveFeed{On: true, StreamMax: 100000, BacklogMax: 100000}
	msgs := messages.NewStore(rdb, ks, messages.Config{HistoryLen: 100, ArchiveFeed: feed})
	rooms := room.NewStore(rdb, ks, room.Config{ArchiveFeed: room.ArchiveFeed{On: true, StreamMax: 100000}})
	r, err := rooms.CreateGroup(ctx, 1, "killed", []int64{2})
	if err != nil {
		t.Fatal(err)
	}
	store, err := archive.Open(ctx, dbURL, archive.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	start := func() *exec.Cmd {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "REDIS_URL="+srv.URL(), "REDIS_PREFIX="+ks.Prefix(),
			"ARCHIVE_DATABASE_URL="+dbURL, "ARCHIVER_ADDR=127.0.0.1:0", "ARCHIVER_CONSUMER=kill-test",
			"ARCHIVER_BATCH=50", "LOG_LEVEL=warn")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	first := start()

	const total = 10000
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := map[int64]string{}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < total; i += 8 {
				m, raw, err := msgs.Send(ctx, r.ID, int64(1+i%2), 0, "message "+strconv.Itoa(i))
				if err != nil {
					t.Errorf("send %d: %v", i, err)
					return
				}
				mu.Lock()
				sent[m.Seq] = string(raw)
				mu.Unlock()
			}
		}(w)
	}
	archived := func() int64 {
		n, _ := rdb.HGet(ctx, ks.RoomMeta(r.ID), "archivedSeq").Int64()
		return n
	}
	redistest.EventuallyWithin(t, 60*time.Second, "the archiver to be part way", func() bool { return archived() >= 1000 })
	_ = first.Process.Signal(syscall.SIGKILL)
	_ = first.Wait()
	killedAt := archived()
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("killed with %d of %d messages archived", killedAt, total)
	if killedAt >= total {
		t.Fatalf("the archiver had archived all %d messages before the kill; the test did not kill it mid-stream", total)
	}

	second := start()
	defer func() { _ = second.Process.Signal(syscall.SIGTERM); _ = second.Wait() }()
	redistest.EventuallyWithin(t, 90*time.Second, "the restarted archiver to catch up", func() bool { return archived() == total })
	entries, more, err := store.Range(ctx, r.ID, 0, 0, 2*total, 0, true)
	if err != nil || more {
		t.Fatalf("read the archive: more %v, %v", more, err)
	}
	got := make([]string, len(entries))
	for i, e := range entries {
		got[i] = string(e)
	}
	want := make([]string, total)
	for i := range want {
		want[i] = sent[int64(i+1)]
	}
	if !slices.Equal(got, want) {
		t.Fatalf("archive holds %d entries, want exactly the %d sent (seq 1..%d, once each)", len(got), total, total)
	}
}
