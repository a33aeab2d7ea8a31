package messages_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/messages"
)

// TestStoredSize: a history entry is bounded by MaxEntryBytes whatever the
// text's characters, and a text of "<" is stored at about its own size
// (it used to take 6 bytes per "<", as \u003c: 24,674 bytes for 4,096).
// Control characters, 6 bytes each when escaped, are refused.
func TestStoredSize(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	id := f.group(t, 1)
	maxBytes, bound := f.msgs.MaxBytes(), f.msgs.MaxEntryBytes()
	if bound != messages.EntryOverhead+2*maxBytes || bound != 8448 {
		t.Fatalf("MaxEntryBytes() = %d, want %d", bound, messages.EntryOverhead+2*maxBytes)
	}
	fill := func(char string) string { return strings.Repeat(char, maxBytes/len(char)) }

	_, raw := f.send(t, id, 1, 0, fill("<"))
	if len(raw) > 4300 {
		t.Errorf("4,096 bytes of < stored in %d bytes, want under 4,300", len(raw))
	}
	for _, tt := range []struct {
		name, char string
		refused    bool
	}{
		{"less than", "<", false}, {"greater than", ">", false}, {"ampersand", "&", false},
		{"quote", `"`, false}, {"backslash", `\`, false},
		{"line feed", "\n", false}, {"tab", "\t", false}, {"carriage return", "\r", false},
		{"line separator", "\u2028", false}, {"paragraph separator", "\u2029", false},
		{"DEL", "\x7f", false}, {"C1 control", "\u0085", false}, {"emoji", "😀", false},
		{"NUL", "\x00", true}, {"SOH", "\x01", true}, {"backspace", "\b", true},
		{"form feed", "\f", true}, {"escape", "\x1b", true}, {"unit separator", "\x1f", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text := "x" + fill(tt.char)[len(tt.char):] // not blank
			m, raw, err := f.msgs.Send(ctx, id, 1, 0, text)
			switch {
			case tt.refused && !errors.Is(err, messages.ErrInvalidText):
				t.Fatalf("Send = %d bytes stored, %v; want ErrInvalidText", len(raw), err)
			case tt.refused:
				return
			case err != nil:
				t.Fatal(err)
			case len(raw) > bound:
				t.Fatalf("%d-byte text stored in %d bytes, over MaxEntryBytes %d", len(text), len(raw), bound)
			}
			entry, err := f.msgs.Edit(ctx, id, m.Seq, 1, text+strings.Repeat("y", maxBytes-len(text)))
			if err != nil {
				t.Fatal(err)
			}
			if len(entry) > bound {
				t.Fatalf("edited entry of %d bytes, over MaxEntryBytes %d", len(entry), bound)
			}
			hist := f.rdb.ZRangeByScore(ctx, f.keys.RoomHistory(id), oneSeq(m.Seq)).Val()
			if len(hist) != 1 || hist[0] != string(entry) {
				t.Fatalf("history holds %d entries for seq %d, want the edited one", len(hist), m.Seq)
			}
		})
	}
}
