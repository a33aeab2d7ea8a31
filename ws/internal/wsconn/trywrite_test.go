package wsconn_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

// TryWriteText never waits for the peer: a message larger than the
// socket's buffers comes back with the part the socket did not take,
// returned at once although the peer reads nothing; WriteRaw then
// completes it, and the peer reads one whole message followed by the next
// one. A small message goes out whole.
func TestTryWriteTextNeverWaits(t *testing.T) {
	url, conns := writeServer(t, &wsconn.Options{WriteTimeout: 5 * time.Second})
	r := dialRaw(t, url, nil)
	c := <-conns
	defer c.CloseNow()

	small := append(make([]byte, wsconn.HeaderRoom), "hello"...)
	rest, err := c.TryWriteText(small)
	if err != nil || rest != nil {
		t.Fatalf("a small message: rest %d bytes, err %v; want all written", len(rest), err)
	}

	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB: more than the socket buffers hold
	big := append(make([]byte, wsconn.HeaderRoom), payload...)
	start := time.Now()
	rest, err = c.TryWriteText(big)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("TryWriteText took %s with a peer reading nothing: it waited", took)
	}
	if err != nil || len(rest) == 0 || len(rest) >= len(payload) {
		t.Fatalf("a 16 MiB message to a peer reading nothing: rest %d bytes, err %v; want a part written and the rest back", len(rest), err)
	}
	rest = append([]byte(nil), rest...) // it aliases big
	done := make(chan error, 1)
	go func() {
		if err := c.WriteRaw(rest); err != nil {
			done <- err
			return
		}
		done <- c.WriteText(append(make([]byte, wsconn.HeaderRoom), "after"...))
	}()
	for i, want := range [][]byte{[]byte("hello"), payload, []byte("after")} {
		op, got, err := r.read()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if op != 0x1 || !bytes.Equal(got, want) {
			t.Fatalf("message %d: opcode %d, %d bytes; want a text message of %d bytes, equal", i, op, len(got), len(want))
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	c.CloseNow()
	if _, err := c.TryWriteText(append(make([]byte, wsconn.HeaderRoom), "x"...)); !errors.Is(err, wsconn.ErrClosed) {
		t.Fatalf("after CloseNow: %v, want ErrClosed", err)
	}
}

// The write deadline a blocking write left on the socket does not apply to
// TryWriteText, which never waits: long after it passed, a message still
// goes out (it once failed with a deadline error and cut the connection of
// every client whose writes had all been made inline for WriteTimeout).
func TestTryWriteTextIgnoresAnOldWriteDeadline(t *testing.T) {
	const timeout = 100 * time.Millisecond
	url, conns := writeServer(t, &wsconn.Options{WriteTimeout: timeout})
	r := dialRaw(t, url, nil)
	c := <-conns
	defer c.CloseNow()
	if err := c.WriteText(append(make([]byte, wsconn.HeaderRoom), "first"...)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * timeout / 2)
	rest, err := c.TryWriteText(append(make([]byte, wsconn.HeaderRoom), "second"...))
	if err != nil || rest != nil {
		t.Fatalf("after the deadline of an earlier write passed: rest %d bytes, err %v; want it written", len(rest), err)
	}
	for _, want := range []string{"first", "second"} {
		if _, got, err := r.read(); err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
}
