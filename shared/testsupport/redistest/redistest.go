// Package redistest starts private redis-server processes for tests.
//
// Tests never use the machine's Redis on 6379: each package starts its own
// server on a free loopback port (without persistence unless asked) and gives
// every test its own key prefix, so tests may run in parallel and nothing is
// flushed.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running private redis-server.
type Server struct {
	Addr string
	Dir  string
	Port int
	// BusPort is the cluster bus port of a cluster node (StartCluster).
	BusPort int
	cmd     *exec.Cmd
	args    []string
}

// Options tweak the server; the zero value is a plain in-memory server.
type Options struct {
	// AppendOnly turns on AOF (appendfsync always) in Dir.
	AppendOnly bool
	// Args are extra redis-server arguments.
	Args []string

	// clusterNode makes the server a Redis Cluster node (StartCluster): its
	// cluster bus listens on a second free port, its state file is
	// nodes.conf in Dir.
	clusterNode bool
}

// Start runs a redis-server on a free port until the process exits.
// It is meant for TestMain; use New in tests.
func Start(opts Options) (*Server, error) {
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, Port: port}
		s.args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--dir", dir, "--logfile", filepath.Join(dir, "redis.log")}
		if opts.AppendOnly {
			s.args = append(s.args, "--appendonly", "yes", "--appendfsync", "always")
		} else {
			s.args = append(s.args, "--appendonly", "no")
		}
		if opts.clusterNode {
			bus, err := freePort()
			if err != nil {
				return nil, err
			}
			s.BusPort = bus
			s.args = append(s.args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-port", strconv.Itoa(bus), "--cluster-node-timeout", "2000",
				"--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1")
		}
		s.args = append(s.args, opts.Args...)
		if lastErr = s.launch(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func (s *Server) launch() error {
	s.cmd = exec.Command("redis-server", s.args...)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server (is Debian's redis-server installed?): %w", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c := redis.NewClient(&redis.Options{Addr: s.Addr})
		err := c.Ping(context.Background()).Err()
		c.Close()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Kill()
	return fmt.Errorf("redis-server on %s did not answer", s.Addr)
}

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Kill stops the server with SIGKILL and waits for it.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Restart starts the server again on the same port and directory (with the
// same options, so an AOF server reloads its file).
func (s *Server) Restart() error { return s.launch() }

// Close kills the server and removes its directory.
func (s *Server) Close() {
	s.Kill()
	os.RemoveAll(s.Dir)
}

// Client returns a client of the server, closed when t ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// Prefix returns a fresh key prefix for one test, so tests sharing a server
// never see each other's keys.
func Prefix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Main starts a shared server for a package's tests, runs them, and stops it.
// Use as: func TestMain(m *testing.M) { redistest.Main(m, &srv) }.
func Main(m *testing.M, srv **Server) {
	s, err := Start(Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		os.Exit(1)
	}
	*srv = s
	code := runShared(m)
	s.Close()
	os.Exit(code)
}
