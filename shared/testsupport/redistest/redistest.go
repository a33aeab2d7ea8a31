// Package redistest starts private redis-server processes for tests.
//
// Tests never use the machine's Redis on 6379: each package starts its own
// server on a free loopback port (without persistence unless asked) and gives
// every test its own key prefix, so tests may run in parallel and nothing is
// flushed.
//
// It also holds what the tests of every module share beyond Redis servers:
// Eventually (polling instead of sleeping), keyspace snapshots and diffs,
// pub/sub listeners, PauseAfter (a command hook), Scrape and Samples for a
// service's Prometheus /metrics, and CheckEnv and CheckHeaderLimit for the
// services' mains.
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

	"github.com/roomwire/roomwire/shared/redis/keys"
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
	keep    bool // Dir was given (Options.Dir): Close leaves it
}

// Options tweak the server; the zero value is a plain in-memory server.
type Options struct {
	// AppendOnly turns on AOF (appendfsync always) in Dir.
	AppendOnly bool
	// Args are extra redis-server arguments.
	Args []string
	// Port is the port to listen on [0: a free one]; a cluster node's bus
	// port is then Port+10000, Redis' own default. Start fails when either
	// is taken.
	Port int
	// Dir is the server's directory, created if missing and kept by Close
	// (so a server started again on it finds its data) [empty: a fresh
	// temporary directory that Close removes].
	Dir string

	// clusterNode makes the server a Redis Cluster node (StartCluster): its
	// cluster bus listens on a second free port, its state file is
	// nodes.conf in Dir.
	clusterNode bool
	// sentinel makes the server a sentinel (StartSentinel) watching it.
	sentinel *monitor
}

// Start runs a redis-server on a free port (or Options.Port) until the
// process exits. It is meant for TestMain; use New in tests.
func Start(opts Options) (*Server, error) {
	dir, err := serverDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	var s *Server
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, bus, err := ports(opts)
		if err != nil {
			lastErr = err
			break
		}
		s = &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, Port: port, keep: opts.Dir != ""}
		if opts.clusterNode {
			s.BusPort = bus
		}
		if s.args, err = serverArgs(opts, dir, port, bus); err != nil {
			lastErr = err
			break
		}
		if lastErr = s.launch(); lastErr == nil || opts.Port != 0 {
			break
		}
	}
	if lastErr != nil {
		if opts.Dir == "" {
			os.RemoveAll(dir)
		}
		return nil, lastErr
	}
	return s, nil
}

// serverArgs are the redis-server arguments of a server on port (and bus,
// for a cluster node) keeping its files in dir; for a sentinel, they name
// the config file it writes there.
func serverArgs(opts Options, dir string, port, bus int) ([]string, error) {
	if opts.sentinel != nil {
		conf, err := opts.sentinel.write(dir, port)
		return []string{conf, "--sentinel"}, err
	}
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log")}
	if opts.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	if opts.clusterNode {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(bus), "--cluster-node-timeout", "2000",
			"--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1")
	}
	return append(args, opts.Args...), nil
}

// placed returns o on port and, when dir is set, in dir/<port>; a port of 0
// with a dir is a free one picked here (with its bus port free too, for a
// cluster node), since the directory is named for it.
func placed(o Options, port int, dir string) (Options, error) {
	o.Port = port
	if dir == "" {
		return o, nil
	}
	for o.Port == 0 {
		p, err := freePort()
		if err != nil {
			return o, err
		}
		o.Port = p
		if o.clusterNode {
			if _, _, err := ports(o); err != nil {
				o.Port = 0
			}
		}
	}
	o.Dir = filepath.Join(dir, strconv.Itoa(o.Port))
	return o, nil
}

// serverDir creates dir, or a temporary directory when dir is empty.
func serverDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "redistest-")
	}
	dir, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return "", fmt.Errorf("server directory: %w", err)
	}
	return dir, nil
}

// ports returns the port (and for a cluster node the bus port) to start on:
// free ones, or Options.Port and Port+10000 once they are checked free.
func ports(opts Options) (port, bus int, err error) {
	if opts.Port == 0 {
		if port, err = freePort(); err == nil && opts.clusterNode {
			bus, err = freePort()
		}
		return port, bus, err
	}
	check := []int{opts.Port}
	if opts.clusterNode {
		check = append(check, opts.Port+10000)
	}
	for _, p := range check {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return 0, 0, fmt.Errorf("port %d is in use: %w", p, err)
		}
		l.Close()
	}
	return opts.Port, opts.Port + 10000, nil
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

// Close kills the server and removes its directory (unless it was given as
// Options.Dir).
func (s *Server) Close() {
	s.Kill()
	if !s.keep {
		os.RemoveAll(s.Dir)
	}
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

// Space returns a key space under a fresh Prefix: the keys of one test.
func Space(t testing.TB) keys.Space {
	t.Helper()
	return keys.MustNew(Prefix(t))
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
