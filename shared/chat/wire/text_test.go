package wire_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

func TestValidJSONText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{`{"message":"hi"}`, true},
		{`{"message":"안녕 😀"}`, true},
		{`{"message":"\u00e9\u2603"}`, true},
		{`{"message":"\ud83d\ude00"}`, true}, // a pair: 😀
		{`{"message":"\uD83D\uDE00"}`, true},
		{`{"message":"\\ud800"}`, true}, // an escaped backslash, then text
		{`{"message":"\"\ud83d\ude00\""}`, true},
		{`{"\ud800":1}`, false}, // keys too
		{`{"message":"\ud800"}`, false},
		{`{"message":"\udc00"}`, false},
		{`{"message":"\ud800x"}`, false},
		{`{"message":"\ud800\u0041"}`, false},
		{`{"message":"\ud800\ud800"}`, false},
		{`{"message":"\udc00\ud800"}`, false},
		{`{"message":"\ud83d\ude00\ud800"}`, false},
		{"{\"message\":\"\xff\"}", false},
		{"{\"message\":\"\xed\xa0\x80\"}", false}, // a surrogate in UTF-8 is invalid UTF-8
		{`{"message":"\u12"}`, true},              // malformed: left to the JSON decoder
		{`{"message":"\ud800`, false},
	} {
		if got := wire.ValidJSONText([]byte(tt.in)); got != tt.want {
			t.Errorf("ValidJSONText(%s) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzValidJSONText: a JSON text ValidJSONText accepts decodes with
// encoding/json to strings without U+FFFD unless the text spelled one.
func FuzzValidJSONText(f *testing.F) {
	for _, s := range []string{`{"m":"hi"}`, `{"m":"\ud800"}`, `{"m":"\ud83d\ude00"}`, `"\\ud800"`, "\"\xff\"", `"\ufffd"`, "\"\uFFFD\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if !wire.ValidJSONText(b) || json.Unmarshal(b, &v) != nil {
			return
		}
		spelled := strings.Contains(string(b), "\uFFFD") || strings.Contains(strings.ToLower(string(b)), `\ufffd`)
		if hasReplacement(v) && !spelled {
			t.Fatalf("%q passed but decodes with U+FFFD: %#v", b, v)
		}
	})
}

func hasReplacement(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, utf8.RuneError)
	case []any:
		for _, e := range v {
			if hasReplacement(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if strings.ContainsRune(k, utf8.RuneError) || hasReplacement(e) {
				return true
			}
		}
	}
	return false
}
