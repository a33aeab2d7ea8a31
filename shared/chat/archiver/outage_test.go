package archiver_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// PostgreSQL down for 10 s delays the archive and nothing else: every send
// succeeds meanwhile, and once it is back the archive catches up with every
// message, none twice. The send latencies before, during and after are
// printed, not asserted (figures belong to make bench).
func TestPostgresOutageDelaysOnlyTheArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 14 s")
	}
	ctx := context.Background()
	proxy := archivetest.NewProxy(t, archivetest.NewDB(t))
	f := newFixture(t, srv.Client(t), fixtureConfig{historyLen: 50, dbURL: proxy.URL()})
	r, err := f.rooms.CreateGroup(ctx, 1, "outage", []int64{2})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = f.arc.Run(runCtx) }()
	defer func() { stop(); wg.Wait() }()

	const rate = 200 // messages a second
	phases := []struct {
		name string
		dur  time.Duration
		do   func()
	}{{"before", 2 * time.Second, nil}, {"postgres down", 10 * time.Second, proxy.Down}, {"after", 2 * time.Second, proxy.Up}}
	var want []string
	for _, ph := range phases {
		if ph.do != nil {
			ph.do()
		}
		var lat []time.Duration
		tick := time.NewTicker(time.Second / rate)
		end := time.Now().Add(ph.dur)
		for time.Now().Before(end) {
			<-tick.C
			start := time.Now()
			_, raw, err := f.msgs.Send(ctx, r.ID, 1, 0, fmt.Sprintf("%s %d", ph.name, len(lat)))
			if err != nil {
				t.Fatalf("send during %q failed: %v", ph.name, err)
			}
			lat = append(lat, time.Since(start))
			want = append(want, string(raw))
		}
		tick.Stop()
		slices.Sort(lat)
		t.Logf("%-13s %4d sends, none failed: p50 %v, p99 %v, max %v", ph.name, len(lat),
			lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	}
	redistest.EventuallyWithin(t, 30*time.Second, "the archive to catch up after the outage", func() bool {
		return f.archivedSeq(t, r.ID) == int64(len(want))
	})
	if got := f.archived(t, r.ID); !slices.Equal(got, want) {
		t.Fatalf("archive holds %d entries, want the %d sent, in order, once each", len(got), len(want))
	}
	if c := f.obs.get(); c.failed == 0 || c.lost != 0 {
		t.Fatalf("archiver saw %d failed rounds and %d lost messages; want some failures (PostgreSQL was down) and no loss", c.failed, c.lost)
	}
	t.Logf("archive caught up: %d messages, %d failed rounds during the outage", len(want), f.obs.get().failed)
}
