// Command rediscluster runs a private Redis Cluster on free loopback ports
// for scripts, with the bring-up the Go tests use (redistest.StartCluster):
// redis-server processes with --cluster-enabled, the slots split evenly,
// replicas attached, and every node agreeing on the slot map before it
// says ready. deploy/bench/cluster.sh runs it.
//
//	rediscluster [-masters 3] [-replicas 0] [-- redis-server args...]
//
// On standard output, one line each:
//
//	url redis+cluster://127.0.0.1:P1,127.0.0.1:P2,...
//	master 127.0.0.1:P1 PID DIR
//	replica 127.0.0.1:P4 PID DIR
//	ready
//
// It then serves until SIGINT or SIGTERM, stops every node and removes
// their directories.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rediscluster:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("rediscluster", flag.ContinueOnError)
	masters := fs.Int("masters", 3, "number of masters; the slots are split evenly")
	replicas := fs.Int("replicas", 0, "replicas of each master")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *masters < 1 || *replicas < 0 {
		return fmt.Errorf("-masters %d -replicas %d: want at least one master", *masters, *replicas)
	}
	c, err := redistest.StartCluster(redistest.ClusterOptions{Masters: *masters, ReplicasPerMaster: *replicas, Args: fs.Args()})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintln(out, "url", c.URL())
	for _, n := range []struct {
		role  string
		nodes []*redistest.Server
	}{{"master", c.Masters}, {"replica", c.Replicas}} {
		for _, s := range n.nodes {
			fmt.Fprintln(out, n.role, s.Addr, s.PID(), s.Dir)
		}
	}
	fmt.Fprintln(out, "ready")
	<-ctx.Done()
	return nil
}
