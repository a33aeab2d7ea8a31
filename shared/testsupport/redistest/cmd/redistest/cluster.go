package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func runCluster(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("redistest cluster", flag.ContinueOnError)
	masters := fs.Int("masters", 3, "number of masters; the slots are split evenly")
	replicas := fs.Int("replicas", 0, "replicas of each master")
	var f setUpFlags
	f.register(fs, "the first node's port, the others' the next ones (bus ports 10000 above)", "master, failover, moveslot")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *masters < 1 || *replicas < 0 {
		return fmt.Errorf("-masters %d -replicas %d: want at least one master", *masters, *replicas)
	}
	c, err := redistest.StartCluster(redistest.ClusterOptions{Masters: *masters, ReplicasPerMaster: *replicas,
		Port: f.port, Dir: f.dir, Timeout: f.timeout, Args: fs.Args()})
	if err != nil {
		return err
	}
	defer c.Close()
	var procs []process
	for _, s := range c.Masters {
		procs = append(procs, process{"master", s})
	}
	for _, s := range c.Replicas {
		procs = append(procs, process{"replica", s})
	}
	return f.serve(ctx, in, out, c.URL(), procs, clusterVerbs(c))
}

// clusterVerbs are the requests a cluster takes with -stdin, each naming a
// key whose slot it concerns:
//
//	["master", KEY]                      {"slot": N, "addr": "127.0.0.1:P"}
//	["failover", KEY]                    {"slot": N, "from": ADDR, "to": ADDR, "ms": M}
//	["moveslot", KEY, BATCH?, PAUSE?]    {"slot": N, "from": ADDR, "to": ADDR, "keys": K, "ms": M}
//
// master names the master serving KEY's slot. failover promotes a replica
// of that master (Cluster.Failover: CLUSTER FAILOVER, then every node
// agrees). moveslot migrates the slot to the next master (Cluster.
// MoveSlotPaced: BATCH keys per MIGRATE [100], a PAUSE such as 100ms after
// each [0]).
func clusterVerbs(c *redistest.Cluster) verbs {
	owner := func(ctx context.Context, args []string) (int, *redistest.Server, error) {
		if len(args) == 0 {
			return 0, nil, errors.New("want a key")
		}
		slot, err := c.SlotOf(ctx, args[0])
		if err != nil {
			return 0, nil, err
		}
		m, err := c.MasterOf(ctx, args[0])
		return slot, m, err
	}
	return verbs{
		"master": func(ctx context.Context, args []string) (any, error) {
			slot, m, err := owner(ctx, args)
			if err != nil {
				return nil, err
			}
			return map[string]any{"slot": slot, "addr": m.Addr}, nil
		},
		"failover": func(ctx context.Context, args []string) (any, error) {
			start := time.Now()
			slot, m, err := owner(ctx, args)
			if err != nil {
				return nil, err
			}
			r, err := c.ReplicaOf(ctx, m)
			if err == nil {
				err = c.Failover(ctx, r)
			}
			if err != nil {
				return nil, err
			}
			return map[string]any{"slot": slot, "from": m.Addr, "to": r.Addr, "ms": time.Since(start).Milliseconds()}, nil
		},
		"moveslot": func(ctx context.Context, args []string) (any, error) {
			start := time.Now()
			slot, src, err := owner(ctx, args)
			if err != nil {
				return nil, err
			}
			batch, pause := 0, time.Duration(0)
			if len(args) > 1 {
				if batch, err = strconv.Atoi(args[1]); err != nil {
					return nil, fmt.Errorf("batch %q: %w", args[1], err)
				}
			}
			if len(args) > 2 {
				if pause, err = time.ParseDuration(args[2]); err != nil {
					return nil, fmt.Errorf("pause %q: %w", args[2], err)
				}
			}
			dst := c.Masters[0]
			for i, m := range c.Masters {
				if m == src {
					dst = c.Masters[(i+1)%len(c.Masters)]
				}
			}
			if dst == src {
				return nil, fmt.Errorf("slot %d: no other master to move it to", slot)
			}
			keys, err := c.MoveSlotPaced(ctx, slot, src, dst, batch, pause)
			if err != nil {
				return nil, err
			}
			return map[string]any{"slot": slot, "from": src.Addr, "to": dst.Addr, "keys": keys, "ms": time.Since(start).Milliseconds()}, nil
		},
	}
}
