package messages

import "testing"

func TestBlank(t *testing.T) {
	for _, tt := range []struct {
		text string
		want bool
	}{
		{"", true},
		{" \t\r\n", true},
		{"\u00a0\u3000", true}, // no-break and ideographic spaces
		{"\u200b", true},
		{"\u200b\u200c\u200d\u2060\ufeff", true},
		{" \u200b \u200e\u202e ", true},
		{"\u3164\u115f", true},
		{"\u2800", true},
		{"hi", false},
		{"\u200bhi\u200b", false},
		{"👍", false},
		{"👨\u200d👩", false},
		{"\u0301", false}, // a lone combining accent still shows
	} {
		if got := blank(tt.text); got != tt.want {
			t.Errorf("blank(%+q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}
