package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/api/internal/httpapi"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// bigText is a 4 KB message that JSON-escapes to about 24 KB: the shape
// of the attack (each '<' is stored as \u003c).
var bigText = strings.Repeat("<", 4096)

// sendBig stores n big messages into roomID from sender, through a send
// path that accepts 4 KB texts (the test API's own takes 100 bytes).
func (e *env) sendBig(t testing.TB, roomID, sender int64, n int) {
	t.Helper()
	big := messages.NewStore(e.rdb, e.ks, messages.Config{MaxBytes: len(bigText)})
	for i := range n {
		if _, _, err := big.Send(context.Background(), roomID, sender, 0, fmt.Sprintf("%04d%s", i, bigText[4:])); err != nil {
			t.Fatal(err)
		}
	}
}

// historyPage is a decoded history answer.
type historyPage struct {
	Messages []json.RawMessage `json:"messages"`
	HasMore  bool              `json:"hasMore"`
}

// TestHistoryPageIsBoundedByBytes: a page of 500 messages of 24 KB each
// (12 MB) is cut at API_MAX_RESPONSE_BYTES with hasMore, and paging on
// with before returns every message exactly once.
func TestHistoryPageIsBoundedByBytes(t *testing.T) {
	const total = 500
	e := newEnv(t)
	id := e.createGroup(t, 8, "big", 3)
	e.sendBig(t, id, 8, total)
	var seqs []int64
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/messages?limit=500", id)
	for pages := 0; ; pages++ {
		if pages > total {
			t.Fatal("paging does not end")
		}
		res := e.request(t, "GET", path, 3, nil)
		var page historyPage
		res.want(t, http.StatusOK, &page)
		if len(res.body) > 256<<10+4096 { // the bound, plus envelope and readBy
			t.Fatalf("a page of %d bytes (%d messages), want at most 256 KiB", len(res.body), len(page.Messages))
		}
		if len(page.Messages) == 0 {
			t.Fatalf("an empty page after %d messages", len(seqs))
		}
		for _, m := range page.Messages {
			var msg struct{ Seq int64 }
			if err := json.Unmarshal(m, &msg); err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, msg.Seq)
		}
		if !page.HasMore {
			break
		}
		path = fmt.Sprintf("/api/v1/chat-rooms/%d/messages?limit=500&before=%d", id, seqs[len(seqs)-1])
	}
	want := make([]int64, total)
	for i := range want {
		want[i] = int64(total - i)
	}
	if !slices.Equal(seqs, want) {
		t.Fatalf("paged %d messages %v…, want %d to 1 once each", len(seqs), seqs[:min(len(seqs), 10)], total)
	}
}

// holdReads is a go-redis hook that holds the first n history reads until
// released, so a test can keep requests in flight deterministically.
type holdReads struct {
	n       int
	release chan struct{}

	mu      sync.Mutex
	entered int
}

func newHoldReads(n int) *holdReads { return &holdReads{n: n, release: make(chan struct{})} }

func (h *holdReads) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *holdReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *holdReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		switch cmd.Name() {
		case "evalsha", "eval", "zrangebyscore", "zrevrangebyscore": // history reads, before and after history.lua
			h.mu.Lock()
			hold := h.entered < h.n
			if hold {
				h.entered++
			}
			h.mu.Unlock()
			if hold {
				<-h.release
			}
		}
		return next(ctx, cmd)
	}
}

func (h *holdReads) held() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.entered
}

// holdHistory starts n history requests, one per user of users (cycling),
// and returns once all n are held inside Redis; release lets them answer
// and waits for them.
func (e *env) holdHistory(t *testing.T, roomID int64, users []int64, n int) (release func()) {
	t.Helper()
	hook := newHoldReads(n)
	e.rdb.AddHook(hook)
	answers := make(chan resp, n)
	for i := range n {
		go func() {
			answers <- e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", roomID), users[i%len(users)], nil)
		}()
	}
	var once sync.Once
	open := func() { once.Do(func() { close(hook.release) }) }
	t.Cleanup(open) // a failing test must not leave the server waiting
	redistest.Eventually(t, fmt.Sprintf("%d history reads in flight", n), func() bool { return hook.held() == n })
	return func() {
		open()
		for range n {
			(<-answers).want(t, http.StatusOK, nil)
		}
	}
}

