// Package gateway serves STOMP 1.0/1.1/1.2 over WebSocket: it accepts
// connections on /ws, authenticates CONNECT, registers sessions in the
// Redis registry, maps SUBSCRIBE to the fan-out hub and SEND to the shared
// send path, and ends every session exactly once.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/auth"
	"github.com/roomwire/roomwire/shared/fanout"
	"github.com/roomwire/roomwire/shared/keys"
	"github.com/roomwire/roomwire/shared/registry"
	"github.com/roomwire/roomwire/shared/wire"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// Verifier checks CONNECT tokens.
type Verifier interface {
	Verify(token string) (auth.Identity, error)
}

// Members answers room membership.
type Members interface {
	IsMember(ctx context.Context, roomID, userID int64) (bool, error)
}

// Sender is the shared send path.
type Sender interface {
	Send(ctx context.Context, roomID, sender, rcv int64, text string) (wire.Message, []byte, error)
}

// History reads a room's stored messages after a seq, oldest first, and the
// oldest seq still retained.
type History interface {
	Since(ctx context.Context, roomID, after int64, limit int) ([][]byte, int64, error)
}

// Sessions is the session registry.
type Sessions interface {
	Register(ctx context.Context, s registry.Session) (bool, error)
	// End removes this node's own session (views included, idempotently).
	End(ctx context.Context, s registry.Session, reason string) (bool, error)
}

// Broker is the node's pub/sub hub.
type Broker interface {
	Subscribe(ctx context.Context, channel string, s fanout.Subscriber) error
	Unsubscribe(channel string, s fanout.Subscriber)
}

// Config configures a Server. Zero fields take the defaults in brackets.
type Config struct {
	NodeID string // required
	// AllowedOrigins lists browser origins allowed besides same-origin
	// ("https://app.example.com", or host patterns like "*.example.com").
	AllowedOrigins []string
	ServerName     string        // CONNECTED server header ["roomwire/0.1"]
	HeartbeatOut   time.Duration // server-to-client beats offered [10s]
	HeartbeatIn    time.Duration // client-to-server beats wanted [10s]
	ConnectTimeout time.Duration // time allowed before CONNECT [10s]
	IdleTimeout    time.Duration // read timeout without heart-beats [5m]
	WriteTimeout   time.Duration // deadline of each socket write [10s]
	RedisTimeout   time.Duration // deadline of each Redis call of a frame [5s]
	// MaxPreAuthFrameBytes bounds frames before CONNECT succeeds [8 KiB];
	// MaxFrameBytes after [64 KiB]; MaxHeaders after [64].
	MaxPreAuthFrameBytes int
	MaxFrameBytes        int
	MaxHeaders           int
	QueueFrames          int // outbound frames queued per connection [4096]
	QueueBytes           int // outbound bytes queued per connection [4 MiB]
	MaxBatchBytes        int // bytes coalesced into one WebSocket message [64 KiB]
	MaxSubscriptions     int // per session [64]
	MaxTransactions      int // open per session [16]
	MaxTxFrames          int // frames per transaction [128]
	MaxPendingAcks       int // unacknowledged client-ack deliveries [1024]
	MaxReplay            int // messages replayed for one last-seq SUBSCRIBE [1000]
	Logger               *slog.Logger
}

func (c *Config) defaults() {
	def := func(p *time.Duration, d time.Duration) {
		if *p <= 0 {
			*p = d
		}
	}
	defInt := func(p *int, d int) {
		if *p <= 0 {
			*p = d
		}
	}
	if c.ServerName == "" {
		c.ServerName = "roomwire/0.1"
	}
	def(&c.HeartbeatOut, 10*time.Second)
	def(&c.HeartbeatIn, 10*time.Second)
	def(&c.ConnectTimeout, 10*time.Second)
	def(&c.IdleTimeout, 5*time.Minute)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.RedisTimeout, 5*time.Second)
	defInt(&c.MaxPreAuthFrameBytes, 8<<10)
	defInt(&c.MaxFrameBytes, 64<<10)
	defInt(&c.MaxHeaders, 64)
	defInt(&c.QueueFrames, 4096)
	defInt(&c.QueueBytes, 4<<20)
	defInt(&c.MaxBatchBytes, 64<<10)
	defInt(&c.MaxSubscriptions, 64)
	defInt(&c.MaxTransactions, 16)
	defInt(&c.MaxTxFrames, 128)
	defInt(&c.MaxPendingAcks, 1024)
	defInt(&c.MaxReplay, 1000)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Server accepts STOMP-over-WebSocket connections.
