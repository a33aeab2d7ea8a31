package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func runSentinel(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("redistest sentinel", flag.ContinueOnError)
	name := fs.String("name", "mymaster", "the master set the sentinels watch")
	downAfter := fs.Duration("down-after", time.Second, "the sentinels' down-after-milliseconds")
	sentinelPort := fs.Int("sentinel-port", 0, "the first sentinel's port, the others' the next two; 0: free ports")
	var f setUpFlags
	f.register(fs, "the master's port, the replica's the next one", "failover")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := redistest.StartSentinel(redistest.SentinelOptions{MasterName: *name, DownAfter: *downAfter,
		Port: f.port, SentinelPort: *sentinelPort, Dir: f.dir, Timeout: f.timeout, Args: fs.Args()})
	if err != nil {
		return err
	}
	defer s.Close()
	procs := []process{{"master", s.Master}, {"replica", s.Replica}}
	for _, sn := range s.Sentinels {
		procs = append(procs, process{"sentinel", sn})
	}
	return f.serve(ctx, in, out, s.URL(), procs, sentinelVerbs(s))
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
