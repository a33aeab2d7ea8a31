package wire

import (
	"unicode/utf16"
	"unicode/utf8"
)

// ValidJSONText reports whether the JSON text b is valid UTF-8 and none of
// its strings escapes a lone UTF-16 surrogate ("\ud800" without its low
// half, or a low half alone): the two things encoding/json silently turns
// into U+FFFD. Callers refuse such bodies instead of storing altered text.
// It does not check the rest of the JSON syntax.
func ValidJSONText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	in := false // inside a string
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case !in:
			in = c == '"'
		case c == '"':
			in = false
		case c == '\\' && i+1 < len(b) && b[i+1] == 'u':
			r, ok := hex4(b, i+2)
			switch {
			case !ok:
				i++ // not an escape encoding/json accepts; it refuses the text
			case !utf16.IsSurrogate(r):
				i += 5
			case r >= 0xdc00: // a low half first
				return false
			default: // a high half: the low half must follow at once
				lo, ok := rune(0), i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u'
				if ok {
					lo, ok = hex4(b, i+8)
				}
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return false
				}
				i += 11
			}
		case c == '\\':
			i++ // skip the escaped byte (\" or \\ among them)
		}
	}
	return true
}

// hex4 reads the four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
