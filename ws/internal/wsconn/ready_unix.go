//go:build linux || darwin || freebsd

package wsconn

import "syscall"

// readable is a syscall.RawConn.Read callback: true once the socket has a
// byte to read, EOF or an error pending (peeked, nothing is consumed);
// false asks the runtime poller to wait for readability.
func readable(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN && err != syscall.EINTR
}
