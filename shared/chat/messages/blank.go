package messages

import "unicode"

// blank reports whether text shows nothing: it holds only white space,
// format characters (Unicode Cf: zero-width space U+200B, joiners
// U+200C/U+200D, word joiner U+2060, BOM U+FEFF, bidi marks, soft hyphen)
// and the blank fillers below. Such a message would show as an empty
// bubble, so it is refused like an empty one, on REST and STOMP alike.
func blank(text string) bool {
	for _, r := range text {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) && !invisibleFiller(r) {
			return false
		}
	}
	return true
}

// invisibleFiller reports the letters and marks that render as nothing:
// the Hangul fillers, the combining grapheme joiner and the blank Braille
// pattern.
func invisibleFiller(r rune) bool {
	switch r {
	case '\u115f', '\u1160', '\u3164', '\uffa0', '\u034f', '\u2800':
		return true
	}
	return false
}
