// Command redistest runs the private Redis set-ups of package redistest for
// scripts and for the JavaScript end-to-end harness, with the bring-up the Go
// tests use: make run-cluster, make run-sentinel, make bench-cluster and
// e2e/lib/redis.mjs start it.
//
//	redistest cluster [-masters 3] [-replicas 0] [-port P] [-dir D] [-stdin] [-- redis-server args...]
//	redistest sentinel [-name mymaster] [-down-after 1s] [-port P] [-sentinel-port S] [-dir D] [-stdin] [-- redis-server args...]
//	redistest call URL
//
// cluster and sentinel start the set-up (redistest.StartCluster,
// redistest.StartSentinel: on free loopback ports unless -port says where,
// in temporary directories unless -dir keeps them) and print, a line each,
//
//	url redis+cluster://127.0.0.1:P1,127.0.0.1:P2,...   (or redis+sentinel://S1,S2,S3/NAME)
//	master 127.0.0.1:P1 PID DIR
//	replica 127.0.0.1:P4 PID DIR
//	sentinel 127.0.0.1:S1 PID DIR
//	ready
//
// then serve until SIGINT or SIGTERM, stop every process and remove the
// temporary directories. With -stdin they take requests on standard input
// instead, until its end: a JSON array a line, answered by a JSON line
// {"ok": RESULT} or {"error": "MESSAGE"} (see clusterVerbs, sentinelVerbs).
//
// call runs Redis commands against URL (any REDIS_URL the services take,
// through the client they use): a JSON array a line on standard input, such
// as ["HGETALL","chat:room:{2}:sessions"], answered by {"ok": REPLY} (RESP3
// replies as JSON: maps as objects, nil as null) or {"error": "MESSAGE"},
// until the input ends. On a cluster, KEYS and PUBSUB NUMSUB cover every
// master and PUBSUB SHARDNUMSUB goes to its channel's master.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		os.Exit(1)
	}
}

const usage = "usage: redistest cluster|sentinel [flags] [-- redis-server args...] | redistest call URL"

func run(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "cluster":
		return runCluster(ctx, args[1:], in, out)
	case "sentinel":
		return runSentinel(ctx, args[1:], in, out)
	case "call":
		if len(args) != 2 {
			return errors.New(usage)
		}
		return runCall(ctx, args[1], in, out)
	}
	return fmt.Errorf("unknown command %q; %s", args[0], usage)
}
