package wsconn

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// A close reason longer than a close frame holds is shortened on a rune
// boundary.
func TestCloseReasonFits(t *testing.T) {
	for _, in := range []string{"", "bye", strings.Repeat("a", 123), strings.Repeat("a", 124), strings.Repeat("é", 100)} {
		got := closeReason(in)
		if len(got) > maxCloseReason || !utf8.ValidString(got) || (len(in) <= maxCloseReason && got != in) {
			t.Errorf("closeReason(%d bytes) = %q (%d bytes)", len(in), got, len(got))
		}
	}
}

// mask matches the byte-wise definition (RFC 6455 §5.3) from any key
// position and for any split of the payload.
func TestMask(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	in := make([]byte, 100)
	for i := range in {
		in[i] = byte(i * 7)
	}
	want := make([]byte, len(in))
	for i := range in {
		want[i] = in[i] ^ key[i%4]
	}
	for split := 0; split <= len(in); split++ {
		got := bytes.Clone(in)
		pos := mask(got[:split], key, 0)
		mask(got[split:], key, pos)
		if !bytes.Equal(got, want) {
			t.Fatalf("split at %d: % x", split, got)
		}
	}
}
