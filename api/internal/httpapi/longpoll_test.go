package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/roomwire/roomwire/api/internal/httpapi"
)

func seqsOf(t *testing.T, r resp) []int64 {
	t.Helper()
	var body struct {
		Messages []struct {
			Seq int64 `json:"seq"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	out := []int64{}
	for _, m := range body.Messages {
		out = append(out, m.Seq)
	}
	return out
}

func TestLongPoll(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.MaxWait = 2 * time.Second })
	roomID := e.createDirect(t, 8, 3)
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/messages", roomID)

	t.Run("returns at once when messages exist", func(t *testing.T) {
		e.post(t, roomID, 8, "one")
		start := time.Now()
		r := e.request(t, "GET", path+"?after=0&wait=10s", 3, nil)
		if r.status != 200 || fmt.Sprint(seqsOf(t, r)) != "[1]" {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
		if time.Since(start) > time.Second {
			t.Errorf("waited %v although a message was there", time.Since(start))
		}
	})
	t.Run("wakes up on the next message", func(t *testing.T) {
		var wg sync.WaitGroup
		var r resp
		wg.Add(1)
		go func() { defer wg.Done(); r = e.request(t, "GET", path+"?after=1&wait=2", 3, nil) }()
		// Send once the poll watches the room: it must wake up with [2]
		// (a broken wake-up would answer [] after the wait).
		ch := e.ks.RoomMessages(roomID)
		for e.rdb.PubSubNumSub(context.Background(), ch).Val()[ch] == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		e.post(t, roomID, 8, "two")
		wg.Wait()
		if r.status != 200 || fmt.Sprint(seqsOf(t, r)) != "[2]" {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
	})
	t.Run("times out with an empty page", func(t *testing.T) {
		r := e.request(t, "GET", path+"?after=2&wait=300ms", 3, nil)
		if r.status != 200 || fmt.Sprint(seqsOf(t, r)) != "[]" {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, q := range []string{"?wait=5s", "?after=1&wait=-1s", "?after=1&wait=soon", "?after=1&before=3&wait=1s", "?after=1&order=desc&wait=1s"} {
			if r := e.request(t, "GET", path+q, 3, nil); r.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", q, r.status)
			}
		}
		if r := e.request(t, "GET", path+"?after=0&wait=1s", 5, nil); r.status != http.StatusNotFound {
			t.Errorf("non-member: status %d, want 404", r.status)
		}
	})
}

func TestLongPollLimitPerUser(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.MaxWaitsPerUser = 1; c.MaxWait = 20 * time.Second })
	roomID := e.createDirect(t, 8, 3)
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/messages?after=0", roomID)
	done := make(chan resp)
	go func() { done <- e.request(t, "GET", path+"&wait=20s", 3, nil) }()
	// Once the first poll watches the room it holds the user's only slot.
	ch := e.ks.RoomMessages(roomID)
	for e.rdb.PubSubNumSub(context.Background(), ch).Val()[ch] == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	r := e.request(t, "GET", path+"&wait=1s", 3, nil)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", r.status)
	}
	e.post(t, roomID, 8, "wake") // ends the first poll
	if first := <-done; first.status != http.StatusOK {
		t.Fatalf("first poll: status %d", first.status)
	}
}

func (e *env) post(t *testing.T, roomID, user int64, text string) {
	t.Helper()
	r := e.request(t, "POST", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", roomID), user, map[string]any{"message": text})
	if r.status != http.StatusCreated {
		t.Fatalf("send: status %d body %s", r.status, r.body)
	}
}

func TestAfterOnlyReadsForwards(t *testing.T) {
	e := newEnv(t)
	roomID := e.createDirect(t, 8, 3)
	for _, m := range []string{"a", "b", "c"} {
		e.post(t, roomID, 8, m)
	}
	path := fmt.Sprintf("/api/v1/chat-rooms/%d/messages", roomID)
	for q, want := range map[string]string{"?after=0": "[1 2 3]", "?after=1": "[2 3]", "": "[3 2 1]", "?after=0&order=desc": "[3 2 1]"} {
		if got := fmt.Sprint(seqsOf(t, e.request(t, "GET", path+q, 3, nil))); got != want {
			t.Errorf("%s: seqs %s, want %s", q, got, want)
		}
	}
}
