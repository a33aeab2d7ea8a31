package wsconn_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

// writeServer accepts one connection with o and hands it over.
func writeServer(t *testing.T, o *wsconn.Options) (url string, conns chan *wsconn.Conn) {
	t.Helper()
	conns = make(chan *wsconn.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wsconn.Accept(w, r, o)
		if err != nil {
			return
		}
		conns <- c
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), conns
}

// A write bounds the peer's silence, not its pace: one message that takes
// several write timeouts to cross because the peer reads it slowly is
// written whole; a peer that reads nothing still fails the write within
// about the timeout.
func TestWriteTimeoutCutsOnlyAPeerThatReadsNothing(t *testing.T) {
	const timeout = 300 * time.Millisecond
	msg := make([]byte, wsconn.HeaderRoom+16<<20) // more than socket buffers hold
	for _, reads := range []bool{true, false} {
		url, conns := writeServer(t, &wsconn.Options{WriteTimeout: timeout})
		r := dialRaw(t, url, nil)
		c := <-conns
		done := make(chan struct{})
		if reads {
			// About 16 MB/s: the message takes about a second, over
			// three write timeouts.
			go func() {
				defer close(done)
				buf := make([]byte, 64<<10)
				for n := 0; n < len(msg)-wsconn.HeaderRoom; {
					k, err := r.br.Read(buf)
					if err != nil {
						t.Errorf("read after %d bytes: %v", n, err)
						return
					}
					n += k
					time.Sleep(4 * time.Millisecond)
				}
			}()
		} else {
			close(done)
		}
		_ = r.nc.SetDeadline(time.Now().Add(30 * time.Second))
		start := time.Now()
		err := c.WriteText(msg)
		took := time.Since(start)
		if reads {
			if err != nil {
				t.Fatalf("a slowly read message failed after %s: %v", took, err)
			}
			if took < timeout {
				t.Fatalf("the message took %s, less than the write timeout: the test proves nothing", took)
			}
		} else if !errors.Is(err, os.ErrDeadlineExceeded) || took > 3*timeout {
			t.Fatalf("a peer reading nothing: err %v after %s, want a deadline error within about %s", err, took, timeout)
		}
		<-done
		c.CloseNow()
	}
}
