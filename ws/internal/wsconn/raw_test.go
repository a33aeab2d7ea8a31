package wsconn_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

// Client frames that break RFC 6455 fail the connection with a close frame
// (1002), the last thing the server sends.
func TestProtocolErrors(t *testing.T) {
	url, conns := server(t, nil)
	for _, tc := range []struct {
		name   string
		frames [][]byte
	}{
		{"unmasked frame", [][]byte{frame(true, 0x1, []byte("hi"), false)}},
		{"reserved bit", [][]byte{append([]byte{0xc1}, frame(true, 0x1, []byte("hi"), true)[1:]...)}},
		{"unknown opcode", [][]byte{frame(true, 0x3, nil, true)}},
		{"control frame over 125 bytes", [][]byte{frame(true, 0x9, make([]byte, 126), true)}},
		{"fragmented ping", [][]byte{frame(false, 0x9, nil, true)}},
		{"continuation without a message", [][]byte{frame(true, 0x0, []byte("x"), true)}},
		{"new message inside a fragmented one", [][]byte{frame(false, 0x1, []byte("a"), true), frame(true, 0x1, []byte("b"), true)}},
		{"close with one byte", [][]byte{frame(true, 0x8, []byte{3}, true)}},
		{"close with code 1005", [][]byte{frame(true, 0x8, []byte{0x03, 0xed}, true)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, url, nil)
			e := <-conns
			r.send(tc.frames...)
			r.expectClose(wsconn.StatusProtocolError)
			if err := <-e.ends; err != nil {
				t.Fatalf("read loop ended with %v", err)
			}
			// The reader's close frame closed the connection for writes
			// too: data never follows it.
			if err := e.c.WriteText(make([]byte, wsconn.HeaderRoom+1)); !errors.Is(err, wsconn.ErrClosed) {
				t.Fatalf("write after close: %v", err)
			}
		})
	}
}

// Control frames may come between the fragments of a message: the pong
// goes out at once and the message arrives whole. A message sent in the
// same packet as the upgrade request is read too.
func TestFragmentsWithInterleavedControl(t *testing.T) {
	url, _ := server(t, nil)
	r := dialRaw(t, url, frame(true, 0x1, []byte("early"), true))
	if op, p, err := r.read(); err != nil || op != 0x1 || string(p) != "early" {
		t.Fatalf("first frame %d %q %v", op, p, err)
	}
	r.send(frame(false, 0x2, []byte("one "), true), frame(true, 0x9, []byte("ping!"), true),
		frame(false, 0x0, []byte("two "), true), frame(true, 0xA, []byte("unasked pong"), true),
		frame(true, 0x0, bytes.Repeat([]byte("3"), 70000), true))
	if op, p, err := r.read(); err != nil || op != 0xA || string(p) != "ping!" {
		t.Fatalf("want the pong first: %d %q %v", op, p, err)
	}
	if op, p, err := r.read(); err != nil || op != 0x1 || string(p) != "one two "+strings.Repeat("3", 70000) {
		t.Fatalf("message: %d, %d bytes, %v", op, len(p), err)
	}
}

// RFC 6455 §5.5.1: after the server's Close frame, no data frame follows,
// however the writer races it; the peer's close completes the handshake.
func TestNoDataAfterClose(t *testing.T) {
	url, conns := server(t, nil)
	r := dialRaw(t, url, nil)
	e := <-conns
	stop := make(chan struct{})
	writes := make(chan error, 1)
	go func() { // a writer racing Close
		for {
			select {
			case <-stop:
				writes <- nil
				return
			default:
			}
			if err := e.c.WriteText(append(make([]byte, wsconn.HeaderRoom), "data"...)); err != nil {
				if !errors.Is(err, wsconn.ErrClosed) {
					writes <- err
					return
				}
			}
		}
	}()
	time.Sleep(10 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- e.c.Close(wsconn.StatusNormalClosure, "done") }()
	for {
		op, p, err := r.read()
		if err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		if op == 0x8 {
			if string(p[2:]) != "done" {
				t.Fatalf("close frame %q", p)
			}
			break
		}
	}
	// Nothing but the end of the stream after the close frame, once we
	// answer it.
	r.send(frame(true, 0x8, []byte{0x03, 0xe8}, true))
	if op, p, err := r.read(); err == nil {
		t.Fatalf("frame after close: %d %q", op, p)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	close(stop)
	if err := <-writes; err != nil {
		t.Fatalf("writer: %v", err)
	}
	if err := <-e.ends; err != nil {
		t.Fatalf("read loop: %v", err)
	}
}

// Close waits at most the close timeout for a peer that never answers.
func TestCloseTimeout(t *testing.T) {
	url, conns := server(t, &wsconn.Options{CloseTimeout: 100 * time.Millisecond})
	r := dialRaw(t, url, nil)
	e := <-conns
	if err := e.c.Close(wsconn.StatusGoingAway, ""); err != nil {
		t.Fatal(err)
	}
	r.expectClose(wsconn.StatusGoingAway)
	if err := <-e.ends; err != nil {
		t.Fatalf("read loop: %v", err)
	}
}

// A read loop idle for RelayIdle after a message moves to a fresh
// goroutine and still reads.
func TestIdleRelayKeepsReading(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 2.5 s")
	}
	url, _ := server(t, nil)
	r := dialRaw(t, url, nil)
	for i := range 2 {
		r.send(frame(true, 0x1, []byte("hello"), true))
		if op, p, err := r.read(); err != nil || op != 0x1 || string(p) != "hello" {
			t.Fatalf("round %d: %d %q %v", i, op, p, err)
		}
		time.Sleep(wsconn.RelayIdle + 500*time.Millisecond)
	}
}
