//go:build linux || darwin || freebsd

package wsconn

import "syscall"

// tryWrite makes one non-blocking write of p to rc's socket (Go keeps it
// in non-blocking mode) and returns how much it took; a full send buffer
// (EAGAIN) is n = 0 and no error.
func tryWrite(rc syscall.RawConn, p []byte) (n int, err error) {
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), p)
			if werr != syscall.EINTR {
				return true // done either way: never wait for the poller
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
