// Command api serves the roomwire REST API.
//
// Environment (besides the common settings of shared/config: REDIS_URL,
// REDIS_PREFIX, JWT_SECRET, JWT_PREVIOUS_SECRET, DEV_MODE, LOG_LEVEL,
// LOG_FORMAT):
//
//	API_ADDR             listen address; default ":8080"
//	API_ALLOWED_ORIGINS  comma-separated exact origins for CORS; default none
//	MAX_MESSAGE_BYTES    largest message text in bytes, 1..32768; default 4096
//	HISTORY_LEN          messages kept per room; default 100000
package main

import (
	"context"
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
	"github.com/roomwire/roomwire/shared/config"
	"github.com/roomwire/roomwire/shared/events"
	"github.com/roomwire/roomwire/shared/fanout"
	"github.com/roomwire/roomwire/shared/messages"
	"github.com/roomwire/roomwire/shared/registry"
	"github.com/roomwire/roomwire/shared/room"
)

// HTTP server limits. Every route answers from Redis in milliseconds, so
// the write timeout is generous and the read timeouts cut slow clients.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 45 * time.Second // above the longest long poll (LONGPOLL_MAX_WAIT, at most 40s)
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
	// maxMessageBytes keeps a message, JSON-escaped as ordinary text is,
	// inside the API's 64 KiB request body limit.
	maxMessageBytes = 32 << 10
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
	devSecret      bool // DEV_MODE made up for an unset JWT_SECRET
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
		allowedOrigins: config.List(getenv, "API_ALLOWED_ORIGINS"),
		devSecret:      common.DevMode && getenv("JWT_SECRET") == "",
	}
	if st.addr == "" {
		st.addr = ":8080"
	}
	if st.maxMessage, err = config.Int(getenv, "MAX_MESSAGE_BYTES", 4096, 1); err != nil {
		return settings{}, err
	}
	if st.maxMessage > maxMessageBytes {
		return settings{}, fmt.Errorf("MAX_MESSAGE_BYTES must be at most %d", maxMessageBytes)
	}
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
	return st, nil
}

func run(ctx context.Context) error {
	st, err := load(os.Getenv)
	if err != nil {
		return err
	}
	log := st.common.Logger(os.Stderr)
	slog.SetDefault(log)
	if st.devSecret {
		log.Warn("DEV_MODE: JWT_SECRET is unset, using the public development secret; never do this in production")
	}
	verifier, err := st.common.Verifier()
	if err != nil {
		return err
	}
	rdb, err := st.common.Redis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	ks := st.common.Keys()
	pub := events.NewPublisher(rdb, ks)

	hub := fanout.New(rdb, fanout.Config{Logger: log})
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); _ = hub.Run(hubCtx) }()
	defer func() { stopHub(); <-hubDone }()

	gin.SetMode(gin.ReleaseMode)
	handler, err := httpapi.New(httpapi.Config{AllowedOrigins: st.allowedOrigins, Logger: log,
		MaxWait: st.maxWait, MaxWaitsPerUser: st.waitsPerUser}, httpapi.Deps{
		Rooms:    room.NewStore(rdb, ks, room.Config{}),
		Messages: messages.NewStore(rdb, ks, messages.Config{MaxBytes: st.maxMessage, HistoryLen: st.historyLen}),
		Sessions: registry.New(rdb, ks),
		Events:   pub,
		Tokens:   verifier,
		Ping:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Notifier: hub, RoomChannel: ks.RoomMessages,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", st.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", st.addr, err)
	}
	log.Info("api listening", "addr", ln.Addr().String(), "redis_prefix", ks.Prefix(), "cors_origins", st.allowedOrigins)

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