// TestHeavyRequestsPerUser: a user with API_HEAVY_PER_USER (4) history
// reads in flight gets 429 with Retry-After: 1 for a fifth, and for a room
// list; other users are served meanwhile, and the user again afterwards.
func TestHeavyRequestsPerUser(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup(t, 8, "busy", 3)
	e.request(t, "POST", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id), 8, map[string]any{"message": "hi"}).want(t, http.StatusCreated, nil)
	release := e.holdHistory(t, id, []int64{8}, 4)
	for _, path := range []string{fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id), "/api/v1/chat-rooms"} {
		res := e.request(t, "GET", path, 8, nil)
		res.wantProblem(t, http.StatusTooManyRequests, "in flight for this user")
		if got := res.header.Get("Retry-After"); got != "1" {
			t.Errorf("GET %s: Retry-After %q, want 1", path, got)
		}
	}
	e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id), 3, nil).want(t, http.StatusOK, nil)
	e.request(t, "GET", "/api/v1/chat-rooms/"+fmt.Sprint(id), 8, nil).want(t, http.StatusOK, nil) // not heavy
	release()
	e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id), 8, nil).want(t, http.StatusOK, nil)
}

// TestHeavyRequestsPerProcess: API_HEAVY_MAX bounds heavy requests of all
// users together.
func TestHeavyRequestsPerProcess(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.HeavyMax = 3 })
	id := e.createGroup(t, 8, "busy", 3, 5)
	release := e.holdHistory(t, id, []int64{8, 3, 5}, 3)
	res := e.request(t, "GET", "/api/v1/chat-rooms", 7, nil)
	res.wantProblem(t, http.StatusTooManyRequests, "on this server")
	if got := res.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	release()
	e.request(t, "GET", "/api/v1/chat-rooms", 7, nil).want(t, http.StatusOK, nil)
}

// countingNotifier counts the watches in force (long polls past their
// checks).
type countingNotifier struct {
	httpapi.Notifier
	mu      sync.Mutex
	watches int
}

func (n *countingNotifier) Notify(ctx context.Context, channel string) (<-chan struct{}, func(), error) {
	ch, stop, err := n.Notifier.Notify(ctx, channel)
	if err != nil {
		return ch, stop, err
	}
	n.mu.Lock()
	n.watches++
	n.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() { n.mu.Lock(); n.watches--; n.mu.Unlock() })
		stop()
	}, nil
}

func (n *countingNotifier) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.watches
}

// TestWaitingLongPollsHoldNoHeavySlot: a user's four waiting long polls
// leave their history reads and room lists alone.
func TestWaitingLongPollsHoldNoHeavySlot(t *testing.T) {
	var notes *countingNotifier
	e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
		c.MaxWait = 10 * time.Second
		notes = &countingNotifier{Notifier: d.Notifier}
		d.Notifier = notes
	})
	id := e.createGroup(t, 8, "polls", 3)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := newRequest(t, "GET", e.url+fmt.Sprintf("/api/v1/chat-rooms/%d/messages?after=0&wait=10s", id), nil)
			req.Header.Set("Authorization", "Bearer "+token(t, 8))
			if res, err := http.DefaultClient.Do(req.WithContext(ctx)); err == nil {
				res.Body.Close()
			}
		}()
	}
	redistest.Eventually(t, "four long polls watching", func() bool { return notes.count() == 4 })
	// They give their heavy slots back once their read found nothing.
	redistest.Eventually(t, "a history read beside four waiting polls", func() bool {
		return e.request(t, "GET", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id), 8, nil).status == http.StatusOK
	})
	e.request(t, "GET", "/api/v1/chat-rooms", 8, nil).want(t, http.StatusOK, nil)
	if n := notes.count(); n != 4 {
		t.Fatalf("%d long polls still waiting, want 4", n)
	}
}

// roomPage is a decoded room list answer.
type roomPage struct {
	Rooms []struct {
		room.Room
		MemberCount int   `json:"memberCount"`
		UnreadCount int64 `json:"unreadCount"`
	} `json:"rooms"`
	NextCursor *string `json:"nextCursor"`
}

