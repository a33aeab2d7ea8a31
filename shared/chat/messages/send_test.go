package messages_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var wireTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// objectKeys returns the top-level keys of a JSON object in document order.
func objectKeys(t testing.TB, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s is not a JSON object: %v", raw, err)
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		out = append(out, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
	}
	return out
}

func TestSendSequencesPerRoom(t *testing.T) {
	f := newFixture(t, messages.Config{})
	a, b := f.group(t, 1, 2), f.group(t, 1, 2)
	steps := []struct {
		room, sender, wantSeq int64
	}{
		{a, 1, 1}, {a, 2, 2}, {b, 1, 1}, {a, 1, 3}, {b, 2, 2}, {b, 2, 3}, {a, 2, 4},
	}
	for i, s := range steps {
		m, _ := f.send(t, s.room, s.sender, 0, fmt.Sprintf("step %d", i))
		wantID := fmt.Sprintf("%d-%d", s.room, s.wantSeq)
		if m.Seq != s.wantSeq || m.ID != wantID || m.ChatRoomID != s.room || m.SendID != s.sender {
			t.Errorf("step %d: got %+v, want seq %d id %s in room %d from %d", i, m, s.wantSeq, wantID, s.room, s.sender)
		}
	}
	for room, want := range map[int64]string{a: "4", b: "3"} {
		if got := f.rdb.HGet(context.Background(), f.keys.RoomMeta(room), "lastSeq").Val(); got != want {
			t.Errorf("room %d lastSeq = %q, want %s", room, got, want)
		}
	}
}

func TestSendPublishesTheHistoryEntry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	id := f.group(t, 1, 2)
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomMessages(id))

	before := time.Now()
	m, raw := f.send(t, id, 1, 0, "hello")
	after := time.Now()

	if got := redistest.Next(t, ps); got.Payload != string(raw) || got.Channel != f.keys.RoomMessages(id) {
		t.Errorf("published %s on %q\nreturned  %s", got.Payload, got.Channel, raw)
	}
	hist := f.rdb.ZRangeWithScores(ctx, f.keys.RoomHistory(id), 0, -1).Val()
	if len(hist) != 1 || hist[0].Member != string(raw) || hist[0].Score != 1 {
		t.Errorf("history = %v, want exactly %s with score 1", hist, raw)
	}
	if want := []string{"id", "chatRoomId", "seq", "sendId", "message", "sentAt"}; !slices.Equal(objectKeys(t, raw), want) {
		t.Errorf("keys = %q, want %q (rcvId omitted when 0)", objectKeys(t, raw), want)
	}
	if enc := wire.Marshal(m); !bytes.Equal(enc, raw) {
		t.Errorf("returned JSON differs from the encoding of the returned message:\n%s\n%s", raw, enc)
	}
	if !wireTime.MatchString(m.SentAt) {
		t.Fatalf("sentAt = %q, want RFC 3339 UTC with milliseconds", m.SentAt)
	}
	sent, _ := time.Parse(time.RFC3339, m.SentAt)
	if sent.Before(before.Truncate(time.Millisecond)) || sent.After(after) {
		t.Errorf("sentAt %v is not between %v and %v", sent, before, after)
	}
	if got := f.rdb.HGet(ctx, f.keys.RoomMeta(id), "lastMessageAt").Val(); got != strconv.FormatInt(sent.UnixMilli(), 10) {
		t.Errorf("lastMessageAt = %q, want %d", got, sent.UnixMilli())
	}
}

