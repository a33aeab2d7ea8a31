package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// healthcheckTimeout bounds "chatctl healthcheck", connection included.
const healthcheckTimeout = 2 * time.Second

// ErrUnhealthy means the probed endpoint did not answer 200 in time, or
// chatctl healthcheck was not given one http(s) URL.
var ErrUnhealthy = errors.New("unhealthy")

// healthcheck probes an endpoint: chatctl healthcheck URL. It exits 0 when
// GET URL answers 200 within 2s, else 1; it needs no shell, curl or
// environment, so distroless images run it as a container health check:
//
//	healthcheck: {test: ["CMD", "/usr/local/bin/chatctl", "healthcheck", "http://localhost:8080/readyz"]}
//
// It prints nothing on success and the reason on stderr otherwise. Every
// failure, a bad command line included, is ErrUnhealthy (exit 1): Docker
// reserves exit status 2.
func healthcheck(ctx context.Context, args []string, stderr io.Writer) error {
	// Docker reserves exit status 2, so a bad command line is reported as
	// unhealthy (1), not as a usage error.
	fs := flagSet("healthcheck", stderr)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: bad command line: %v", ErrUnhealthy, err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: give exactly one URL, e.g. chatctl healthcheck http://localhost:8080/readyz", ErrUnhealthy)
	}
	target := fs.Arg(0)
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q is not an http(s) URL", ErrUnhealthy, target)
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", target, err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnhealthy, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s answered %s", ErrUnhealthy, target, resp.Status)
	}
	return nil
}
