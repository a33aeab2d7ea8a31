// Command chatctl is the operator's command line for roomwire; run
// "chatctl help" for its commands. It reads the same environment as the
// services (docs/configuration.md; docs/operations.md says which command
// needs which). Exit status: 0 on success, 2 on a usage error, 1 otherwise
// (healthcheck: 0 or 1 only).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/roomwire/roomwire/api/internal/ctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		if errors.Is(err, ctl.ErrUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "chatctl:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	return ctl.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
}
