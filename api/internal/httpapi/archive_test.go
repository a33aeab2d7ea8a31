package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/api/internal/httpapi"
	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// archiveHistoryLen is HISTORY_LEN of the archive tests: Redis keeps about
// this many messages of a room once PostgreSQL holds the older ones.
const archiveHistoryLen = 100

// archiveEnv is an API with the archive on, as cmd/api wires it: its
// stores feed the archive streams, and its message store reads history
// older than Redis keeps from PostgreSQL (through proxy, so a test can
// take PostgreSQL away). filler fills a room and archives it into the same
// database. It sends through a store of its own: the same send path
// (send.lua with the feed) without the post-send notifications, which
// cmd/api runs off the send path and the test env inline, tripling the
// time of a fill.
type archiveEnv struct {
	*env
	proxy  *archivetest.Proxy
	filler archivetest.Filler
}

func newArchiveEnv(t *testing.T, change ...func(*httpapi.Config, *httpapi.Deps)) *archiveEnv {
	t.Helper()
	dbURL := archivetest.NewDB(t)
	sink := archivetest.Migrated(t, dbURL, archive.Config{})
	proxy := archivetest.NewProxy(t, dbURL)
	// Lazy, as cmd/api opens it: the API serves while PostgreSQL is down.
	reader := archivetest.Open(t, proxy.URL(), archive.Config{Lazy: true})
	e := newEnvStores(t, envStores{
		rooms: func(c *room.Config) { c.ArchiveFeed = room.ArchiveFeed{On: true} },
		messages: func(c *messages.Config) {
			c.HistoryLen = archiveHistoryLen
			c.ArchiveFeed = messages.ArchiveFeed{On: true}
			c.Archive = reader
		},
	}, change...)
	arc := archivetest.NewArchiver(e.rdb, e.ks, sink, nil)
	sender := messages.NewStore(e.rdb, e.ks, messages.Config{MaxBytes: maxMessage, HistoryLen: archiveHistoryLen,
		ArchiveFeed: messages.ArchiveFeed{On: true}})
	return &archiveEnv{env: e, proxy: proxy,
		filler: archivetest.Filler{Msgs: sender, HistoryLen: archiveHistoryLen, Arc: arc}}
}

func pageSeq(t testing.TB, m json.RawMessage) int64 {
	t.Helper()
	var v struct{ Seq int64 }
	if err := json.Unmarshal(m, &v); err != nil || v.Seq == 0 {
		t.Fatalf("entry %s: no seq (%v)", m, err)
	}
	return v.Seq
}

// walk reads every page of roomID's history as user over REST, each page
// continuing after the last entry of the one before (its seq as cursor,
// the query param cursor: "before" or "after") until hasMore is false,
// and returns the entries in the order the pages gave them.
func (a *archiveEnv) walk(t testing.TB, roomID, user int64, cursor string, limit int) (all []json.RawMessage, pages int) {
	t.Helper()
	q := fmt.Sprintf("limit=%d", limit)
	if cursor == "after" {
		q += "&after=0"
	}
	for {
		var p historyPage
		a.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d/messages?%s", roomID, q), user, nil).want(t, http.StatusOK, &p)
		pages++
		if len(p.Messages) == 0 {
			if p.HasMore {
				t.Fatalf("page %d (%s) is empty and says hasMore", pages, q)
			}
			return all, pages
		}
		all = append(all, p.Messages...)
		if !p.HasMore {
			return all, pages
		}
		if pages > 10*len(all) {
			t.Fatalf("%d pages for %d entries: paging does not advance", pages, len(all))
		}
		q = fmt.Sprintf("limit=%d&%s=%d", limit, cursor, pageSeq(t, p.Messages[len(p.Messages)-1]))
	}
}

// assertAll checks that got holds the entries of sent (by seq) in the
// given order, every seq once, byte for byte.
func assertAll(t testing.TB, got []json.RawMessage, sent [][]byte, newestFirst bool) {
	t.Helper()
	n := len(sent) - 1
	if len(got) != n {
		t.Fatalf("read back %d messages, want %d", len(got), n)
	}
	for i, m := range got {
		want := int64(i + 1)
		if newestFirst {
			want = int64(n - i)
		}
		if seq := pageSeq(t, m); seq != want {
			t.Fatalf("entry %d has seq %d, want %d: order, gap or duplicate", i, seq, want)
		}
		if !bytes.Equal(m, sent[want]) {
			t.Fatalf("seq %d reads back as %s, sent as %s", want, m, sent[want])
		}
	}
}

