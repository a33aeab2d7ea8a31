//go:build !(linux || darwin || freebsd)

package wsconn

import "syscall"

// tryWrite takes nothing where a non-blocking attempt is not wired up: the
// caller's writer then writes everything with WriteRaw.
func tryWrite(syscall.RawConn, []byte) (int, error) { return 0, nil }
