package messages_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func TestEditReplacesTextAndAnnounces(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	id := f.direct(t, 8, 3)
	orig, _ := f.send(t, id, 8, 0, "helo")
	f.send(t, id, 3, 0, "after")
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(id))

	raw, err := f.msgs.Edit(ctx, id, orig.Seq, 8, "hello <b>")
	if err != nil {
		t.Fatalf("Edit: %v", err)
	}
	var got wire.Message
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := orig
	want.Message, want.EditedAt = "hello <b>", got.EditedAt
	if got != want || got.EditedAt == "" {
		t.Fatalf("edited %+v, want %+v", got, want)
	}
	if !strings.HasPrefix(string(raw), `{"id":"`) {
		t.Errorf("edited entry %s must keep the leading id (resume and backfill parse it)", raw)
	}
	hist := f.rdb.ZRangeByScore(ctx, f.keys.RoomHistory(id), oneSeq(orig.Seq)).Val()
	if len(hist) != 1 || hist[0] != string(raw) {
		t.Fatalf("history at seq %d = %q, want %s", orig.Seq, hist, raw)
	}
	if n := f.rdb.ZCard(ctx, f.keys.RoomHistory(id)).Val(); n != 2 {
		t.Errorf("history holds %d entries, want 2", n)
	}
	msg := redistest.Next(t, ps)
	var ev wire.MessageEvent
	if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != wire.EventMessageEdited || ev.ChatRoomID != id || ev.UserID != 8 || ev.Seq != orig.Seq ||
		ev.At != got.EditedAt || string(ev.Message) != string(raw) {
		t.Errorf("event %s", msg.Payload)
	}

	// Edited again: still one entry for the seq, the latest text.
	raw2, err := f.msgs.Edit(ctx, id, orig.Seq, 8, "hello!")
	if err != nil || !strings.Contains(string(raw2), `"message":"hello!"`) {
		t.Fatalf("second edit %s, %v", raw2, err)
	}
	if hist := f.rdb.ZRangeByScore(ctx, f.keys.RoomHistory(id), oneSeq(orig.Seq)).Val(); len(hist) != 1 || hist[0] != string(raw2) {
		t.Fatalf("history after the second edit %q", hist)
	}
}

func TestDeleteLeavesTombstone(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	id := f.direct(t, 8, 3)
	orig, _ := f.send(t, id, 8, 0, "oops")
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(id))

	raw, err := f.msgs.Delete(ctx, id, orig.Seq, 8)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	var tomb wire.Tombstone
	if err := json.Unmarshal(raw, &tomb); err != nil {
		t.Fatal(err)
	}
	want := wire.Tombstone{ID: orig.ID, ChatRoomID: id, Seq: orig.Seq, SendID: 8, RcvID: 3, Deleted: true, SentAt: orig.SentAt, DeletedAt: tomb.DeletedAt}
	if tomb != want || tomb.DeletedAt == "" || strings.Contains(string(raw), "oops") || strings.Contains(string(raw), `"message"`) {
		t.Fatalf("tombstone %s, want %+v", raw, want)
	}
	page, err := f.msgs.History(ctx, id, messages.Query{})
	if err != nil || len(page.Messages) != 1 || string(page.Messages[0]) != string(raw) {
		t.Fatalf("history %s, %v", page.Messages, err)
	}
	var ev wire.MessageEvent
	if err := json.Unmarshal([]byte(redistest.Next(t, ps).Payload), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != wire.EventMessageDeleted || ev.Seq != orig.Seq || string(ev.Message) != string(raw) {
		t.Errorf("event %+v", ev)
	}
	for _, op := range []func() error{
		func() error { _, err := f.msgs.Delete(ctx, id, orig.Seq, 8); return err },
		func() error { _, err := f.msgs.Edit(ctx, id, orig.Seq, 8, "back"); return err },
	} {
		if err := op(); !errors.Is(err, messages.ErrDeleted) {
			t.Errorf("changing a tombstone: %v, want ErrDeleted", err)
		}
	}
}

func TestChangeRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{MaxBytes: 10})
	id := f.group(t, 8, 3)
	m, _ := f.send(t, id, 8, 0, "mine")
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"someone else's message", func() error { _, err := f.msgs.Edit(ctx, id, m.Seq, 5, "no"); return err }, messages.ErrNotAuthor},
		{"someone else's delete", func() error { _, err := f.msgs.Delete(ctx, id, m.Seq, 5); return err }, messages.ErrNotAuthor},
		{"no such seq", func() error { _, err := f.msgs.Edit(ctx, id, 99, 8, "no"); return err }, messages.ErrMessageNotFound},
		{"seq zero", func() error { _, err := f.msgs.Delete(ctx, id, 0, 8); return err }, messages.ErrMessageNotFound},
		{"empty text", func() error { _, err := f.msgs.Edit(ctx, id, m.Seq, 8, "  "); return err }, messages.ErrEmpty},
		{"too long", func() error { _, err := f.msgs.Edit(ctx, id, m.Seq, 8, "0123456789ab"); return err }, messages.ErrTooLong},
		{"no such room", func() error { _, err := f.msgs.Edit(ctx, 0, m.Seq, 8, "no"); return err }, messages.ErrRoomNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// An author who left the room may no longer change what they sent.
	if err := f.rdb.SRem(ctx, f.keys.RoomMembers(id), 8).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.msgs.Edit(ctx, id, m.Seq, 8, "y"); !errors.Is(err, messages.ErrNotMember) {
		t.Fatalf("edit by a former member: %v", err)
	}
}

func TestEditWindow(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	id := f.direct(t, 8, 3)
	m, _ := f.send(t, id, 8, 0, "hi")
	strict := messages.NewStore(f.rdb, f.keys, messages.Config{EditWindow: time.Millisecond})
	time.Sleep(5 * time.Millisecond) // the window is a duration: it must have passed
	if _, err := strict.Edit(ctx, id, m.Seq, 8, "late"); !errors.Is(err, messages.ErrEditWindowPassed) {
		t.Fatalf("late edit: %v", err)
	}
	if _, err := strict.Delete(ctx, id, m.Seq, 8); !errors.Is(err, messages.ErrEditWindowPassed) {
		t.Fatalf("late delete: %v", err)
	}
	if _, err := f.msgs.Edit(ctx, id, m.Seq, 8, "in time"); err != nil {
		t.Fatalf("edit within the default window: %v", err)
	}
}

// Concurrent edits of one message: every call succeeds (compare and swap
// retries) and history ends with exactly one entry for the seq.
func TestConcurrentEdits(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	id := f.direct(t, 8, 3)
	m, _ := f.send(t, id, 8, 0, "v0")
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.msgs.Edit(ctx, id, m.Seq, 8, "v"); err != nil && !strings.Contains(err.Error(), "contention") {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := f.rdb.ZCard(ctx, f.keys.RoomHistory(id)).Val(); n != 1 {
		t.Fatalf("history holds %d entries for one message", n)
	}
}

type sentLog struct {
	mu    sync.Mutex
	msgs  []wire.Message
	posts []messages.PostSend
}

func (l *sentLog) MaxAway() int { return 4 }

func (l *sentLog) MessageSent(_ context.Context, m wire.Message, post messages.PostSend) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, m)
	l.posts = append(l.posts, post)
}

func TestSendRunsTheObserver(t *testing.T) {
	log := &sentLog{}
	f := newFixture(t, messages.Config{Observer: log})
	id := f.direct(t, 8, 3)
	m, _ := f.send(t, id, 8, 0, "hi")
	if _, _, err := f.msgs.Send(context.Background(), id, 5, 0, "outsider"); err == nil {
		t.Fatal("outsider sent")
	}
	if len(log.msgs) != 1 || log.msgs[0] != m {
		t.Fatalf("observer saw %+v, want only %+v", log.msgs, m)
	}
}
