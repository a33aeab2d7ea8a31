package load

import (
	"context"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The last SlowReaders connections read slowly; the options are checked.
func TestSlowReaders(t *testing.T) {
	c := Config{Rooms: 2, RoomSize: 5, SlowReaders: 3, ReadDelay: time.Millisecond}
	var slow []int
	for i := range c.Conns() {
		if c.slowReader(i) {
			slow = append(slow, i)
		}
	}
	if len(slow) != 3 || slow[0] != 7 || slow[2] != 9 {
		t.Fatalf("slow readers %v, want the last 3 (7, 8, 9)", slow)
	}
	for _, tc := range []struct {
		mutate  func(*Config)
		wantErr string
	}{
		{func(c *Config) { c.SlowReaders, c.ReadDelay = 11, time.Millisecond }, "slow readers"},
		{func(c *Config) { c.SlowReaders, c.ReadDelay = 2, 0 }, "read delay"},
		{func(c *Config) { c.ReadDelay = -time.Millisecond }, "read delay"},
		{func(c *Config) { c.RcvBuf = -1 }, "SO_RCVBUF"},
	} {
		c := Config{WS: []string{"ws://127.0.0.1:1/ws"}, Rooms: 5, RoomSize: 2, Secret: []byte("s"), Seed: nopSeeder{}}
		tc.mutate(&c)
		c.defaults()
		if err := c.validate(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%+v: err = %v, want %q", c, err, tc.wantErr)
		}
	}
}

type nopSeeder struct{}

func (nopSeeder) CreateRoom(context.Context, []int64, bool, string) (int64, error) { return 0, nil }

// RcvBuf sets SO_RCVBUF on every client socket (the kernel doubles it).
func TestClientSocketsTakeRcvBuf(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, n := range []int{1, 2} {
		for _, hc := range httpClients(n, 8192) {
			conn, err := hc.Transport.(*http.Transport).DialContext(context.Background(), "tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			rc, err := conn.(*net.TCPConn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var got int
			var gerr error
			_ = rc.Control(func(fd uintptr) { got, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF) })
			conn.Close()
			if gerr != nil || got < 8192 || got > 4*8192 {
				t.Fatalf("source addresses %d: SO_RCVBUF %d (%v), want about 8192", n, got, gerr)
			}
		}
	}
}