type Server struct {
	cfg      Config
	log      *slog.Logger
	keys     keys.Space
	verifier Verifier
	members  Members
	sender   Sender
	history  History
	sessions Sessions
	hub      Broker
	origins  []string

	// mu guards live: this node's open sessions by id (socket handles for
	// kicks; the registry of record is in Redis).
	mu       sync.Mutex
	live     map[string]*conn
	draining bool
	wg       sync.WaitGroup

	framesIn, framesOut, delivered, slowConsumers atomic.Uint64
}

// Deps are the collaborators of a Server.
type Deps struct {
	Keys     keys.Space
	Verifier Verifier
	Members  Members
	Sender   Sender
	History  History
	Sessions Sessions
	Hub      Broker
}

// New returns a Server.
func New(cfg Config, d Deps) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, log: cfg.Logger, keys: d.Keys, verifier: d.Verifier, members: d.Members,
		sender: d.Sender, history: d.History, sessions: d.Sessions, hub: d.Hub, live: make(map[string]*conn)}
	for _, o := range cfg.AllowedOrigins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			o = u.Host
		}
		s.origins = append(s.origins, strings.ToLower(o))
	}
	return s
}

// ServeHTTP upgrades /ws requests and serves the connection until it ends.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	draining := s.draining
	if !draining {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if draining {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{"v12.stomp", "v11.stomp", "v10.stomp"},
		OriginPatterns: s.origins,
	})
	if err != nil {
		s.log.Debug("websocket upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	ws.SetReadLimit(int64(s.cfg.MaxFrameBytes) + 1024)
	c := newConn(s, ws, remoteAddr(r.RemoteAddr))
	c.serve(context.Background())
}

func (s *Server) frameLimits() stomp.Limits {
	return stomp.Limits{MaxFrameBytes: s.cfg.MaxFrameBytes, MaxHeaders: s.cfg.MaxHeaders}
}

func (s *Server) redisCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.RedisTimeout)
}

func (s *Server) remember(c *conn) {
	s.mu.Lock()
	s.live[c.id] = c
	s.mu.Unlock()
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	if s.live[c.id] == c {
		delete(s.live, c.id)
	}
	s.mu.Unlock()
}

// Sessions returns the number of live sessions on this node.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Local returns the registry entries of this node's live sessions.
func (s *Server) Local() []registry.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]registry.Session, 0, len(s.live))
	for _, c := range s.live {
		out = append(out, c.sess)
	}
	return out
}

// Kick ends the listed sessions if they live on this node; it returns how
// many it found.
func (s *Server) Kick(ids []string, reason string) int {
	n := 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if c := s.live[id]; c != nil {
			c.kick(reason, websocket.StatusNormalClosure)
			n++
		}
	}
	return n
}

// Revoke ends the sessions of user that are in room or subscribed to it,
// after the user lost membership.
func (s *Server) Revoke(roomID, userID int64, reason string) int {
	s.mu.Lock()
	var hit []*conn
	for _, c := range s.live {
		if c.ident.UserID == userID {
			hit = append(hit, c)
		}
	}
	s.mu.Unlock()
	n := 0
	for _, c := range hit {
		if c.watches(roomID) {
			c.kick(reason, websocket.StatusPolicyViolation)
			n++
		}
	}
	return n
}

// Shutdown stops accepting, asks every client to reconnect elsewhere (ERROR
// then close 1012 "service restart"), and waits for all connections to end
// or ctx to expire.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	for _, c := range s.live {
		c.setEnd("shutdown")
		p := problem{message: "server shutting down, reconnect", code: websocket.StatusServiceRestart}
		c.finish(c.errorFrame(p, "", false), p.code, "service restart")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("gateway: connections still open at shutdown deadline")
	}
}
