// Command ws is the STOMP-over-WebSocket node. Run any number side by side
// against one Redis. Configuration is by environment: every variable is in
// docs/configuration.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/infra/clientip"
	"github.com/roomwire/roomwire/shared/infra/config"
	"github.com/roomwire/roomwire/shared/infra/profiling"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/memtrim"
	"github.com/roomwire/roomwire/ws/internal/node"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "ws:", err)
		os.Exit(1)
	}
}

// settings are the ws-only environment settings.
type settings struct {
	addr            string
	nodeID          string
	origins         []string
	heartbeat       time.Duration
	nodeTTL         time.Duration
	shutdownTimeout time.Duration
	maxMessage      int
	historyLen      int
	outboxMaxLen    int
	maxFrame        int
	queueFrames     int
	queueBytes      int
	connectTimeout  time.Duration
	channelLinger   time.Duration
	memberAudit     time.Duration  // node membership audit interval; 0 = off
	memoryTrim      time.Duration  // memtrim check interval; 0 = off
	pprofAddr       string         // net/http/pprof listener; "" = none
	limits          gateway.Config // the hostile-input limits only
	archive         config.Archive
}

func load(getenv func(string) string) (settings, error) {
	s := settings{addr: getenv("WS_ADDR"), nodeID: getenv("NODE_ID"), origins: config.List(getenv, "WS_ALLOWED_ORIGINS"),
		pprofAddr: getenv("PPROF_ADDR")}
	if s.addr == "" {
		s.addr = ":8081"
	}
	if s.nodeID == "" {
		host, _ := os.Hostname()
		s.nodeID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	s.heartbeat, err = config.Duration(getenv, "WS_HEARTBEAT", 10*time.Second)
	add(err)
	s.nodeTTL, err = config.Duration(getenv, "NODE_TTL", 30*time.Second)
	add(err)
	if s.nodeTTL < time.Second {
		add(errors.New("NODE_TTL must be at least 1s"))
	}
	s.shutdownTimeout, err = config.Duration(getenv, "SHUTDOWN_TIMEOUT", 10*time.Second)
	add(err)
	s.connectTimeout, err = config.Duration(getenv, "WS_CONNECT_TIMEOUT", 10*time.Second)
	add(err)
	s.channelLinger, err = config.Duration(getenv, "WS_CHANNEL_LINGER", 2*time.Second)
	add(err)
	s.memoryTrim, err = config.Duration(getenv, "WS_MEMORY_TRIM", 5*time.Second)
	add(err)
	s.memberAudit, err = config.Duration(getenv, "WS_MEMBERSHIP_AUDIT", 30*time.Second)
	add(err)
	s.maxMessage, err = config.Int(getenv, "MAX_MESSAGE_BYTES", 4096, 1)
	add(err)
	s.historyLen, err = config.Int(getenv, "HISTORY_LEN", 100000, 1)
	add(err)
	s.outboxMaxLen, err = config.Int(getenv, "NOTIFY_OUTBOX_MAXLEN", 100, 1)
	add(err)
	s.maxFrame, err = config.Int(getenv, "WS_MAX_FRAME_BYTES", 64<<10, 1024)
	add(err)
	s.queueFrames, err = config.Int(getenv, "WS_QUEUE_FRAMES", 4096, 1)
	add(err)
	s.queueBytes, err = config.Int(getenv, "WS_QUEUE_BYTES", 4<<20, 1024)
	add(err)
	l := &s.limits
	l.MaxPreAuthFrameBytes, err = config.Int(getenv, "WS_PREAUTH_MAX_FRAME_BYTES", 8<<10, 1024)
	add(err)
	l.MaxPreAuthHeaders, err = config.Int(getenv, "WS_PREAUTH_MAX_HEADERS", 16, 4)
	add(err)
	l.MaxPreAuthHeaderBytes, err = config.Int(getenv, "WS_PREAUTH_MAX_HEADER_BYTES", 4<<10, 256)
	add(err)
	l.MaxHeaders, err = config.Int(getenv, "WS_MAX_HEADERS", 64, 4)
	add(err)
	l.MaxHeaderBytes, err = config.Int(getenv, "WS_MAX_HEADER_BYTES", 8<<10, 256)
	add(err)
	l.MaxSubscriptions, err = config.Int(getenv, "WS_MAX_SUBSCRIPTIONS", 64, 1)
	add(err)
	l.MaxPendingAcks, err = config.Int(getenv, "WS_MAX_PENDING_ACKS", 1024, 1)
	add(err)
	l.MaxSessionsPerUser, err = config.Int(getenv, "WS_MAX_SESSIONS_PER_USER", 20, 1)
	add(err)
	l.ConnectRate, err = config.Rate(getenv, "WS_CONNECT_RATE", 10)
	add(err)
	l.ConnectBurst, err = config.Int(getenv, "WS_CONNECT_BURST", 50, 1)
	add(err)
	l.SendRate, err = config.Rate(getenv, "WS_SEND_RATE", 1000)
	add(err)
	l.SendBurst, err = config.Int(getenv, "WS_SEND_BURST", 2000, 1)
	add(err)
	l.MaxReplay, err = config.Int(getenv, "WS_MAX_REPLAY", 1000, 1)
	add(err)
	trusted, err := clientip.ParsePrefixes(config.List(getenv, "WS_TRUSTED_PROXIES"))
	if err != nil {
		add(fmt.Errorf("WS_TRUSTED_PROXIES: %w", err))
	}
	l.ClientIP = clientip.New(clientip.Config{Trusted: trusted})
	l.FrameRate, err = config.Rate(getenv, "WS_FRAME_RATE", 2000)
	add(err)
	l.FrameBurst, err = config.Int(getenv, "WS_FRAME_BURST", 4000, 1)
	add(err)
	l.SubscribeRate, err = config.Rate(getenv, "WS_SUBSCRIBE_RATE", 20)
	add(err)
	l.SubscribeBurst, err = config.Int(getenv, "WS_SUBSCRIBE_BURST", 100, 1)
	add(err)
	l.MaxTransactions, err = config.Int(getenv, "WS_MAX_TRANSACTIONS", 16, 1)
	add(err)
	l.MaxTxFrames, err = config.Int(getenv, "WS_MAX_TX_FRAMES", 128, 1)
	add(err)
	l.MaxTxBytes, err = config.Int(getenv, "WS_MAX_TX_BYTES", 256<<10, 1024)
	add(err)
	s.archive, err = config.LoadArchive(getenv)
	add(err)
	if l.MaxPreAuthFrameBytes > s.maxFrame {
		add(errors.New("WS_PREAUTH_MAX_FRAME_BYTES must not exceed WS_MAX_FRAME_BYTES"))
	}
	return s, errors.Join(errs...)
}

func run(ctx context.Context, getenv func(string) string) error {
	common, err := config.Load(getenv)
	if err != nil {
		return err
	}
	set, err := load(getenv)
	if err != nil {
		return err
	}
	log := common.Logger(os.Stderr).With("service", "ws", "node", set.nodeID)
	if string(common.JWTSecret) == config.DevSecret {
		log.Warn("DEV_MODE: using the public development JWT secret; never do this in production")
	}
	verifier, err := common.Verifier(log)
	if err != nil {
		return err
	}
	defer verifier.Close()
	rdb, err := common.Redis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	mcfg := messages.Config{MaxBytes: set.maxMessage, HistoryLen: set.historyLen}
	if set.archive.On() {
		// The same feed as the api's (every sending process must feed the
		// archive), and resumes from before Redis's window read PostgreSQL;
		// lazy: the node serves while PostgreSQL is down.
		arc, err := archive.Open(ctx, set.archive.URL, archive.Config{Lazy: true})
		if err != nil {
			return err
		}
		defer arc.Close()
		mcfg.ArchiveFeed = messages.ArchiveFeed{On: true, StreamMax: set.archive.StreamMax, BacklogMax: set.archive.BacklogMax}
		mcfg.Archive = arc
	}
	gwCfg := set.limits
	gwCfg.AllowedOrigins = set.origins
	gwCfg.HeartbeatOut, gwCfg.HeartbeatIn, gwCfg.ConnectTimeout = set.heartbeat, set.heartbeat, set.connectTimeout
	gwCfg.MaxFrameBytes, gwCfg.QueueFrames, gwCfg.QueueBytes = set.maxFrame, set.queueFrames, set.queueBytes
	nd := wsnode.New(rdb, common.Keys(), verifier, wsnode.Config{
		ID: set.nodeID, Logger: log, Gateway: gwCfg,
		// A node beats six times and others look for it three times per
		// TTL, so a dead node's sessions are gone within TTL + TTL/3.
		Duties:   node.Config{TTL: set.nodeTTL, BeatEvery: set.nodeTTL / 6, ReapEvery: set.nodeTTL / 3, Audit: off(set.memberAudit)},
		Messages: mcfg,
		Notify:   notify.Config{OutboxMaxLen: int64(set.outboxMaxLen)},
		Linger:   off(set.channelLinger),
		// Under Redis Sentinel the hub checks every second that its
		// pub/sub connection is on the current master.
		MasterCheck: common.MasterCheck(),
	})
	srv := httpServer(set.addr, nd.Handler())

	bg, stopBg := context.WithCancel(context.Background())
	if set.pprofAddr != "" {
		_, pprofDone, err := profiling.Serve(bg, set.pprofAddr, log)
		if err != nil {
			stopBg()
			return fmt.Errorf("PPROF_ADDR: %w", err)
		}
		defer func() { stopBg(); <-pprofDone }()
	}
	ndDone := nd.Start(bg)
	var wg sync.WaitGroup
	if set.memoryTrim > 0 {
		trim := memtrim.New(memtrim.Config{Interval: set.memoryTrim, Logger: log})
		wg.Add(1)
		go func() { defer wg.Done(); trim.Run(bg) }()
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("ws node listening", "addr", set.addr, "path", "/ws")

	select {
	case err = <-errc:
		log.Error("listener failed", "err", err)
	case <-ctx.Done():
		log.Info("shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), set.shutdownTimeout)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := nd.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	stopBg()
	ndDone()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// off maps a duration where 0 means "off" (WS_CHANNEL_LINGER=0 unsubscribes
// at once, WS_MEMBERSHIP_AUDIT=0 never audits) to a Config field where 0
// means the default and a negative value off.
func off(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// maxHeaderBytes bounds the request line and headers of an upgrade (Go
// answers 431 beyond); the STOMP frames after it have their own limits.
const maxHeaderBytes = 64 << 10

// httpServer is the node's HTTP server: slow or oversized request headers
// are cut off, idle keep-alive connections closed.
func httpServer(addr string, h http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second,
		MaxHeaderBytes: maxHeaderBytes}
}