// TestRoomListPaging: 120 rooms come in pages of 50, 50 and 20, each room
// once, most recent activity first; groups without memberIds.
func TestRoomListPaging(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var ids []int64
	for i := range 120 {
		if i%10 == 0 {
			r, _, err := e.rooms.CreateDirect(ctx, 8, int64(1000+i))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
			continue
		}
		r, err := e.rooms.CreateGroup(ctx, 8, fmt.Sprint("g", i), []int64{3, 5})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	for i := 0; i < len(ids); i += 7 { // some rooms get newer activity
		if _, _, err := e.msgs.Send(ctx, ids[i], 8, 0, "bump"); err != nil {
			t.Fatal(err)
		}
	}
	full, err := e.rooms.ListForUser(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, r := range full {
		want = append(want, r.ID)
	}
	var got []int64
	var sizes []int
	path := "/api/v1/chat-rooms?limit=50"
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		var page roomPage
		e.request(t, "GET", path, 8, nil).want(t, http.StatusOK, &page)
		sizes = append(sizes, len(page.Rooms))
		for _, r := range page.Rooms {
			got = append(got, r.ID)
			switch {
			case r.Type == room.TypeGroup && (r.MemberIDs != nil || r.MemberCount != 3):
				t.Errorf("group %d listed with memberIds %v and memberCount %d; want none and 3", r.ID, r.MemberIDs, r.MemberCount)
			case r.Type == room.TypeDirect && len(r.MemberIDs) != 2:
				t.Errorf("direct room %d listed with memberIds %v", r.ID, r.MemberIDs)
			}
		}
		if page.NextCursor == nil {
			break
		}
		path = "/api/v1/chat-rooms?limit=50&cursor=" + *page.NextCursor
	}
	if !slices.Equal(sizes, []int{50, 50, 20}) {
		t.Errorf("page sizes %v, want [50 50 20]", sizes)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged %v\nwant  %v", got, want)
	}
	var page roomPage
	e.request(t, "GET", "/api/v1/chat-rooms", 8, nil).want(t, http.StatusOK, &page)
	if len(page.Rooms) != 50 || page.NextCursor == nil {
		t.Errorf("without limit: %d rooms, want the default of 50 and a cursor", len(page.Rooms))
	}
	for _, q := range []string{"limit=0", "limit=201", "limit=x", "cursor=%21%21", "cursor=bm9wZQ"} {
		e.request(t, "GET", "/api/v1/chat-rooms?"+q, 8, nil).wantProblem(t, http.StatusBadRequest, "")
	}
}

// TestRoomCreationAndMemberAddRates: POST /chat-rooms and member additions
// have per-user buckets; beyond, 429 with Retry-After.
func TestRoomCreationAndMemberAddRates(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) {
		c.RoomCreatesPerMinute, c.MemberAddsPerMinute = 3, 2
	})
	var group int64
	for i := range 3 {
		group = e.createGroup(t, 8, fmt.Sprint("g", i), 3)
	}
	for _, body := range []map[string]any{
		{"type": "group", "name": "one too many", "memberIds": []int64{3}},
		{"type": "direct", "memberIds": []int64{3}},
	} {
		res := e.request(t, "POST", "/api/v1/chat-rooms", 8, body)
		res.wantProblem(t, http.StatusTooManyRequests, "room creations per minute")
		if ra := res.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After %q", ra)
		}
	}
	e.createGroup(t, 3, "another user", 8) // buckets are per user

	members := fmt.Sprintf("/api/v1/chat-rooms/%d/members", group)
	for _, u := range []int64{11, 12} {
		e.request(t, "POST", members, 8, map[string]any{"userId": u}).want(t, http.StatusCreated, nil)
	}
	res := e.request(t, "POST", members, 8, map[string]any{"userId": 13})
	res.wantProblem(t, http.StatusTooManyRequests, "member additions per minute")
	if ra := res.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	e.request(t, "POST", members, 11, map[string]any{"userId": 13}).want(t, http.StatusCreated, nil)
}
