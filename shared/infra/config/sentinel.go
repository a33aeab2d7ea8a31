package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sentinel URL schemes:
// REDIS_URL=redis+sentinel://[user:pass@]host1:26379,host2:26380/<master-name>[?db=0&sentinel_password=...]
// (rediss+sentinel:// for TLS to the sentinels and the master) names
// Redis Sentinel instances and the master set they watch. The client asks
// the sentinels for the master's address, sends every command there (reads
// too: a replica may lag behind a send's acknowledgement) and follows
// failovers. The URL's user info is the master's (ACL user and) password;
// sentinel_username and sentinel_password, when the sentinels ask for a
// password of their own. Other query options are go-redis' failover options
// (pool_size, dial_timeout, ...).
const (
	sentinelScheme    = "redis+sentinel"
	sentinelTLSScheme = "rediss+sentinel"
)

// RedisSentinel reports whether REDIS_URL names a Redis Sentinel set-up.
func (c Common) RedisSentinel() bool {
	scheme, _, _ := strings.Cut(c.RedisURL, "://")
	return scheme == sentinelScheme || scheme == sentinelTLSScheme
}

// sentinelOptions turns the sentinel URL into go-redis failover options.
func (c Common) sentinelOptions() (*redis.FailoverOptions, error) {
	if len(c.RedisClusterAddrs) > 0 {
		return nil, errors.New("REDIS_CLUSTER_ADDRS is set but REDIS_URL names Redis Sentinel (redis+sentinel://)")
	}
	scheme, rest, _ := strings.Cut(c.RedisURL, "://")
	useTLS := scheme == sentinelTLSScheme
	// url.Parse would reject the comma-separated host list: split it off.
	authority, tail, _ := strings.Cut(rest, "/")
	query := ""
	if i := strings.IndexAny(authority, "?#"); i >= 0 {
		authority, tail = authority[:i], authority[i:]
	}
	tail, query, _ = strings.Cut(tail, "?")
	name, _, _ := strings.Cut(tail, "#")
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i], authority[i+1:]
	}
	var addrs []string
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			return nil, fmt.Errorf("redis sentinel address %q: %w", h, err)
		}
		addrs = append(addrs, h)
	}
	if len(addrs) == 0 {
		return nil, errors.New("REDIS_URL: a sentinel URL needs at least one sentinel host:port")
	}
	if name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("REDIS_URL: a sentinel URL needs the master name as its path (redis+sentinel://host:26379/mymaster), not %q", tail)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: query: %w", err)
	}
	for _, k := range []string{"master_name", "addr", "username", "password"} {
		if q.Has(k) {
			return nil, fmt.Errorf("REDIS_URL: option %s is not allowed in a sentinel URL (the path names the master, the host list the sentinels, the user info the credentials)", k)
		}
	}
	sentinelUser, sentinelPass := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	q.Set("master_name", name)
	// The go-redis parser reads the remaining options (db, pool_size, ...).
	opt, err := redis.ParseFailoverURL("redis://" + addrs[0] + "/?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opt.SentinelAddrs = addrs
	opt.SentinelUsername, opt.SentinelPassword = sentinelUser, sentinelPass
	if userinfo != "" {
		u, err := url.Parse("redis://" + userinfo + "@x")
		if err != nil || u.User == nil {
			return nil, errors.New("REDIS_URL: unreadable user info")
		}
		opt.Username = u.User.Username()
		opt.Password, _ = u.User.Password()
	}
	if useTLS {
		// No ServerName: each connection verifies the host it dials (a
		// sentinel, then whichever server is master).
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if err := c.trustCA(opt.TLSConfig); err != nil {
		return nil, err
	}
	return opt, nil
}

// MasterCheck is how often a fan-out hub should check that its pub/sub
// connection is on the current master (fanout.Config.MasterCheck): every
// second under Redis Sentinel, where a failover may leave the old master up
// and a master for ten seconds and more; never otherwise (a single server
// has no other master, a cluster client follows slots by itself).
func (c Common) MasterCheck() time.Duration {
	if c.RedisSentinel() {
		return time.Second
	}
	return 0
}
