package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/roomwire/roomwire/shared/redistest"
)

func runSentinel(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("redistest sentinel", flag.ContinueOnError)
	name := fs.String("name", "mymaster", "the master set the sentinels watch")
	downAfter := fs.Duration("down-after", time.Second, "the sentinels' down-after-milliseconds")
	port := fs.Int("port", 0, "the master's port, the replica's the next one; 0: free ports")
	sentinelPort := fs.Int("sentinel-port", 0, "the first sentinel's port, the others' the next two; 0: free ports")
	dir := fs.String("dir", "", "keep every process's files in DIR/<port> (the data is found again); empty: temporary directories")
	timeout := fs.Duration("timeout", 20*time.Second, "bound of the start and of a failover")
	stdin := fs.Bool("stdin", false, "take requests on standard input (failover) and stop at its end")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := redistest.StartSentinel(redistest.SentinelOptions{MasterName: *name, DownAfter: *downAfter,
		Port: *port, SentinelPort: *sentinelPort, Dir: *dir, Timeout: *timeout, Args: fs.Args()})
	if err != nil {
		return err
	}
	defer s.Close()
	procs := []process{{"master", s.Master}, {"replica", s.Replica}}
	for _, sn := range s.Sentinels {
		procs = append(procs, process{"sentinel", sn})
	}
	if err := announce(out, s.URL(), procs); err != nil {
		return err
	}
	var h handler
	if *stdin {
		h = sentinelVerbs(s).handle
	}
	return serve(ctx, in, out, h)
}

// sentinelVerbs are the requests a Sentinel set-up takes with -stdin:
//
//	["failover"]    {"from": ADDR, "to": ADDR, "ms": M}
//
// failover is Sentinel.Failover, the coordinated failover that loses no
// acknowledged write.
func sentinelVerbs(s *redistest.Sentinel) verbs {
	return verbs{
		"failover": func(ctx context.Context, _ []string) (any, error) {
			start, from := time.Now(), s.Master.Addr
			if err := s.Failover(ctx); err != nil {
				return nil, err
			}
			return map[string]any{"from": from, "to": s.Master.Addr, "ms": time.Since(start).Milliseconds()}, nil
		},
	}
}
