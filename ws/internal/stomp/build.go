package stomp

import (
	"bytes"
	"unsafe"
)

// escaping is a version's header escaping scheme.
type escaping uint8

const (
	esc12   escaping = iota // \r \n \c \\
	esc11                   // \n \c \\
	escNone                 // STOMP 1.0, and CONNECT/CONNECTED in any version
)

// escapingFor maps a version to its scheme; unknown versions mean V12.
func escapingFor(version string) escaping {
	switch version {
	case V10:
		return escNone
	case V11:
		return esc11
	}
	return esc12
}

// build makes the Frame from the recorded header spans (offsets into frame)
// and body. It allocates the Frame with its header array, and one byte arena
// holding the body followed by the unescaped header text.
func (d *Decoder) build(frame, body []byte) (*Frame, error) {
	f := newFrame(len(d.hdrs))
	f.Command = d.cmd
	if len(body)+d.text == 0 {
		return f, nil
	}
	arena := make([]byte, len(body)+d.text)
	f.arena = len(arena)
	copy(arena, body)
	if len(body) > 0 {
		// Capped, so appending to Body cannot reach the header text.
		f.Body = arena[:len(body):len(body)]
	}
	text := arena[len(body):]
	esc := d.esc
	if rawHeaders(d.cmd) {
		esc = escNone
	}
	w := 0
	for i, s := range d.hdrs {
		k, err := unescapeTo(text, w, frame[s.start:s.colon], esc)
		if err != nil {
			return nil, err
		}
		v, err := unescapeTo(text, k, frame[s.colon+1:s.end], esc)
		if err != nil {
			return nil, err
		}
		f.Headers[i] = Header{Key: str(text[w:k]), Value: str(text[k:v])}
		w = v
	}
	return f, nil
}

// str returns b as a string without copying. Safe here because header text
// in the arena is written once, before str, and never again.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// newFrame allocates a Frame with n zeroed headers, in one allocation when
// n is small.
func newFrame(n int) *Frame {
	switch {
	case n == 0:
		return new(Frame)
	case n <= 4:
		a := new(struct {
			f Frame
			h [4]Header
		})
		a.f.Headers = a.h[:n]
		return &a.f
	case n <= 8:
		a := new(struct {
			f Frame
			h [8]Header
		})
		a.f.Headers = a.h[:n]
		return &a.f
	}
	return &Frame{Headers: make([]Header, n)}
}

// unescapeTo writes src unescaped per esc at dst[w:], which has room for
// src, and returns the index after the last byte written.
func unescapeTo(dst []byte, w int, src []byte, esc escaping) (int, error) {
	if esc == escNone || bytes.IndexByte(src, '\\') < 0 {
		return w + copy(dst[w:], src), nil
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\\' {
			i++
			if i == len(src) {
				return 0, errorf(ErrInvalidEscape, "trailing backslash in "+quote(src))
			}
			switch src[i] {
			case '\\':
			case 'n':
				c = '\n'
			case 'c':
				c = ':'
			case 'r':
				if esc != esc12 {
					return 0, errorf(ErrInvalidEscape, `\r before STOMP 1.2 in `+quote(src))
				}
				c = '\r'
			default:
				return 0, errorf(ErrInvalidEscape, quote(src))
			}
		}
		dst[w] = c
		w++
	}
	return w, nil
}
