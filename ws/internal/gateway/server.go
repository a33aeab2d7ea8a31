// Package gateway serves STOMP 1.0/1.1/1.2 over WebSocket: it accepts
// connections on /ws, authenticates CONNECT, registers sessions in the
// Redis registry, maps SUBSCRIBE to the fan-out hub and SEND to the shared
// send path, and ends every session exactly once.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/infra/clientip"
	"github.com/roomwire/roomwire/shared/infra/ratelimit"
	"github.com/roomwire/roomwire/shared/infra/requestid"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/wsconn"
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
// oldest seq still retained; LastSeq is the room's latest seq (0 before its
// first message).
type History interface {
	Since(ctx context.Context, roomID, after int64, limit int) ([][]byte, int64, error)
	LastSeq(ctx context.Context, roomID int64) (int64, error)
}

// Sessions is the session registry. RegisterCapped admits a CONNECT: it
// checks the CONNECT room's membership of the users CONNECT names and
// enforces MaxSessionsPerUser atomically (on a single Redis in the one
// round trip that registers the session, with the room's read move riding
// in it).
type Sessions interface {
	RegisterCapped(ctx context.Context, s registry.Session, t registry.Terms, riders ...registry.Rider) (bool, error)
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
	// AllowedOrigins lists browser origins allowed besides same-origin:
	// "https://app.example.com" (scheme and host must both match), or host
	// patterns like "*.example.com" (any scheme).
	AllowedOrigins []string
	ServerName     string        // CONNECTED server header ["roomwire/0.1"]
	HeartbeatOut   time.Duration // server-to-client beats offered [10s]
	HeartbeatIn    time.Duration // client-to-server beats wanted [10s]
	ConnectTimeout time.Duration // time allowed before CONNECT [10s]
	// IdleTimeout is the read timeout of a session without client
	// heart-beats [5m]. With them it is twice their interval (plus 1s),
	// and a client asking to beat less often than every IdleTimeout/2 is
	// held to that, so no session is silent much longer than IdleTimeout.
	IdleTimeout  time.Duration
	WriteTimeout time.Duration // how long a socket write may go with the peer acknowledging nothing (wsconn) [10s]
	RedisTimeout time.Duration // deadline of each Redis call of a frame [5s]
	// Before CONNECT succeeds a frame is bounded by MaxPreAuthFrameBytes
	// [8 KiB], MaxPreAuthHeaders header lines [16] of MaxPreAuthHeaderBytes
	// each [4 KiB, room for a large JWT]; after it by MaxFrameBytes
	// [64 KiB], MaxHeaders [64] and MaxHeaderBytes [8 KiB]. These also bound
	// the bytes buffered for an unfinished frame.
	MaxPreAuthFrameBytes  int
	MaxPreAuthHeaders     int
	MaxPreAuthHeaderBytes int
	MaxFrameBytes         int
	MaxHeaders            int
	MaxHeaderBytes        int
	// MaxSessionsPerUser bounds a user's concurrent sessions on all nodes
	// together [20]; a CONNECT beyond gets ERROR. Checked atomically with
	// the registration, so racing CONNECTs never overshoot.
	MaxSessionsPerUser int
	// ConnectRate and ConnectBurst bound WebSocket upgrades per remote IP
	// (IPv6: per /64) on this node: a token bucket refilled ConnectRate
	// times a second [10] holding ConnectBurst [50]. Beyond, the upgrade
	// is answered 429 with Retry-After. Negative ConnectRate: no limit.
	// The remote IP is ClientIP's.
	ConnectRate  float64
	ConnectBurst int
	// ClientIP finds an upgrade's client address, for the CONNECT rate
	// limit, the session's registry entry and the logs [the zero Resolver:
	// the TCP peer; X-Forwarded-For only from trusted proxies].
	ClientIP clientip.Resolver
	// SendRate and SendBurst bound SEND frames per session: a token bucket
	// refilled SendRate times a second [1000] holding SendBurst [2000]. A
	// SEND beyond gets ERROR "rate limit exceeded" and the connection is
	// closed (1008). Negative SendRate: no limit.
	SendRate  float64
	SendBurst int
	// FrameRate and FrameBurst bound every client frame after CONNECT but
	// DISCONNECT (SEND, SUBSCRIBE, ACK, BEGIN... alike) per session: a
	// token bucket refilled FrameRate times a second [2000] holding
	// FrameBurst [4000]. SEND and SUBSCRIBE/UNSUBSCRIBE are bounded by
	// their own budgets besides. Beyond, ERROR "rate limit exceeded: ..."
	// and close 1008. Negative FrameRate: no limit.
	FrameRate  float64
	FrameBurst int
	// SubscribeRate and SubscribeBurst bound SUBSCRIBE and UNSUBSCRIBE
	// frames per session, each costing Redis round trips: a token bucket
	// refilled SubscribeRate times a second [20] holding SubscribeBurst
	// [100]. A SUBSCRIBE with last-seq (a replay from history) costs
	// ResumeCost tokens, UNSUBSCRIBE and other SUBSCRIBEs one. Beyond,
	// ERROR "rate limit exceeded: ..." and close 1008. Negative
	// SubscribeRate: no limit.
	SubscribeRate    float64
	SubscribeBurst   int
	QueueFrames      int // outbound frames queued per connection [4096]
	QueueBytes       int // outbound bytes queued per connection [4 MiB]
	MaxBatchBytes    int // bytes coalesced into one WebSocket message [64 KiB]
	MaxSubscriptions int // per session [64]
	// MaxTransactions bounds open transactions per session [16],
	// MaxTxFrames the frames one holds [128], and MaxTxBytes the bytes
	// all of a session's open transactions hold together, counted as the
	// frames retain them (body, header text and bookkeeping) [256 KiB].
	// Beyond any, ERROR "limit exceeded: ..." and close 1008.
	MaxTransactions int
	MaxTxFrames     int
	MaxTxBytes      int
	MaxPendingAcks  int // unacknowledged client-ack deliveries [1024]
	// MaxReplay bounds the messages replayed from history for one last-seq
	// SUBSCRIBE [1000], counting those read again after a dropped live
	// buffer (resume.go); the gap after them is announced.
	MaxReplay int
	Logger    *slog.Logger
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
	defInt(&c.MaxPreAuthHeaders, 16)
	defInt(&c.MaxPreAuthHeaderBytes, 4<<10)
	defInt(&c.MaxFrameBytes, 64<<10)
	defInt(&c.MaxHeaders, 64)
	defInt(&c.MaxHeaderBytes, 8<<10)
	defInt(&c.MaxSessionsPerUser, 20)
	if c.ConnectRate == 0 {
		c.ConnectRate = 10
	}
	defInt(&c.ConnectBurst, 50)
	if c.SendRate == 0 {
		c.SendRate = 1000
	}
	defInt(&c.SendBurst, 2000)
	if c.FrameRate == 0 {
		c.FrameRate = 2000
	}
	defInt(&c.FrameBurst, 4000)
	if c.SubscribeRate == 0 {
		c.SubscribeRate = 20
	}
	defInt(&c.SubscribeBurst, 100)
	defInt(&c.QueueFrames, 4096)
	defInt(&c.QueueBytes, 4<<20)
	defInt(&c.MaxBatchBytes, 64<<10)
	defInt(&c.MaxSubscriptions, 64)
	defInt(&c.MaxTransactions, 16)
	defInt(&c.MaxTxFrames, 128)
	defInt(&c.MaxTxBytes, 256<<10)
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
	reads    ReadMarker // nil: no read destination, nothing marked at CONNECT
	typist   Typist     // nil: no typing destination
	origins  []string
	connects *ratelimit.Keyed // upgrades per remote IP

	// mu guards live: this node's open sessions by id (socket handles for
	// kicks; the registry of record is in Redis), and connecting: the ids
	// of those whose CONNECT is still registering them.
	mu         sync.Mutex
	live       map[string]*conn
	connecting map[string]bool
	draining   bool
	wg         sync.WaitGroup

	// The heart-beat loop (beat.go): started once, stopped by Shutdown.
	beatOnce, beatStopOnce sync.Once
	beatStop               chan struct{}
	beatWG                 sync.WaitGroup

	framesIn, framesOut, delivered, slowConsumers atomic.Uint64
	published                                     atomic.Uint64 // chat messages stored and published by SEND
	catchUps                                      atomic.Uint64 // live subscriptions switched to a catch-up from history
	writerRuns                                    atomic.Uint64 // writer goroutines started (writer.go)
	inline                                        inlineBudget  // inline writes' share of the time (inline.go)

	// Metrics only (stats.go): gauges of open connections and
	// subscriptions, frames by command and error disconnects by kind.
	connsOpen, subsOpen     atomic.Int64
	framesInBy, framesOutBy [len(commands)]atomic.Uint64
	errorsBy                [len(errorKinds)]atomic.Uint64
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
	// Reads and Typing serve the chat features (features.go); optional.
	Reads  ReadMarker
	Typing Typist
}

