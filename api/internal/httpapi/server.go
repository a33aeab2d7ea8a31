// Package httpapi is the REST API of roomwire: rooms, members, history,
// sending, presence and session disconnects, served with gin on top of the
// stores of the shared module.
//
// Every route under /api/v1 needs "Authorization: Bearer <jwt>". Every
// non-2xx answer is an RFC 9457 problem (application/problem+json); the
// mapping from errors to statuses lives in problem.go only. Room ids are
// not probeable: a room that does not exist and a room the caller is not a
// member of both answer 404 "room not found".
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/api/internal/metrics"
	"github.com/roomwire/roomwire/shared/infra/clientip"
	"github.com/roomwire/roomwire/shared/infra/ratelimit"
)

// Config configures the API. Zero fields take the documented defaults.
type Config struct {
	// AllowedOrigins lists the exact Origin values that get CORS headers;
	// default none (no CORS headers at all).
	AllowedOrigins []string
	// MaxBodyBytes bounds a JSON request body; default 64 KiB. Larger
	// bodies are answered 413.
	MaxBodyBytes int64
	// ReadyTimeout bounds the Redis ping of /readyz; default 1s.
	ReadyTimeout time.Duration
	// MaxWait caps the wait of a long poll; default 30s.
	MaxWait time.Duration
	// MaxWaitsPerUser bounds a user's open long polls (per process);
	// default 4. More are answered 429.
	MaxWaitsPerUser int
	// RatePerUser and RateBurst bound each user's requests (per process):
	// a token bucket refilled RatePerUser times a second [50] holding
	// RateBurst [100]. Beyond, 429 with Retry-After. A negative
	// RatePerUser turns the limit off.
	RatePerUser float64
	RateBurst   int
	// RatePerIP and RateBurstPerIP bound, per client address (IPv6: per
	// /64) and process, the /api/v1 requests that carry no valid token: a
	// token bucket refilled RatePerIP times a second [20] holding
	// RateBurstPerIP [40], spent by each request answered 401. While an
	// address's bucket is empty, its /api/v1 requests are answered 429 with
	// Retry-After before any token is verified, valid ones included; valid
	// requests spend nothing. A negative RatePerIP turns the limit off.
	RatePerIP      float64
	RateBurstPerIP int
	// MaxAuthHeaderBytes bounds the Authorization header [8 KiB]; a longer
	// one is answered 401 without being verified (and counts as a failure
	// for RatePerIP).
	MaxAuthHeaderBytes int
	// ClientIP finds a request's client address, for RatePerIP and the
	// request log [the zero Resolver: the TCP peer; X-Forwarded-For and
	// X-Real-IP only from trusted proxies]. gin's own ClientIP is not used.
	ClientIP clientip.Resolver
	// MaxResponseBytes bounds the entries one history page or room list
	// page holds (the stored message JSON, a room's last message
	// included); default 256 KiB. A page stops before it would exceed the
	// bound and says there is more (hasMore, nextCursor); a single entry
	// always fits, so paging always advances. The bound also bounds how
	// long one page's read holds Redis (make soak: 1 MiB pages read by a
	// hostile user at full speed quadrupled a chatting pair's p99, 256 KiB
	// pages doubled it).
	MaxResponseBytes int
	// HeavyPerUser and HeavyMax bound the heavy requests (history pages,
	// room lists) in flight per user [4] and per process [64]. Beyond,
	// 429 with Retry-After: 1. A long poll holds its slot while it reads,
	// not while it waits (MaxWaitsPerUser bounds those).
	HeavyPerUser int
	HeavyMax     int
	// RoomCreatesPerMinute and MemberAddsPerMinute bound each user's
	// POST /chat-rooms [10] and POST /chat-rooms/:id/members [60] (per
	// process), each a token bucket holding one minute's worth. Beyond,
	// 429 with Retry-After. Negative turns the limit off.
	RoomCreatesPerMinute float64
	MemberAddsPerMinute  float64
	// Metrics records every request and is served, without
	// authentication, at GET /metrics; default a fresh metrics.HTTP.
	Metrics *metrics.HTTP
	// Logger receives request logs and internal errors; default
	// slog.Default(). Tokens and Authorization headers are never logged.
	Logger *slog.Logger
}

// Deps are the stores the handlers use. All are required; each must be
// safe for concurrent use (the shared module's implementations are).
type Deps struct {
	// Rooms is the room store (room.Store).
	Rooms RoomStore
	// Messages is the send path and history reader (messages.Store).
	Messages MessageStore
	// Sessions is the session registry (registry.Registry).
	Sessions SessionRegistry
	// Events publishes room events and ws control commands (events.Publisher).
	Events Publisher
	// Tokens verifies bearer tokens (auth.Verifier).
	Tokens TokenVerifier
	// Ping checks the backing Redis for /readyz.
	Ping func(context.Context) error
	// Notifier signals new messages of a channel (fanout.Hub), and
	// RoomChannel names a room's message channel (keys.Space.RoomMessages);
	// long polling uses both.
	Notifier    Notifier
	RoomChannel func(roomID int64) string
	// Reads moves and reads read positions (readstate.Store); Edits edits
	// and deletes messages (messages.Store); Presence reads users'
	// presence (registry.Registry); Notes sends personal notifications
	// (notify.Notifier). See features.go.
	Reads    ReadStore
	Edits    MessageEditor
	Presence PresenceReader
	Notes    UserNotifier
}

