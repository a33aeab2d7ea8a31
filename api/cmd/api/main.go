// Command api serves the roomwire REST API. Configuration is by environment:
// every variable is in docs/configuration.md.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/api/internal/httpapi"
	"github.com/roomwire/roomwire/api/internal/metrics"
	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/infra/clientip"
	"github.com/roomwire/roomwire/shared/infra/config"
	"github.com/roomwire/roomwire/shared/infra/profiling"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/fanout"
)

// HTTP server limits. Every route answers from Redis in milliseconds, so
// the write timeout is generous and the read timeouts cut slow clients.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 45 * time.Second // above the longest long poll (LONGPOLL_MAX_WAIT, at most 40s)
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
	// defaultBodyBytes is the request body limit; a message, JSON-escaped
	// as ordinary text is, must fit in it, so MAX_MESSAGE_BYTES is at most
	// half of it.
	defaultBodyBytes = 64 << 10
	// maxHeaderBytes bounds the request line and headers (Go answers 431
	// beyond); the Authorization header alone is capped at 8 KiB by httpapi.
	maxHeaderBytes = 64 << 10
)

// settings is everything the api reads from the environment.
type settings struct {
	common         config.Common
	addr           string
	allowedOrigins []string
	maxMessage     int
	historyLen     int
	maxWait        time.Duration
	waitsPerUser   int
	maxBody        int
	ratePerUser    float64
	rateBurst      int
	ratePerIP      float64
	rateBurstPerIP int
	clientIP       clientip.Resolver // API_TRUSTED_PROXIES
	devSecret      bool              // DEV_MODE made up for an unset JWT_SECRET
	editWindow     time.Duration
	outboxMaxLen   int
	roomsPerUser   int    // rooms a user may be a member of
	groupMembers   int    // members a group may have
	pprofAddr      string // net/http/pprof listener; "" = none
	bounds         bounds
	archive        config.Archive
}