// New returns a Server.
func New(cfg Config, d Deps) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, log: cfg.Logger, keys: d.Keys, verifier: d.Verifier, members: d.Members,
		sender: d.Sender, history: d.History, sessions: d.Sessions, hub: d.Hub,
		live: make(map[string]*conn), connecting: make(map[string]bool), beatStop: make(chan struct{}),
		connects: ratelimit.New(ratelimit.Config{Rate: cfg.ConnectRate, Burst: cfg.ConnectBurst})}
	s.reads, s.typist = d.Reads, d.Typing
	for _, o := range cfg.AllowedOrigins {
		// An origin with a scheme stays "scheme://host": wsconn then
		// matches the request Origin's scheme too, so http:// is not
		// let in where https:// was configured. A bare host pattern
		// matches any scheme.
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			o = u.Host
			if u.Scheme != "" {
				o = u.Scheme + "://" + u.Host
			}
		}
		s.origins = append(s.origins, strings.ToLower(o))
	}
	return s
}

// ServeHTTP upgrades /ws requests and returns; the connection is served on
// its own goroutine (owned by s.wg), so net/http's request, buffers and
// handler stack are not held for the life of the connection.
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
	served := false
	defer func() {
		if !served {
			s.wg.Done()
		}
	}()
	// The upgrade's request id (the proxy's X-Request-ID, or a new one) is
	// echoed in the answer and logged with every line of the connection.
	reqID := requestid.FromHeader(r.Header.Get(requestid.Header))
	w.Header().Set(requestid.Header, reqID)
	client := s.cfg.ClientIP.ClientIP(r)
	if ok, retry := s.connects.Allow(clientip.Key(client)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		http.Error(w, "too many connection attempts from this address, retry later", http.StatusTooManyRequests)
		s.log.Debug("websocket upgrade rate-limited", "remote", client, "peer", r.RemoteAddr)
		return
	}
	c := newConn(s, client)
	c.peer, c.reqID = client, reqID
	// The decoder bounds frames as it is fed (readMessage streams messages
	// into it), so an oversized frame gets a STOMP ERROR; maxMessage only
	// stops one WebSocket message packing endless complete frames, and
	// readMessage enforces it with an ERROR too. wsconn's limit, a chunk
	// higher, is never reached first.
	ws, err := wsconn.Accept(w, r, &wsconn.Options{
		Subprotocols:   []string{"v12.stomp", "v11.stomp", "v10.stomp"},
		OriginPatterns: s.origins,
		WriteTimeout:   s.cfg.WriteTimeout,
		ReadLimit:      int64(s.maxMessage() + readChunk),
	})
	if err != nil {
		c.debug("websocket upgrade refused", "err", err)
		return
	}
	c.ws = ws
	s.connsOpen.Add(1)
	served = true
	go c.serve() // s.wg.Done and connsOpen.Add(-1) when it ends (conn.closed)
}