func TestSendReceiver(t *testing.T) {
	f := newFixture(t, messages.Config{})
	direct := f.direct(t, 1, 2)
	group := f.group(t, 1, 2, 3)
	tests := []struct {
		name              string
		room, sender, rcv int64
		want              int64
		wantErr           error
	}{
		{"direct fills the other member", direct, 1, 0, 2, nil},
		{"direct fills for the other sender", direct, 2, 0, 1, nil},
		{"direct keeps a given member", direct, 1, 2, 2, nil},
		{"direct refuses an outsider", direct, 1, 3, 0, messages.ErrBadReceiver},
		{"group leaves rcvId out", group, 1, 0, 0, nil},
		{"group keeps a given member", group, 1, 3, 3, nil},
		{"group refuses an outsider", group, 1, 9, 0, messages.ErrBadReceiver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, raw, err := f.msgs.Send(context.Background(), tt.room, tt.sender, tt.rcv, "hi")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Send error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if m.RcvID != tt.want {
				t.Errorf("rcvId = %d, want %d (%s)", m.RcvID, tt.want, raw)
			}
			want := []string{"id", "chatRoomId", "seq", "sendId", "rcvId", "message", "sentAt"}
			if tt.want == 0 {
				want = slices.Delete(want, 4, 5)
			}
			if got := objectKeys(t, raw); !slices.Equal(got, want) {
				t.Errorf("keys = %q, want %q", got, want)
			}
		})
	}
}

func TestSendRejects(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{MaxBytes: 16})
	id := f.group(t, 1, 2)
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomMessages(id))
	tests := []struct {
		name         string
		room, sender int64
		text         string
		want         error
	}{
		{"empty", id, 1, "", messages.ErrEmpty},
		{"white space", id, 1, "  \n", messages.ErrEmpty},
		{"tabs and CRLF", id, 1, "\t\r\n", messages.ErrEmpty},
		{"MaxBytes+1", id, 1, strings.Repeat("x", 17), messages.ErrTooLong},
		{"MaxBytes+1 in multibyte", id, 1, strings.Repeat("é", 8) + "x", messages.ErrTooLong},
		{"invalid UTF-8", id, 1, "ab\xff", messages.ErrInvalidText},
		{"truncated UTF-8", id, 1, "caf\xc3", messages.ErrInvalidText},
		{"NUL", id, 1, "nul\x00byte", messages.ErrInvalidText},
		{"escape sequence", id, 1, "\x1b[31mred", messages.ErrInvalidText},
		{"unit separator", id, 1, "a\x1fb", messages.ErrInvalidText},
		{"not a member", id, 3, "hi", messages.ErrNotMember},
		{"missing room", id + 1000, 1, "hi", messages.ErrRoomNotFound},
		{"room 0", 0, 1, "hi", messages.ErrRoomNotFound},
		{"negative room", -id, 1, "hi", messages.ErrRoomNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, raw, err := f.msgs.Send(ctx, tt.room, tt.sender, 0, tt.text)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send error = %v, want %v", err, tt.want)
			}
			if raw != nil || m != (wire.Message{}) {
				t.Errorf("Send returned %+v, %s with an error", m, raw)
			}
		})
	}
	// Ids the callers never pass (they check them first) are refused too.
	for _, c := range []struct{ sender, rcv int64 }{{0, 0}, {-1, 0}, {1, -2}} {
		if _, _, err := f.msgs.Send(ctx, id, c.sender, c.rcv, "hi"); err == nil {
			t.Errorf("Send(sender %d, rcv %d) succeeded", c.sender, c.rcv)
		}
	}
	if n := f.rdb.ZCard(ctx, f.keys.RoomHistory(id)).Val(); n != 0 {
		t.Errorf("refused sends left %d history entries", n)
	}
	if f.rdb.Exists(ctx, f.keys.RoomMeta(id+1000)).Val() != 0 {
		t.Error("a send to a missing room created its meta")
	}
	// Nothing was published: the first message on the channel is this one.
	_, raw := f.send(t, id, 1, 0, "first")
	if got := redistest.Next(t, ps).Payload; got != string(raw) {
		t.Errorf("first published payload = %s, want %s", got, raw)
	}
}

func TestSendSizeLimit(t *testing.T) {
	f := newFixture(t, messages.Config{MaxBytes: 16})
	id := f.group(t, 1)
	if f.msgs.MaxBytes() != 16 {
		t.Errorf("MaxBytes() = %d", f.msgs.MaxBytes())
	}
	for _, text := range []string{strings.Repeat("x", 16), strings.Repeat("é", 8)} {
		if m, _ := f.send(t, id, 1, 0, text); m.Message != text {
			t.Errorf("message = %q, want %q", m.Message, text)
		}
	}
	if got := newFixture(t, messages.Config{}).msgs.MaxBytes(); got != 4096 {
		t.Errorf("default MaxBytes() = %d, want 4096", got)
	}
}

func TestSendTextRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	id := f.group(t, 1)
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomMessages(id))
	texts := []string{
		`say "hi"`,
		`back\slash \" \\n`,
		"two\nlines\r\nand\ttab",
		"unicode ✓ 日本語 😀 👩‍👩‍👧",
		"</script><script>alert('x')</script> & <b>",
		"line\u2028separator\u2029",
		"DEL \x7f and C1 \u0085 are not C0 controls",
		`{"id":"fake","seq":999}`,
		"  padded  ",
		"--]] lua ]]'..'",
	}
	for i, text := range texts {
		t.Run(text, func(t *testing.T) {
			m, raw := f.send(t, id, 1, 0, text)
			var decoded wire.Message
			if err := json.Unmarshal(raw, &decoded); err != nil {
				t.Fatalf("returned %s is not JSON: %v", raw, err)
			}
			hist := f.rdb.ZRangeByScore(ctx, f.keys.RoomHistory(id), oneSeq(int64(i+1))).Val()
			var stored wire.Message
			if len(hist) != 1 || json.Unmarshal([]byte(hist[0]), &stored) != nil {
				t.Fatalf("history entry for seq %d = %q", i+1, hist)
			}
			pub := redistest.Next(t, ps).Payload
			for where, got := range map[string]string{"returned": m.Message, "JSON": decoded.Message, "history": stored.Message} {
				if got != text {
					t.Errorf("%s text = %q, want %q", where, got, text)
				}
			}
			if pub != string(raw) || hist[0] != string(raw) {
				t.Errorf("published %s / stored %s differ from returned %s", pub, hist[0], raw)
			}
		})
	}
}

func TestSendConcurrentSequence(t *testing.T) {
	const senders, each = 8, 50
	f := newFixture(t, messages.Config{})
	id := f.group(t, 1, 2, 3, 4, 5, 6, 7, 8)
	var (
		mu   sync.Mutex
		got  []int64
		errs []error
		wg   sync.WaitGroup
	)
	for s := int64(1); s <= senders; s++ {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				m, _, err := f.msgs.Send(context.Background(), id, s, 0, fmt.Sprintf("%d/%d", s, i))
				mu.Lock()
				got = append(got, m.Seq)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d sends failed, first: %v", len(errs), errs[0])
	}
	slices.Sort(got)
	for i, seq := range got {
		if seq != int64(i+1) {
			t.Fatalf("sorted seqs[%d] = %d: duplicates or gaps in %v", i, seq, got)
		}
	}
	ctx := context.Background()
	if n := f.rdb.ZCard(ctx, f.keys.RoomHistory(id)).Val(); n != senders*each {
		t.Errorf("history holds %d messages, want %d", n, senders*each)
	}
	if v := f.rdb.HGet(ctx, f.keys.RoomMeta(id), "lastSeq").Val(); v != strconv.Itoa(senders*each) {
		t.Errorf("lastSeq = %s", v)
	}
}

func TestHistoryTrimming(t *testing.T) {
	tests := []struct {
		keep, sent int
	}{
		{1, 3}, {5, 5}, {5, 6}, {5, 12},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("keep %d of %d", tt.keep, tt.sent), func(t *testing.T) {
			f := newFixture(t, messages.Config{HistoryLen: tt.keep})
			id := f.group(t, 1)
			for i := 0; i < tt.sent; i++ {
				f.send(t, id, 1, 0, "m")
			}
			var want []int64
			for s := max(1, tt.sent-tt.keep+1); s <= tt.sent; s++ {
				want = append(want, int64(s))
			}
			vals := f.rdb.ZRange(context.Background(), f.keys.RoomHistory(id), 0, -1).Val()
			raws := make([][]byte, len(vals))
			for i, v := range vals {
				raws[i] = []byte(v)
			}
			if got := seqs(t, raws); !slices.Equal(got, want) {
				t.Errorf("history seqs = %v, want %v", got, want)
			}
		})
	}
}
