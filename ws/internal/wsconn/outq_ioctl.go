//go:build linux && (amd64 || arm64 || 386 || arm || riscv64 || s390x || loong64)

package wsconn

import (
	"syscall"
	"unsafe"
)

// siocoutq is Linux's SIOCOUTQ (= TIOCOUTQ), not in package syscall.
const siocoutq = 0x5411

// unsent returns the bytes in the socket's send queue that the peer has
// not acknowledged yet (SIOCOUTQ); ok is false when rc is nil or the
// socket does not tell.
func unsent(rc syscall.RawConn) (n int, ok bool) {
	if rc == nil {
		return 0, false
	}
	var q int32
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, siocoutq, uintptr(unsafe.Pointer(&q)))
	}); err != nil || errno != 0 {
		return 0, false
	}
	return int(q), true
}