// Issue #16: 10,000 messages into a room with HISTORY_LEN 100, archived as
// they go; every one of them reads back over REST, newest first with
// before pages and oldest first with after pages: in order, no gap, no
// duplicate, byte for byte as sent, although Redis holds only the newest
// hundred. Pages are bounded by bytes (24 KiB) or by count (limit), so
// pages are cut both ways across the Redis/PostgreSQL boundary.
func TestHistoryOfTenThousandReadsOverRESTThroughTheArchive(t *testing.T) {
	a := newArchiveEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.MaxResponseBytes = 24 << 10 })
	roomID := a.createGroup(t, 1, "archive", 2)
	const total = 10000
	sent := a.filler.Fill(t, roomID, 1, total)
	w := archivetest.RedisWindow(t, a.rdb, a.ks, roomID)
	t.Logf("Redis holds %d messages (seq %d..%d); PostgreSQL the rest", w.Len, w.Oldest, w.Newest)
	if w.Len > 2*archiveHistoryLen || w.Oldest <= total-2*archiveHistoryLen {
		t.Fatalf("Redis holds %d messages from seq %d: the test would not read the archive", w.Len, w.Oldest)
	}

	start := time.Now()
	desc, pages := a.walk(t, roomID, 2, "before", 500)
	t.Logf("newest first: %d pages (limit 500, 24 KiB) in %v", pages, time.Since(start).Round(time.Millisecond))
	assertAll(t, desc, sent, true)

	start = time.Now()
	asc, pages := a.walk(t, roomID, 2, "after", 97)
	t.Logf("oldest first: %d pages (limit 97) in %v", pages, time.Since(start).Round(time.Millisecond))
	assertAll(t, asc, sent, false)
}

// With PostgreSQL down, a page that needs messages older than Redis keeps
// answers 503 problem+json (Retry-After 1), while pages Redis serves alone
// still answer 200; once PostgreSQL is back the old pages answer again.
func TestHistoryBelowRedisAnswers503WhileTheArchiveIsDown(t *testing.T) {
	a := newArchiveEnv(t)
	roomID := a.createGroup(t, 1, "archive", 2)
	const total = 1000
	sent := a.filler.Fill(t, roomID, 1, total)
	oldest := archivetest.RedisWindow(t, a.rdb, a.ks, roomID).Oldest
	if oldest <= 1 {
		t.Fatalf("Redis holds every message from seq %d: nothing to read from the archive", oldest)
	}
	path := func(q string) string { return fmt.Sprintf("/api/v1/chat-rooms/%d/messages?%s", roomID, q) }
	get := func(q string) historyPage {
		t.Helper()
		var p historyPage
		a.request(t, "GET", path(q), 2, nil).want(t, http.StatusOK, &p)
		return p
	}
	wantSeqs := func(q string, p historyPage, from, to int64, more bool) {
		t.Helper()
		step := int64(1)
		if from > to {
			step = -1
		}
		if int64(len(p.Messages)) != (to-from)*step+1 || p.HasMore != more {
			t.Fatalf("%s: %d messages, hasMore %v; want %d..%d, hasMore %v", q, len(p.Messages), p.HasMore, from, to, more)
		}
		for i, m := range p.Messages {
			if seq := from + int64(i)*step; !bytes.Equal(m, sent[seq]) {
				t.Fatalf("%s: entry %d is %s, want seq %d %s", q, i, m, seq, sent[seq])
			}
		}
	}
	// Read once while up, so the reader's pool holds connections the
	// outage then cuts.
	wantSeqs("before=100&limit=50", get("before=100&limit=50"), 99, 50, true)

	a.proxy.Down()
	wantSeqs("limit=50", get("limit=50"), total, total-49, true)
	q := fmt.Sprintf("after=%d&limit=500", oldest)
	wantSeqs(q, get(q), oldest+1, total, false)
	q = fmt.Sprintf("before=%d&after=%d&limit=500", total, oldest-1)
	wantSeqs(q, get(q), total-1, oldest, false)
	for _, q := range []string{"before=100&limit=50", "after=0&limit=10", fmt.Sprintf("before=%d", oldest+5),
		fmt.Sprintf("after=%d&limit=10", oldest-3)} {
		r := a.request(t, "GET", path(q), 2, nil)
		r.wantProblem(t, http.StatusServiceUnavailable, "archived history is unavailable")
		if r.header.Get("Retry-After") != "1" {
			t.Fatalf("%s: 503 without Retry-After: 1 (%v)", q, r.header)
		}
	}

	if !strings.Contains(a.logs.String(), "request failed: archive (PostgreSQL) unavailable") {
		t.Fatalf("the 503s were not logged as an archive outage:\n%s", a.logs.String())
	}

	a.proxy.Up()
	redistest.Eventually(t, "old pages answer again once PostgreSQL is back", func() bool {
		return a.request(t, "GET", path("before=100&limit=50"), 2, nil).status == http.StatusOK
	})
	wantSeqs("before=100&limit=50", get("before=100&limit=50"), 99, 50, true)
	wantSeqs("after=0&limit=10", get("after=0&limit=10"), 1, 10, true)
}
