package load

import (
	"net"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/infra/config"
)

// OpenRedis opens url with the services' own parser (config.Common.Redis)
// once every host it names (the server, a cluster's seeds, the sentinels)
// passed CheckLoopbackHost.
func OpenRedis(url string) (redis.UniversalClient, error) {
	c := config.Common{RedisURL: url}
	addrs, err := c.RedisAddrs()
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err == nil {
			err = CheckLoopbackHost(host)
		}
		if err != nil {
			return nil, err
		}
	}
	return c.Redis()
}
