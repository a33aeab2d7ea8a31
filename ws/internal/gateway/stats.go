package gateway

import "bytes"

// commands are the STOMP commands counted by Stats, in both directions;
// anything else is counted as "other", heart-beats as "heartbeat".
var commands = [...]string{
	"CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK", "BEGIN", "COMMIT", "ABORT",
	"DISCONNECT", "CONNECTED", "MESSAGE", "RECEIPT", "ERROR", "heartbeat", "other",
}

// Indexes into commands used on hot paths.
const (
	messageIndex   = 12
	heartbeatIndex = 15
	otherIndex     = 16
)

// errorKinds are the kinds describe gives errors that end a connection
// (problem.kind); unknown kinds count as "internal".
var errorKinds = [...]string{
	"malformed", "auth", "forbidden", "bad-message", "limit", "rate-limited", "token-expired",
	"kicked", "unavailable", "protocol", "internal",
}

// commandIndex returns the index of cmd in commands (otherIndex if absent).
func commandIndex(cmd string) int {
	for i, c := range commands[:heartbeatIndex] {
		if c == cmd {
			return i
		}
	}
	return otherIndex
}

// frameCommand returns the command line of an encoded frame.
func frameCommand(frame []byte) string {
	if i := bytes.IndexByte(frame, '\n'); i >= 0 {
		frame = frame[:i]
	}
	if len(frame) > 16 {
		return ""
	}
	return string(frame) // small and does not escape for the lookup
}

// countError records a connection ended by an error of kind.
func (s *Server) countError(kind string) {
	for i, k := range errorKinds {
		if k == kind {
			s.errorsBy[i].Add(1)
			return
		}
	}
	s.errorsBy[len(errorKinds)-1].Add(1)
}

// Stats are the gateway's counters and gauges, read for metrics. Counters
// only grow; each field is read atomically but the set is not a snapshot.
type Stats struct {
	Connections   int64 // WebSocket connections open (CONNECTed or not)
	Sessions      int   // CONNECTed sessions live on this node
	Subscriptions int64 // subscriptions open
	// FramesIn and FramesOut count STOMP frames by command (see Commands);
	// Writes counts WebSocket messages written (frames are coalesced).
	FramesIn, FramesOut map[string]uint64
	Writes              uint64
	// Delivered counts MESSAGE frames queued to subscribers (live and replayed).
	Delivered uint64
	// Published counts chat messages SENDs stored and published.
	Published uint64
	// SlowConsumers counts connections cut off because their queue was full
	// or a write to them stalled for WriteTimeout.
	SlowConsumers uint64
	// CatchUps counts live chat subscriptions whose connection's queue was
	// above its high-water mark: instead of being cut, they went on from
	// history (a catch-up, resume.go) until they caught up.
	CatchUps uint64
	// WriterRuns counts writer goroutines started: a connection's writer
	// runs while it has a backlog; a frame the queueing goroutine could
	// write at once (enqueueNow) starts none.
	WriterRuns uint64
	// Errors counts connections ended by an error, by kind (see ErrorKinds).
	Errors map[string]uint64
}

// Commands returns the command label values of Stats.FramesIn/FramesOut.
func Commands() []string { return commands[:] }

// ErrorKinds returns the kind label values of Stats.Errors.
func ErrorKinds() []string { return errorKinds[:] }

// Stats returns the gateway's counters. Safe for concurrent use; it takes
// the session lock briefly to count sessions.
func (s *Server) Stats() Stats {
	st := Stats{Connections: s.connsOpen.Load(), Sessions: s.Sessions(), Subscriptions: s.subsOpen.Load(),
		FramesIn: make(map[string]uint64, len(commands)), FramesOut: make(map[string]uint64, len(commands)),
		Writes: s.framesOut.Load(), Delivered: s.delivered.Load(), Published: s.published.Load(), SlowConsumers: s.slowConsumers.Load(),
		CatchUps: s.catchUps.Load(), WriterRuns: s.writerRuns.Load(),
		Errors: make(map[string]uint64, len(errorKinds))}
	for i, c := range commands {
		st.FramesIn[c] = s.framesInBy[i].Load()
		st.FramesOut[c] = s.framesOutBy[i].Load()
	}
	for i, k := range errorKinds {
		st.Errors[k] = s.errorsBy[i].Load()
	}
	return st
}