// maxMessage bounds one WebSocket message from a client: 16 frames of
// MaxFrameBytes [1 MiB]. Beyond, ERROR "malformed frame: message too
// large" and close 1009.
func (s *Server) maxMessage() int { return s.cfg.MaxFrameBytes * 16 }

func (s *Server) frameLimits() stomp.Limits {
	return stomp.Limits{MaxFrameBytes: s.cfg.MaxFrameBytes, MaxHeaders: s.cfg.MaxHeaders, MaxHeaderBytes: s.cfg.MaxHeaderBytes}
}

func (s *Server) preAuthLimits() stomp.Limits {
	return stomp.Limits{MaxFrameBytes: s.cfg.MaxPreAuthFrameBytes, MaxHeaders: s.cfg.MaxPreAuthHeaders,
		MaxHeaderBytes: s.cfg.MaxPreAuthHeaderBytes}
}

func (s *Server) redisCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.RedisTimeout)
}

// remember adds c, whose CONNECT is about to register it, to the live
// sessions, as connecting until registered.
func (s *Server) remember(c *conn) {
	s.mu.Lock()
	s.live[c.id] = c
	s.connecting[c.id] = true
	s.mu.Unlock()
}

// registered marks c, remembered, as registered (admitted).
func (s *Server) registered(c *conn) {
	s.mu.Lock()
	delete(s.connecting, c.id)
	s.mu.Unlock()
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	if s.live[c.id] == c {
		delete(s.live, c.id)
		delete(s.connecting, c.id)
	}
	s.mu.Unlock()
}

// Sessions returns the number of live sessions on this node.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Local returns the registry entries of this node's registered sessions,
// and the ids of those whose CONNECT is still registering them.
func (s *Server) Local() (live []registry.Session, connecting []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	live = make([]registry.Session, 0, len(s.live))
	for id, c := range s.live {
		if s.connecting[id] {
			connecting = append(connecting, id)
		} else {
			live = append(live, c.sess)
		}
	}
	return live, connecting
}

// Kick ends the listed sessions if they live on this node; it returns how
// many it found.
func (s *Server) Kick(ids []string, reason string) int {
	n := 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if c := s.live[id]; c != nil {
			c.kick(reason, wsconn.StatusNormalClosure)
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
			c.kick(reason, wsconn.StatusPolicyViolation)
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
		p := problem{message: "server shutting down, reconnect", code: wsconn.StatusServiceRestart}
		c.finish(c.errorFrame(p, "", false), p.code, "service restart")
	}
	s.mu.Unlock()
	defer func() {
		s.beatStopOnce.Do(func() { close(s.beatStop) })
		s.beatWG.Wait()
	}()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("gateway: connections still open at shutdown deadline")
	}
}
