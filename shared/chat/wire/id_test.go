package wire_test

import (
	"strconv"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

func TestParseID(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1", 1, true},
		{"3", 3, true},
		{"42", 42, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"", 0, false},
		{"0", 0, false},
		{"00", 0, false},
		{"03", 0, false},
		{"+3", 0, false},
		{"-3", 0, false},
		{" 3", 0, false},
		{"3 ", 0, false},
		{"3x", 0, false},
		{"0x10", 0, false},
		{"1e3", 0, false},
		{"1.0", 0, false},
		{"1_000", 0, false},
		{"٣", 0, false}, // Arabic-Indic three
		{"9223372036854775808", 0, false},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
	} {
		id, ok := wire.ParseID(tt.in)
		if id != tt.want || ok != tt.ok {
			t.Errorf("ParseID(%q) = %d, %v; want %d, %v", tt.in, id, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParseID: ParseID accepts exactly the canonical decimal spelling of a
// positive int64.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"1", "03", "+3", "9223372036854775807", "9223372036854775808", "", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := wire.ParseID(s)
		n, err := strconv.ParseInt(s, 10, 64)
		want := err == nil && n > 0 && strconv.FormatInt(n, 10) == s
		if ok != want || (ok && id != n) {
			t.Fatalf("ParseID(%q) = %d, %v; strconv says %d, %v", s, id, ok, n, err)
		}
	})
}
