package gateway

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A close reason longer than a close frame holds is shortened on a rune
// boundary (coder/websocket would send no close frame at all).
func TestCloseReasonFits(t *testing.T) {
	for _, in := range []string{"", "bye", strings.Repeat("a", 123), strings.Repeat("a", 124), strings.Repeat("é", 100)} {
		got := closeReason(in)
		if len(got) > maxCloseReason || !utf8.ValidString(got) || (len(in) <= maxCloseReason && got != in) {
			t.Errorf("closeReason(%d bytes) = %q (%d bytes)", len(in), got, len(got))
		}
	}
}
