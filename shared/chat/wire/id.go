package wire

// ParseID parses a positive integer id (a room, user or message seq) as
// the REST paths, STOMP headers and destinations carry it: decimal digits
// only, no sign, no leading zero, no spaces, at most 9223372036854775807.
// Anything else is not an id: ok is false. One spelling per id keeps the
// interfaces in agreement ("03" and "+3" are not room 3 anywhere).
func ParseID(s string) (id int64, ok bool) {
	if s == "" || len(s) > 19 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if id > (1<<63-1-d)/10 {
			return 0, false // overflows int64
		}
		id = id*10 + d
	}
	return id, true
}
