package redistest

import (
	"context"
	"fmt"
	"strings"
)

// fresh tells a new cluster (every node knows only itself and serves no
// slots) from one kept in ClusterOptions.Dir (every node knows every other
// one from its nodes.conf). Anything else is an error: a directory holding
// another cluster, or half of one.
func (c *Cluster) fresh(ctx context.Context) (bool, error) {
	all := c.nodes()
	var alone, known int
	for _, s := range all {
		info, err := c.admin[s.Addr].ClusterInfo(ctx).Result()
		if err != nil {
			return false, fmt.Errorf("cluster info of %s: %w", s.Addr, err)
		}
		switch field(info, "cluster_known_nodes") {
		case "1":
			if field(info, "cluster_slots_assigned") == "0" {
				alone++
			}
		case fmt.Sprint(len(all)):
			known++
		default:
			return false, fmt.Errorf("%s knows %s nodes, want 1 (a new cluster) or %d (a kept one): its directory %s holds another cluster",
				s.Addr, field(info, "cluster_known_nodes"), len(all), s.Dir)
		}
	}
	if alone != len(all) && known != len(all) {
		return false, fmt.Errorf("%d of %d nodes are new, the others hold a cluster: remove their directories to start afresh", alone, len(all))
	}
	return alone == len(all), nil
}

// rejoin waits until the nodes of a kept cluster have found each other
// again, takes their roles from the cluster (a failover may have swapped
// them), and waits until every node agrees.
func (c *Cluster) rejoin(ctx context.Context) error {
	if err := poll(ctx, c.roles); err != nil {
		return fmt.Errorf("rejoin the cluster kept in %s: %w", c.Masters[0].Dir, err)
	}
	return poll(ctx, c.settled)
}

// roles checks that every node reports cluster_state:ok, then sorts the
// nodes into Masters and Replicas by what the first node's CLUSTER NODES
// says, keeping their order.
func (c *Cluster) roles(ctx context.Context) error {
	all := c.nodes()
	for _, s := range all {
		info, err := c.admin[s.Addr].ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("cluster info of %s: %w", s.Addr, err)
		}
		if st := field(info, "cluster_state"); st != "ok" {
			return fmt.Errorf("%s: cluster_state %q", s.Addr, st)
		}
	}
	text, err := c.admin[all[0].Addr].ClusterNodes(ctx).Result()
	if err != nil {
		return fmt.Errorf("cluster nodes of %s: %w", all[0].Addr, err)
	}
	replica := map[string]bool{}
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		replica[addr] = strings.Contains(f[2], "slave")
	}
	var masters, replicas []*Server
	for _, s := range all {
		if replica[s.Addr] {
			replicas = append(replicas, s)
		} else {
			masters = append(masters, s)
		}
	}
	c.Masters, c.Replicas = masters, replicas
	return nil
}