// server holds what the handlers share; it is immutable after New and so
// safe for concurrent use.
type server struct {
	cfg   Config
	deps  Deps
	log   *slog.Logger
	waits *slots           // open long polls per user
	rates *ratelimit.Keyed // requests per user
	fails *ratelimit.Keyed // requests without a valid token per client address
	heavy *slots
	// creates and adds are the per-user buckets of room creations and
	// member additions (roomlimits.go).
	creates, adds *ratelimit.Keyed
}

// New validates deps, fills defaults into cfg and returns the API handler.
// gin's mode is a process-wide setting left to the caller (main sets
// release mode).
func New(cfg Config, deps Deps) (http.Handler, error) {
	if deps.Rooms == nil || deps.Messages == nil || deps.Sessions == nil ||
		deps.Events == nil || deps.Tokens == nil || deps.Ping == nil || deps.Notifier == nil || deps.RoomChannel == nil {
		return nil, errors.New("httpapi: every dependency is required")
	}
	if deps.Reads == nil || deps.Edits == nil || deps.Presence == nil || deps.Notes == nil {
		return nil, errors.New("httpapi: every dependency is required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = time.Second
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 30 * time.Second
	}
	if cfg.MaxWaitsPerUser <= 0 {
		cfg.MaxWaitsPerUser = 4
	}
	if cfg.RatePerUser == 0 {
		cfg.RatePerUser = 50
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = 100
	}
	if cfg.RatePerIP == 0 {
		cfg.RatePerIP = 20
	}
	if cfg.RateBurstPerIP <= 0 {
		cfg.RateBurstPerIP = 40
	}
	if cfg.MaxAuthHeaderBytes <= 0 {
		cfg.MaxAuthHeaderBytes = 8 << 10
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 256 << 10
	}
	if cfg.HeavyPerUser <= 0 {
		cfg.HeavyPerUser = 4
	}
	if cfg.HeavyMax <= 0 {
		cfg.HeavyMax = 64
	}
	if cfg.RoomCreatesPerMinute == 0 {
		cfg.RoomCreatesPerMinute = 10
	}
	if cfg.MemberAddsPerMinute == 0 {
		cfg.MemberAddsPerMinute = 60
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	s := &server{cfg: cfg, deps: deps, log: cfg.Logger, waits: newSlots(cfg.MaxWaitsPerUser, math.MaxInt),
		rates:   ratelimit.New(ratelimit.Config{Rate: cfg.RatePerUser, Burst: cfg.RateBurst}),
		fails:   ratelimit.New(ratelimit.Config{Rate: cfg.RatePerIP, Burst: cfg.RateBurstPerIP}),
		heavy:   newSlots(cfg.HeavyPerUser, cfg.HeavyMax),
		creates: perMinute(cfg.RoomCreatesPerMinute),
		adds:    perMinute(cfg.MemberAddsPerMinute)}
	return s.routes(), nil
}

func (s *server) routes() *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// A redirect would turn "/chat-rooms/" into a second spelling of the
	// API (and re-send POST bodies); answer 404 instead.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	// gin trusts no proxy, so its ClientIP is the peer; the api uses
	// Config.ClientIP instead (clientip.go), which knows the trusted proxies.
	_ = r.SetTrustedProxies(nil)
	// The request id comes first, so every log line of the request carries
	// it; the request log is outside the recoverer so that it also logs the
	// 500 of a panic.
	r.Use(s.requestID, s.measure, s.requestLog, s.recoverer, s.cors(s.cfg.AllowedOrigins))
	r.NoRoute(func(c *gin.Context) { s.problem(c, http.StatusNotFound, "no such route") })
	r.NoMethod(func(c *gin.Context) { s.problem(c, http.StatusMethodNotAllowed, "method not allowed on this route") })

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	// Public like health: Prometheus scrapes without a token.
	r.GET("/metrics", gin.WrapH(s.cfg.Metrics.Handler()))
	s.docsRoutes(r) // /openapi.yaml, /docs: public (docs.go)

	v1 := r.Group("/api/v1", s.authenticate, s.rateLimit)
	v1.POST("/chat-rooms", s.limitCreates, s.createRoom)
	v1.GET("/chat-rooms", s.limitHeavy, s.listRooms)
	v1.GET("/chat-rooms/:id", s.getRoom)
	v1.POST("/chat-rooms/:id/members", s.limitAdds, s.addMember)
	v1.DELETE("/chat-rooms/:id/members/:userId", s.removeMember)
	v1.GET("/chat-rooms/:id/messages", s.limitHeavy, s.history)
	v1.POST("/chat-rooms/:id/messages", s.send)
	v1.GET("/chat-rooms/:id/presence", s.presence)
	v1.POST("/chat-room/disconnect", s.disconnect)
	s.featureRoutes(v1)
	return r
}

// healthz reports that the process serves requests; it checks nothing else.
func (s *server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz reports whether Redis answers a PING within ReadyTimeout.
func (s *server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.ReadyTimeout)
	defer cancel()
	if err := s.deps.Ping(ctx); err != nil {
		s.logger(ctx).Warn("readiness check failed", "err", err)
		s.problem(c, http.StatusServiceUnavailable, "redis is unavailable")
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
