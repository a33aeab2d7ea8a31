//go:build linux || darwin || freebsd

package wsconn

import "syscall"

// tryWrite makes one non-blocking write of p to rc's socket (Go keeps it
// in non-blocking mode) and returns how much it took; a full send buffer
// (EAGAIN) is n = 0 and no error. It goes through Control, not Write: it
// never waits, so the write deadline a blocking write left on the socket
// must not apply (RawConn.Write fails at once once that has passed). The
// caller holds the connection's write lock, which every write takes.
func tryWrite(rc syscall.RawConn, p []byte) (n int, err error) {
	var werr error
	if err := rc.Control(func(fd uintptr) {
		for {
			n, werr = syscall.Write(int(fd), p)
			if werr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	if werr == syscall.EAGAIN {
		werr = nil
	}
	return n, werr
}