// bounds are the limits on what one user's requests may cost the api.
type bounds struct {
	maxResponse         int
	heavyPerUser        int
	heavyMax            int
	createsPerMinute    float64
	memberAddsPerMinute float64
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func load(getenv func(string) string) (settings, error) {
	common, err := config.Load(getenv)
	if err != nil {
		return settings{}, err
	}
	st := settings{
		common:         common,
		addr:           getenv("API_ADDR"),
		pprofAddr:      getenv("PPROF_ADDR"),
		allowedOrigins: config.List(getenv, "API_ALLOWED_ORIGINS"),
		devSecret:      string(common.JWTSecret) == config.DevSecret,
	}
	if st.addr == "" {
		st.addr = ":8080"
	}
	if st.maxBody, err = config.Int(getenv, "API_MAX_BODY_BYTES", defaultBodyBytes, 4096); err != nil {
		return settings{}, err
	}
	if st.maxMessage, err = config.Int(getenv, "MAX_MESSAGE_BYTES", 4096, 1); err != nil {
		return settings{}, err
	}
	if st.maxMessage > st.maxBody/2 {
		return settings{}, fmt.Errorf("MAX_MESSAGE_BYTES must be at most %d (half of API_MAX_BODY_BYTES)", st.maxBody/2)
	}
	if st.ratePerUser, err = config.Rate(getenv, "API_RATE_PER_USER", 50); err != nil {
		return settings{}, err
	}
	if st.rateBurst, err = config.Int(getenv, "API_RATE_BURST", 100, 1); err != nil {
		return settings{}, err
	}
	if st.ratePerIP, err = config.Rate(getenv, "API_RATE_PER_IP", 20); err != nil {
		return settings{}, err
	}
	if st.rateBurstPerIP, err = config.Int(getenv, "API_RATE_BURST_PER_IP", 40, 1); err != nil {
		return settings{}, err
	}
	trusted, err := clientip.ParsePrefixes(config.List(getenv, "API_TRUSTED_PROXIES"))
	if err != nil {
		return settings{}, fmt.Errorf("API_TRUSTED_PROXIES: %w", err)
	}
	st.clientIP = clientip.New(clientip.Config{Trusted: trusted})
	if st.historyLen, err = config.Int(getenv, "HISTORY_LEN", 100000, 1); err != nil {
		return settings{}, err
	}
	if st.maxWait, err = config.Duration(getenv, "LONGPOLL_MAX_WAIT", 30*time.Second); err != nil {
		return settings{}, err
	}
	if st.maxWait > 40*time.Second {
		return settings{}, fmt.Errorf("LONGPOLL_MAX_WAIT must be at most 40s")
	}
	if st.waitsPerUser, err = config.Int(getenv, "LONGPOLL_MAX_PER_USER", 4, 1); err != nil {
		return settings{}, err
	}
	if st.editWindow, err = config.Duration(getenv, "EDIT_WINDOW", 15*time.Minute); err != nil {
		return settings{}, err
	}
	if st.outboxMaxLen, err = config.Int(getenv, "NOTIFY_OUTBOX_MAXLEN", 100, 1); err != nil {
		return settings{}, err
	}
	if st.roomsPerUser, err = config.Int(getenv, "API_MAX_ROOMS_PER_USER", 1000, 1); err != nil {
		return settings{}, err
	}
	if st.groupMembers, err = config.Int(getenv, "API_MAX_GROUP_MEMBERS", 1000, 2); err != nil {
		return settings{}, err
	}
	if st.bounds, err = loadBounds(getenv); err != nil {
		return settings{}, err
	}
	if st.archive, err = config.LoadArchive(getenv); err != nil {
		return settings{}, err
	}
	return st, nil
}

// loadBounds reads the response size, heavy request and write rate limits.
func loadBounds(getenv func(string) string) (b bounds, err error) {
	if b.maxResponse, err = config.Int(getenv, "API_MAX_RESPONSE_BYTES", 256<<10, 64<<10); err != nil {
		return b, err
	}
	if b.heavyPerUser, err = config.Int(getenv, "API_HEAVY_PER_USER", 4, 1); err != nil {
		return b, err
	}
	if b.heavyMax, err = config.Int(getenv, "API_HEAVY_MAX", 64, 1); err != nil {
		return b, err
	}
	if b.createsPerMinute, err = config.Rate(getenv, "API_ROOM_CREATES_PER_MIN", 10); err != nil {
		return b, err
	}
	if b.memberAddsPerMinute, err = config.Rate(getenv, "API_MEMBER_ADDS_PER_MIN", 60); err != nil {
		return b, err
	}
	return b, nil
}

func run(ctx context.Context) error {
	st, err := load(os.Getenv)
	if err != nil {
		return err
	}
	log := st.common.Logger(os.Stderr).With("service", "api") // as ws names itself
	slog.SetDefault(log)
	if st.devSecret {
		log.Warn("DEV_MODE: JWT_SECRET is unset, using the public development secret; never do this in production")
	}
	verifier, err := st.common.Verifier(log)
	if err != nil {
		return err
	}
	defer verifier.Close()
	rdb, err := st.common.Redis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	ks := st.common.Keys()
	pub := events.NewPublisher(rdb, ks)
	notes := notify.New(rdb, ks, pub, notify.Config{OutboxMaxLen: int64(st.outboxMaxLen), Logger: log})
	reg := registry.New(rdb, ks)
	mcfg := messages.Config{MaxBytes: st.maxMessage, HistoryLen: st.historyLen, EditWindow: st.editWindow, Observer: notes}
	rcfg := room.Config{MaxRoomsPerUser: st.roomsPerUser, MaxMembers: st.groupMembers}
	if st.archive.On() {
		// Lazy: the api serves while PostgreSQL is down; only pages below
		// Redis's history need it (503 meanwhile).
		arc, err := archive.Open(ctx, st.archive.URL, archive.Config{Lazy: true})
		if err != nil {
			return err
		}
		defer arc.Close()
		mcfg.ArchiveFeed = messages.ArchiveFeed{On: true, StreamMax: st.archive.StreamMax, BacklogMax: st.archive.BacklogMax}
		mcfg.Archive = arc
		rcfg.ArchiveFeed = room.ArchiveFeed{On: true, StreamMax: st.archive.StreamMax}
	}
	msgs := messages.NewStore(rdb, ks, mcfg)

	hub := fanout.New(rdb, fanout.Config{Logger: log,
		MasterCheck: st.common.MasterCheck(), CheckChannel: ks.MasterCheck("api-" + rand.Text()[:10])})
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); _ = hub.Run(hubCtx) }()
	notesDone := notes.Start(hubCtx) // post-send notifications off the send path
	defer func() { stopHub(); <-hubDone; notesDone() }()
	if st.pprofAddr != "" {
		_, pprofDone, err := profiling.Serve(hubCtx, st.pprofAddr, log)
		if err != nil {
			return fmt.Errorf("PPROF_ADDR: %w", err)
		}
		defer func() { stopHub(); <-pprofDone }()
	}

	met := metrics.New()
	met.WatchHub(hub)
	gin.SetMode(gin.ReleaseMode)
	handler, err := httpapi.New(httpapi.Config{AllowedOrigins: st.allowedOrigins, Logger: log, Metrics: met,
		MaxWait: st.maxWait, MaxWaitsPerUser: st.waitsPerUser, MaxBodyBytes: int64(st.maxBody),
		RatePerUser: st.ratePerUser, RateBurst: st.rateBurst, RatePerIP: st.ratePerIP, RateBurstPerIP: st.rateBurstPerIP,
		ClientIP:         st.clientIP,
		MaxResponseBytes: st.bounds.maxResponse, HeavyPerUser: st.bounds.heavyPerUser, HeavyMax: st.bounds.heavyMax,
		RoomCreatesPerMinute: st.bounds.createsPerMinute, MemberAddsPerMinute: st.bounds.memberAddsPerMinute}, httpapi.Deps{
		Rooms:    room.NewStore(rdb, ks, rcfg),
		Messages: msgs,
		Sessions: reg,
		Events:   pub,
		Tokens:   verifier,
		Ping:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Notifier: hub, RoomChannel: ks.RoomMessages,
		Reads:    readstate.NewStore(rdb, ks, readstate.Config{Observer: notes}),
		Edits:    msgs,
		Presence: reg,
		Notes:    notes,
	})
	if err != nil {
		return err
	}
	srv := httpServer(handler, log)
	ln, err := net.Listen("tcp", st.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", st.addr, err)
	}
	log.Info("api listening", "addr", ln.Addr().String(), "redis_prefix", ks.Prefix(), "cors_origins", st.allowedOrigins,
		"archive", st.archive.On())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("api shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("api stopped")
	return nil
}

// httpServer is the api's HTTP server with the limits above.
func httpServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
