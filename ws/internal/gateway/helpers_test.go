package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/authtest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
	"github.com/roomwire/roomwire/ws/internal/wsnode/wsnodetest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

var secret = []byte("test-secret")

// env is one ws node as cmd/ws assembles it (wsnode), on a private key
// prefix, with the stores the tests reach into.
type env struct {
	t     testing.TB
	rdb   *redis.Client
	keys  keys.Space
	rooms *room.Store
	msgs  *messages.Store
	reg   *registry.Registry
	gw    *gateway.Server
	hub   *fanout.Hub
	url   string              // the node's WebSocket endpoint
	logs  *authtest.LogBuffer // everything the node logs, at debug level
}

func newEnv(t testing.TB, mutate func(*gateway.Config)) *env {
	t.Helper()
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvVerifier(t, verifier, mutate)
}

// newEnvVerifier is newEnv with another token verifier. The CONNECT rate
// limit per IP is off unless mutate sets one: every test dials from
// 127.0.0.1. A Logger set by mutate receives the whole node's logs.
func newEnvVerifier(t testing.TB, verifier gateway.Verifier, mutate func(*gateway.Config)) *env {
	t.Helper()
	cfg := gateway.Config{WriteTimeout: 2 * time.Second, ConnectRate: -1}
	if mutate != nil {
		mutate(&cfg)
	}
	return startEnv(t, redistest.Space(t), verifier, wsnode.Config{Logger: cfg.Logger, Gateway: cfg,
		Messages: messages.Config{MaxBytes: 40000}})
}

// startEnv starts a node with cfg on key space ks (nodes started on one ks
// form a cluster). Without cfg.Logger the node logs at debug level into
// e.logs (warnings also go to stderr); when the test ends the capture must
// hold no token.
func startEnv(t testing.TB, ks keys.Space, verifier gateway.Verifier, cfg wsnode.Config) *env {
	t.Helper()
	e := &env{t: t, rdb: srv.Client(t), keys: ks, logs: &authtest.LogBuffer{}}
	t.Cleanup(func() { authtest.AssertNoSecrets(t, "node", e.logs.String(), secret) })
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewMultiHandler(
			slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
			slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	n := wsnodetest.Start(t, e.rdb, ks, verifier, cfg)
	e.rooms, e.msgs, e.reg, e.gw, e.hub, e.url = n.Rooms, n.Messages, n.Registry, n.Gateway, n.Hub, n.WS
	return e
}

func (e *env) token(user int64) string {
	e.t.Helper()
	tok, err := auth.Mint(secret, user, "", time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// directRoom creates a direct room of a and b and returns its id.
func (e *env) directRoom(a, b int64) int64 {
	e.t.Helper()
	r, _, err := e.rooms.CreateDirect(context.Background(), a, b)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.ID
}

// client is a raw STOMP client over a real WebSocket.
type client struct {
	t      testing.TB
	ws     *websocket.Conn
	dec    *stomp.Decoder
	frames chan *stomp.Frame
	closed chan struct{}
	err    error
	gate   chan struct{}                 // closed by pause: the read loop stops reading
	held   atomic.Pointer[chan struct{}] // set by stall: the read loop waits until it is closed
	done   chan struct{}                 // closed when the test ends
	raws   atomic.Int64                  // WebSocket messages received
	rawLog []string                      // their text (read after closed)
}

// pause makes the client stop reading from its socket for good.
func (c *client) pause() { close(c.gate) }

// stall makes the client stop reading from its socket (after the message
// it may be reading) until release is called.
func (c *client) stall() (release func()) {
	ch := make(chan struct{})
	c.held.Store(&ch)
	var once sync.Once
	return func() { once.Do(func() { c.held.Store(nil); close(ch) }) }
}

func (e *env) dial(headers ...http2Header) *client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{Subprotocols: []string{"v12.stomp", "v11.stomp", "v10.stomp"}}
	for _, h := range headers {
		if opts.HTTPHeader == nil {
			opts.HTTPHeader = map[string][]string{}
		}
		opts.HTTPHeader[h.k] = []string{h.v}
	}
	ws, _, err := websocket.Dial(ctx, e.url, opts)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 22)
	c := &client{t: e.t, ws: ws, dec: stomp.NewDecoder(stomp.Limits{MaxFrameBytes: 1 << 22}),
		frames: make(chan *stomp.Frame, 10000), closed: make(chan struct{}), gate: make(chan struct{}), done: make(chan struct{})}
	go c.readLoop()
	e.t.Cleanup(func() { close(c.done); ws.CloseNow() })
	return c
}

type http2Header struct{ k, v string }

func (c *client) readLoop() {
	defer close(c.closed)
	for {
		select {
		case <-c.gate:
			<-c.done // a paused client reads nothing more until the test ends
		default:
		}
		if h := c.held.Load(); h != nil {
			select {
			case <-*h:
			case <-c.done:
			}
		}
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		c.raws.Add(1)
		if len(c.rawLog) < 100 {
			c.rawLog = append(c.rawLog, string(data))
		}
		if err := c.dec.Decode(data, func(f *stomp.Frame) error { c.frames <- f; return nil }); err != nil {
			c.err = err
			return
		}
	}
}

// raw sends bytes as one WebSocket text message.
func (c *client) raw(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send encodes and sends one frame.
func (c *client) send(cmd string, body string, kv ...string) {
	c.t.Helper()
	f := &stomp.Frame{Command: cmd, Body: []byte(body)}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Headers = append(f.Headers, stomp.Header{Key: kv[i], Value: kv[i+1]})
	}
	c.raw(string(stomp.AppendFrame(nil, f, stomp.V12)))
}

// next waits for the next frame.
func (c *client) next() *stomp.Frame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-time.After(5 * time.Second):
		c.t.Fatalf("no frame within 5s (read error: %v)", c.err)
		return nil
	}
}

// expect waits for the next frame and checks its command.
func (c *client) expect(cmd string) *stomp.Frame {
	c.t.Helper()
	f := c.next()
	if f.Command != cmd {
		c.t.Fatalf("got %s %v %q, want %s", f.Command, f.Headers, f.Body, cmd)
	}
	return f
}

// expectClosed waits until the server closed the socket.
func (c *client) expectClosed() {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(5 * time.Second):
		c.t.Fatal("server did not close the connection")
	}
}

// noFrame asserts nothing arrives for a short while.
func (c *client) noFrame(d time.Duration) {
	c.t.Helper()
	select {
	case f := <-c.frames:
		c.t.Fatalf("unexpected frame %s %v %q", f.Command, f.Headers, f.Body)
	case <-time.After(d):
	}
}

// connect performs CONNECT as the seed client does and returns CONNECTED.
func (e *env) connect(user int64, extra ...string) (*client, *stomp.Frame) {
	e.t.Helper()
	c := e.dial()
	kv := append([]string{"Authorization", "Bearer " + e.token(user), "accept-version", "1.2,1.1,1.0", "heart-beat", "10000,10000"}, extra...)
	c.send("CONNECT", "", kv...)
	return c, c.expect("CONNECTED")
}

func msgOf(t testing.TB, f *stomp.Frame) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(f.Body, &m); err != nil {
		t.Fatalf("body %q: %v", f.Body, err)
	}
	return m
}

func sendBody(room, sender int64, text string) string {
	return fmt.Sprintf(`{"chatRoomId":%d,"sendId":%d,"message":%q}`, room, sender, text)
}

func mintWith(key []byte, user int64) string {
	tok, _ := auth.Mint(key, user, "", time.Hour)
	return tok
}

func mintExpired(user int64) (string, error) { return auth.Mint(secret, user, "", -time.Hour) }
