package load

import (
	"bytes"
	"strconv"
)

// Stamp is what a load client writes into each chat message's text so a
// receiver can measure latency and attribute the delivery:
// "t=<unix ns> n=<k> p=<phase> r=<run>", padded with x to the payload size.
type Stamp struct {
	T     int64  // send time, unix nanoseconds
	N     uint64 // message number within the run
	Phase int    // phase of the run the message belongs to
	Run   uint32 // random run id, to ignore messages of other runs
}

// Append appends the stamp text, padded with 'x' to at least payload bytes.
// The text is ASCII without quotes or backslashes.
func (s Stamp) Append(dst []byte, payload int) []byte {
	start := len(dst)
	dst = s.appendFields(dst)
	if pad := payload - (len(dst) - start); pad > 0 {
		dst = append(dst, ' ')
		for i := 1; i < pad; i++ {
			dst = append(dst, 'x')
		}
	}
	return dst
}

// AppendMarker appends the stamp as the marker of an independent load
// client's text, "~t=<ns> n=<k> p=<phase> r=<run>~xxxx…", padded with 'x'
// to at least payload bytes. ParseDelivery reads both forms.
func (s Stamp) AppendMarker(dst []byte, payload int) []byte {
	start := len(dst)
	dst = append(dst, '~')
	dst = s.appendFields(dst)
	dst = append(dst, '~')
	for pad := payload - (len(dst) - start); pad > 0; pad-- {
		dst = append(dst, 'x')
	}
	return dst
}

func (s Stamp) appendFields(dst []byte) []byte {
	dst = append(dst, "t="...)
	dst = strconv.AppendInt(dst, s.T, 10)
	dst = append(dst, " n="...)
	dst = strconv.AppendUint(dst, s.N, 10)
	dst = append(dst, " p="...)
	dst = strconv.AppendInt(dst, int64(s.Phase), 10)
	dst = append(dst, " r="...)
	return strconv.AppendUint(dst, uint64(s.Run), 10)
}

// Delivery is what a receiver reads from a MESSAGE body.
type Delivery struct {
	Seq   int64
	Stamp Stamp
}

var (
	seqKey     = []byte(`"seq":`)
	messageKey = []byte(`"message":"`)
)

// ParseDelivery reads the seq and the stamp from a chat message body as the
// server delivers it ({"id":..,"chatRoomId":..,"seq":17,...,"message":"t=..
// n=.. p=.. r=..",...}, or with the text "~t=.. n=.. p=.. r=..~xx" of
// AppendMarker). ok is false for bodies without a stamp. It does not
// allocate.
func ParseDelivery(body []byte) (d Delivery, ok bool) {
	i := bytes.Index(body, seqKey)
	if i < 0 {
		return d, false
	}
	seq, _, ok := digitsAt(body, i+len(seqKey))
	if !ok {
		return d, false
	}
	d.Seq = seq
	j := bytes.Index(body, messageKey)
	if j < 0 {
		return d, false
	}
	p := j + len(messageKey)
	if p < len(body) && body[p] == '~' {
		p++
	}
	if !bytes.HasPrefix(body[p:], []byte("t=")) {
		return d, false
	}
	p += 2
	var t, n, phase, run int64
	for _, f := range []struct {
		dst *int64
		key string
	}{{&t, ""}, {&n, " n="}, {&phase, " p="}, {&run, " r="}} {
		if f.key != "" {
			if !bytes.HasPrefix(body[p:], []byte(f.key)) {
				return d, false
			}
			p += len(f.key)
		}
		v, end, ok := digitsAt(body, p)
		if !ok {
			return d, false
		}
		*f.dst, p = v, end
	}
	d.Stamp = Stamp{T: t, N: uint64(n), Phase: int(phase), Run: uint32(run)}
	return d, true
}

// digitsAt parses the decimal digits starting at b[i] and returns the value
// and the index after them.
func digitsAt(b []byte, i int) (v int64, end int, ok bool) {
	end = i
	for end < len(b) && b[end] >= '0' && b[end] <= '9' {
		end++
	}
	v, ok = parseDigits(b[i:end])
	return v, end, ok
}
