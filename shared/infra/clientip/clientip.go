// Package clientip finds the address of the client behind an HTTP request:
// the TCP peer, or, when that peer is a trusted proxy, the address the
// proxies recorded in X-Forwarded-For or X-Real-IP. Both services key their
// per-address limits and log their "remote" attribute by it.
//
// Nothing is trusted by default, so a client cannot pick its own address by
// sending the headers itself. With trusted proxies, X-Forwarded-For is read
// from the right: every proxy appends the address of its own peer, so the
// entries after the last untrusted hop were written by trusted proxies and
// the first untrusted entry from the right is the client; whatever the
// client wrote to the left of it is ignored.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Config configures a Resolver.
type Config struct {
	// Trusted lists the proxies whose X-Forwarded-For and X-Real-IP
	// headers are believed [none: the TCP peer is always the client].
	// IPv4-mapped IPv6 peers match the IPv4 prefixes.
	Trusted []netip.Prefix
}

// Resolver finds a request's client address. The zero Resolver trusts no
// proxy. It is immutable and safe for concurrent use.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver for cfg.
func New(cfg Config) Resolver {
	r := Resolver{}
	for _, p := range cfg.Trusted {
		if p.IsValid() {
			r.trusted = append(r.trusted, unmapPrefix(p).Masked())
		}
	}
	return r
}

// ParsePrefixes parses proxy addresses and networks such as "10.0.0.0/8",
// "127.0.0.1" or "fd00::/8" (a bare address is its own /32 or /128), as
// read from a comma-separated setting.
func ParsePrefixes(items []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(items))
	for _, s := range items {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not an address or CIDR network", s)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("trusted proxy %q: not an address or CIDR network", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Trusts reports whether addr is a trusted proxy.
func (r Resolver) Trusts(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range r.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ClientIP returns the client's address of req, without a port:
//   - the TCP peer (req.RemoteAddr), unless it is a trusted proxy;
//   - else the first X-Forwarded-For entry from the right that is not a
//     trusted proxy (several header lines count as one list, in order);
//     when every entry is trusted, the leftmost; when the walk meets an
//     entry that is no address, the last trusted hop before it, so a
//     client cannot smuggle a name of its choosing;
//   - else, without X-Forwarded-For, a valid X-Real-IP;
//   - else the peer.
//
// An IPv4-mapped IPv6 address is answered as IPv4. A RemoteAddr that is no
// address (a test's "pipe") is answered as it is.
func (r Resolver) ClientIP(req *http.Request) string {
	host := req.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap().WithZone("")
	if !r.Trusts(peer) {
		return peer.String()
	}
	if xff := req.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		return r.walk(xff, peer).String()
	}
	if a, ok := parseHop(req.Header.Get("X-Real-IP")); ok {
		return a.String()
	}
	return peer.String()
}

// walk reads the X-Forwarded-For lines from the right; last is the nearest
// trusted hop so far (at first the peer).
func (r Resolver) walk(lines []string, last netip.Addr) netip.Addr {
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for {
			entry := rest
			cut := strings.LastIndexByte(rest, ',')
			if cut >= 0 {
				entry, rest = rest[cut+1:], rest[:cut]
			}
			if strings.TrimSpace(entry) != "" { // "a,,b" and trailing commas add no hop
				a, ok := parseHop(entry)
				if !ok {
					return last
				}
				if !r.Trusts(a) {
					return a
				}
				last = a
			}
			if cut < 0 {
				break
			}
		}
	}
	return last
}

// parseHop parses one proxy header entry: an address, optionally with a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711"), as some proxies write.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) into
// its IPv4 prefix, as addresses are unmapped before they are matched.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr()
	if !a.Is4In6() {
		return p
	}
	bits := p.Bits() - 96
	if bits < 0 {
		return p
	}
	return netip.PrefixFrom(a.Unmap(), bits)
}

// Key is the key of addr (as ClientIP answers it) for per-address limits:
// an IPv4 address as it is, an IPv6 address as its /64 (one host usually
// holds a whole /64), anything else as it is.
func Key(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Is4() || a.Is4In6() {
		return addr
	}
	p, err := a.Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}
