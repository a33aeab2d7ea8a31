package stomp

import "strconv"

// AppendFrame appends the wire form of f to dst and returns the extended
// slice: the command, the headers escaped per version (never escaped for
// CONNECT and CONNECTED, and never in V10; unknown versions mean V12), a
// content-length header when the body is non-empty and f has none, a blank
// line, the body and the NUL. It adds nothing else: no trailing EOL, no
// content-type. It does not validate f: a header that the version cannot
// express (a newline in a V10 or CONNECTED value, a name holding a colon
// there, a value ending in CR before V12) or a wrong content-length header
// yields a frame that decodes differently.
func AppendFrame(dst []byte, f *Frame, version string) []byte {
	esc := escapingFor(version)
	if rawHeaders(f.Command) {
		esc = escNone
	}
	dst = append(dst, f.Command...)
	dst = append(dst, '\n')
	for _, h := range f.Headers {
		dst = appendEscaped(dst, h.Key, esc)
		dst = append(dst, ':')
		dst = appendEscaped(dst, h.Value, esc)
		dst = append(dst, '\n')
	}
	if len(f.Body) > 0 {
		if _, ok := f.Get("content-length"); !ok {
			dst = append(dst, "content-length:"...)
			dst = strconv.AppendInt(dst, int64(len(f.Body)), 10)
			dst = append(dst, '\n')
		}
	}
	dst = append(dst, '\n')
	dst = append(dst, f.Body...)
	return append(dst, 0)
}

// AppendEscaped appends v escaped per version: in V12 backslash, LF, CR and
// colon become \\ \n \r \c; V11 leaves CR alone; V10 escapes nothing.
// Unknown versions mean V12.
func AppendEscaped(dst []byte, v string, version string) []byte {
	return appendEscaped(dst, v, escapingFor(version))
}

// Escape tables map a byte to the letter after its backslash, or 0.
var (
	escapes12 = [256]byte{'\\': '\\', '\n': 'n', '\r': 'r', ':': 'c'}
	escapes11 = [256]byte{'\\': '\\', '\n': 'n', ':': 'c'}
)

func appendEscaped(dst []byte, v string, esc escaping) []byte {
	if esc == escNone {
		return append(dst, v...)
	}
	tbl := &escapes12
	if esc == esc11 {
		tbl = &escapes11
	}
	start := 0
	for i := 0; i < len(v); i++ {
		if r := tbl[v[i]]; r != 0 {
			dst = append(dst, v[start:i]...)
			dst = append(dst, '\\', r)
			start = i + 1
		}
	}
	return append(dst, v[start:]...)
}
