package gateway_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// 100 CONNECTs of one user race over real WebSockets (no CONNECT rate
// limit): exactly MaxSessionsPerUser get CONNECTED, every other one the
// session-cap ERROR with close code 1008, and the registry holds no more.
func TestSessionsPerUserUnderRace(t *testing.T) {
	const limit, tries = 20, 100
	e := newEnv(t, func(c *gateway.Config) { c.MaxSessionsPerUser = limit })
	tok := e.token(8)
	results := make([]connectOutcome, tries)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range tries {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ws, _, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: []string{"v12.stomp"}})
		cancel()
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			results[i] = connectOnce(ws, tok)
		}()
	}
	start.Done()
	wg.Wait()

	connected, refused := 0, 0
	for i, r := range results {
		switch {
		case r.connected:
			connected++
		case strings.Contains(r.message, "at most 20 concurrent sessions per user") && r.code == websocket.StatusPolicyViolation:
			refused++
		default:
			t.Errorf("CONNECT %d: ERROR %q, close %v, err %v", i, r.message, r.code, r.err)
		}
	}
	n := e.rdb.HLen(context.Background(), e.keys.UserSessions(8)).Val()
	if connected != limit || refused != tries-limit || n != limit {
		t.Errorf("%d CONNECTED, %d refused, %d sessions registered; want %d, %d, %d", connected, refused, n, limit, tries-limit, limit)
	}
}

// connectOutcome is how one CONNECT ended: CONNECTED, or an ERROR frame
// (message header) and the close code that followed it.
type connectOutcome struct {
	connected bool
	message   string
	code      websocket.StatusCode
	err       error
}

// connectOnce sends CONNECT on ws and reads the answer; after an ERROR it
// waits for the close and reports its code. It may run on any goroutine.
func connectOnce(ws *websocket.Conn, tok string) (out connectOutcome) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := &stomp.Frame{Command: "CONNECT", Headers: []stomp.Header{
		{Key: "Authorization", Value: "Bearer " + tok}, {Key: "accept-version", Value: "1.2"}}}
	if out.err = ws.Write(ctx, websocket.MessageText, stomp.AppendFrame(nil, f, stomp.V12)); out.err != nil {
		return out
	}
	dec := stomp.NewDecoder(stomp.Limits{MaxFrameBytes: 1 << 16})
	var first *stomp.Frame
	for first == nil {
		_, data, err := ws.Read(ctx)
		if err != nil {
			out.err, out.code = err, websocket.CloseStatus(err)
			return out
		}
		if err := dec.Decode(data, func(fr *stomp.Frame) error {
			if first == nil {
				first = fr
			}
			return nil
		}); err != nil {
			out.err = err
			return out
		}
	}
	if first.Command == "CONNECTED" {
		out.connected = true
		return out
	}
	out.message, _ = first.Get("message")
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			out.code = websocket.CloseStatus(err)
			if out.code == -1 {
				out.err = errors.Join(errors.New("no close frame"), err)
			}
			return out
		}
	}
}
