// Command archiver copies the messages, edits, deletions, rooms and members
// that Redis stores into PostgreSQL (ARCHIVE_DATABASE_URL), from the
// archive streams the send path feeds (see shared/chat/archiver). It
// applies the schema migrations at start. Configuration is by environment:
// every variable is in docs/configuration.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roomwire/roomwire/api/internal/archivemetrics"
	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/chat/archiver"
	"github.com/roomwire/roomwire/shared/infra/config"
)

const (
	readyTimeout    = time.Second
	shutdownTimeout = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "archiver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	common, err := config.LoadRedis(getenv)
	if err != nil {
		return err
	}
	log := common.Logger(os.Stderr).With("service", "archiver")
	slog.SetDefault(log)
	dbURL := getenv("ARCHIVE_DATABASE_URL")
	if dbURL == "" {
		return errors.New("ARCHIVE_DATABASE_URL is required")
	}
	addr := getenv("ARCHIVER_ADDR")
	if addr == "" {
		addr = ":8082"
	}
	batch, err := config.Int(getenv, "ARCHIVER_BATCH", 500, 1)
	if err != nil {
		return err
	}
	rdb, err := common.Redis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	store, err := archive.Open(ctx, dbURL, archive.Config{})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	arc := archiver.New(rdb, common.Keys(), store, archiver.Config{Consumer: getenv("ARCHIVER_CONSUMER"),
		Batch: batch, Observer: archivemetrics.New(reg), Logger: log})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		body := struct {
			Status   string          `json:"status"`
			Redis    string          `json:"redis"`
			Postgres string          `json:"postgres"`
			Archive  archiver.Status `json:"archive"`
		}{Status: "ready", Redis: "ok", Postgres: "ok", Archive: arc.Status()}
		if err := rdb.Ping(ctx).Err(); err != nil {
			body.Status, body.Redis = "unavailable", "unreachable"
		}
		if err := store.Ping(ctx); err != nil {
			body.Status, body.Postgres = "unavailable", "unreachable"
		}
		w.Header().Set("Content-Type", "application/json")
		if body.Status != "ready" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	log.Info("archiver listening", "addr", ln.Addr().String(), "redis_prefix", common.Keys().Prefix())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	ran := make(chan error, 1)
	go func() { ran <- arc.Run(runCtx) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("archiver shutting down")
	stopRun()
	<-ran // the round in flight ends; what it did not acknowledge is read again at the next start
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("archiver stopped")
	return nil
}
