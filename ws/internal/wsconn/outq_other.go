//go:build !(linux && (amd64 || arm64 || 386 || arm || riscv64 || s390x || loong64))

package wsconn

import "syscall"

// unsent does not know the send queue outside Linux (and its platforms
// whose SIOCOUTQ is 0x5411): every write is
// bounded by the write timeout.
func unsent(syscall.RawConn) (int, bool) { return 0, false }
