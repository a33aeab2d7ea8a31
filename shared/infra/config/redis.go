package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster URL schemes: REDIS_URL=redis+cluster://host1:7000,host2:7001,...
// (rediss+cluster:// for TLS) names seed nodes of a Redis Cluster. Seeds are
// only the first contact: the client learns every master and replica from
// CLUSTER SLOTS and follows MOVED/ASK redirects and failovers by itself.
const (
	clusterScheme    = "redis+cluster"
	clusterTLSScheme = "rediss+cluster"
)

// ClusterReload is how often a cluster client re-reads the slot map while
// it has traffic (see clusterOptions).
const ClusterReload = 2 * time.Second

// RedisCluster reports whether REDIS_URL (or REDIS_CLUSTER_ADDRS) names a
// Redis Cluster.
func (c Common) RedisCluster() bool {
	if len(c.RedisClusterAddrs) > 0 {
		return true
	}
	scheme, _, _ := strings.Cut(c.RedisURL, "://")
	return scheme == clusterScheme || scheme == clusterTLSScheme
}

// Redis opens a client for the configured Redis:
//   - redis:// or rediss:// (TLS): one server, *redis.Client;
//   - redis+cluster://h1:p1,h2:p2 or rediss+cluster://…, or REDIS_CLUSTER_ADDRS
//     (comma-separated host:port seeds; then REDIS_URL's scheme, user info
//     and TLS still apply): a Redis Cluster, *redis.ClusterClient;
//   - redis+sentinel://h1:p1,h2:p2/<master-name> or rediss+sentinel://…: a
//     master under Redis Sentinel, a failover *redis.Client (see
//     sentinelOptions).
//
// rediss is verified against the system roots plus RedisCAFile; a password
// or an ACL user and password come from the URL's user info.
func (c Common) Redis() (redis.UniversalClient, error) {
	if c.RedisSentinel() {
		opt, err := c.sentinelOptions()
		if err != nil {
			return nil, err
		}
		return redis.NewFailoverClient(opt), nil
	}
	if c.RedisCluster() {
		opt, err := c.clusterOptions()
		if err != nil {
			return nil, err
		}
		return redis.NewClusterClient(opt), nil
	}
	opt, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if err := c.trustCA(opt.TLSConfig); err != nil {
		return nil, err
	}
	return redis.NewClient(opt), nil
}

// clusterOptions turns the cluster URL (or REDIS_CLUSTER_ADDRS plus the
// URL's credentials and TLS) into go-redis cluster options.
func (c Common) clusterOptions() (*redis.ClusterOptions, error) {
	raw := c.RedisURL
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("REDIS_URL %q has no scheme", redactURL(raw))
	}
	useTLS := scheme == "rediss" || scheme == clusterTLSScheme
	// url.Parse would reject the comma-separated host list: split it off.
	authority, tail, _ := strings.Cut(rest, "/")
	if i := strings.IndexAny(authority, "?#"); i >= 0 {
		authority, tail = authority[:i], authority[i:]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i], authority[i+1:]
	}
	addrs := c.RedisClusterAddrs
	if len(addrs) == 0 {
		for _, h := range strings.Split(hosts, ",") {
			if h = strings.TrimSpace(h); h != "" {
				addrs = append(addrs, h)
			}
		}
	}
	if len(addrs) == 0 {
		return nil, errors.New("REDIS_URL: a cluster URL needs at least one host:port")
	}
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("redis cluster address %q: %w", a, err)
		}
	}
	// A cluster has only database 0: accept "/", "/0" and query options.
	tail = strings.TrimPrefix(tail, "/")
	if db, query, _ := strings.Cut(tail, "?"); db != "" && db != "0" {
		return nil, fmt.Errorf("REDIS_URL: a Redis Cluster has only database 0, not %q", db)
	} else if query != "" {
		tail = "?" + query
	} else {
		tail = ""
	}
	// Parse user info and query options the go-redis way, against the first seed.
	u := "redis://"
	if useTLS {
		u = "rediss://"
	}
	if userinfo != "" {
		u += userinfo + "@"
	}
	u += addrs[0] + tail
	opt, err := redis.ParseClusterURL(u)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opt.Addrs = addrs
	// MOVED/ASK redirects and TRYAGAIN/CLUSTERDOWN retries share this budget;
	// go-redis' default of 3 (about 0.1s of backoff) is shorter than a slot
	// migration or a failover, so the default here is 8 (about 1.5s).
	if opt.MaxRedirects == 0 {
		opt.MaxRedirects = 8
	}
	// go-redis re-reads the slot map on MOVED/ASK and otherwise only every
	// ClusterStateReloadInterval (60s by default). A master that crashed
	// answers neither: until the client learns that its replica was
	// promoted, every command for its slots fails. Re-reading it (one
	// CLUSTER SLOTS, in the background, while there is traffic) every
	// ClusterReload bounds that to the promotion plus ClusterReload.
	if opt.ClusterStateReloadInterval == 0 {
		opt.ClusterStateReloadInterval = ClusterReload
	}
	if useTLS {
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if err := c.trustCA(opt.TLSConfig); err != nil {
		return nil, err
	}
	return opt, nil
}

// trustCA adds RedisCAFile to cfg's roots; cfg is nil without TLS.
func (c Common) trustCA(cfg *tls.Config) error {
	if c.RedisCAFile == "" {
		return nil
	}
	if cfg == nil {
		return errors.New("REDIS_TLS_CA_FILE is set but REDIS_URL is not rediss://, rediss+cluster:// or rediss+sentinel://")
	}
	pemCerts, err := os.ReadFile(c.RedisCAFile)
	if err != nil {
		return fmt.Errorf("REDIS_TLS_CA_FILE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemCerts) {
		return fmt.Errorf("REDIS_TLS_CA_FILE %s holds no PEM certificate", c.RedisCAFile)
	}
	cfg.RootCAs = pool
	return nil
}

// validateRedis checks REDIS_URL / REDIS_CLUSTER_ADDRS without connecting.
func (c Common) validateRedis() error {
	if c.RedisSentinel() {
		_, err := c.sentinelOptions()
		return err
	}
	if c.RedisCluster() {
		_, err := c.clusterOptions()
		return err
	}
	if _, err := redis.ParseURL(c.RedisURL); err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	return nil
}

// redactURL hides a password in a Redis URL for error messages.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}

// RedisAddrs returns the host:port addresses REDIS_URL (or
// REDIS_CLUSTER_ADDRS) names: the one server, the cluster seeds, or the
// sentinels (not the master they name, learned only when connecting).
func (c Common) RedisAddrs() ([]string, error) {
	switch {
	case c.RedisSentinel():
		opt, err := c.sentinelOptions()
		if err != nil {
			return nil, err
		}
		return opt.SentinelAddrs, nil
	case c.RedisCluster():
		opt, err := c.clusterOptions()
		if err != nil {
			return nil, err
		}
		return opt.Addrs, nil
	}
	opt, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return []string{opt.Addr}, nil
}
