package clientip

import (
	"net/http"
	"net/netip"
	"testing"
)

func resolver(t testing.TB, trusted ...string) Resolver {
	t.Helper()
	p, err := ParsePrefixes(trusted)
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{Trusted: p})
}

func request(remote string, headers ...string) *http.Request {
	r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func TestClientIP(t *testing.T) {
	const xff, real = "X-Forwarded-For", "X-Real-IP"
	proxies := []string{"10.0.0.0/8", "127.0.0.1", "fd00::/8"}
	cases := []struct {
		name    string
		trusted []string
		remote  string
		headers []string
		want    string
	}{
		{"no proxy trusted: headers ignored", nil, "203.0.113.7:5000", []string{xff, "198.51.100.1", real, "198.51.100.2"}, "203.0.113.7"},
		{"untrusted peer: headers ignored", proxies, "203.0.113.7:5000", []string{xff, "198.51.100.1"}, "203.0.113.7"},
		{"trusted peer, one hop", proxies, "10.1.2.3:80", []string{xff, "198.51.100.1"}, "198.51.100.1"},
		{"spoofed left entries are skipped", proxies, "10.1.2.3:80", []string{xff, "1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops on the right are skipped", proxies, "127.0.0.1:80", []string{xff, "6.6.6.6, 198.51.100.1, 10.9.9.9,127.0.0.1"}, "198.51.100.1"},
		{"several header lines are one list", proxies, "10.1.2.3:80", []string{xff, "6.6.6.6, 198.51.100.1", xff, "10.0.0.5"}, "198.51.100.1"},
		{"every entry trusted: the leftmost", proxies, "10.1.2.3:80", []string{xff, "10.0.0.9, 10.0.0.5"}, "10.0.0.9"},
		{"garbage stops the walk at the last trusted hop", proxies, "10.1.2.3:80", []string{xff, "198.51.100.1, evil, 10.0.0.5"}, "10.0.0.5"},
		{"garbage right at the peer", proxies, "10.1.2.3:80", []string{xff, "198.51.100.1, evil"}, "10.1.2.3"},
		{"empty entries add no hop", proxies, "10.1.2.3:80", []string{xff, "198.51.100.1,, ,"}, "198.51.100.1"},
		{"entry with a port", proxies, "10.1.2.3:80", []string{xff, "198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6 entry with a port", proxies, "10.1.2.3:80", []string{xff, "[2001:db8::1]:4711"}, "2001:db8::1"},
		{"IPv6 entries", proxies, "[fd00::1]:80", []string{xff, "2001:db8::1, fd12::3"}, "2001:db8::1"},
		{"mapped peer matches IPv4 prefix", proxies, "[::ffff:10.1.2.3]:80", []string{xff, "198.51.100.1"}, "198.51.100.1"},
		{"mapped entry answered as IPv4", proxies, "10.1.2.3:80", []string{xff, "::ffff:198.51.100.1"}, "198.51.100.1"},
		{"X-Real-IP without X-Forwarded-For", proxies, "10.1.2.3:80", []string{real, "198.51.100.2"}, "198.51.100.2"},
		{"X-Forwarded-For wins over X-Real-IP", proxies, "10.1.2.3:80", []string{real, "198.51.100.2", xff, "198.51.100.1"}, "198.51.100.1"},
		{"bad X-Real-IP: the peer", proxies, "10.1.2.3:80", []string{real, "nobody"}, "10.1.2.3"},
		{"untrusted peer's X-Real-IP ignored", proxies, "203.0.113.7:1", []string{real, "198.51.100.2"}, "203.0.113.7"},
		{"trusted peer without headers", proxies, "10.1.2.3:80", nil, "10.1.2.3"},
		{"peer without port", nil, "203.0.113.7", nil, "203.0.113.7"},
		{"peer that is no address", proxies, "pipe", []string{xff, "198.51.100.1"}, "pipe"},
		{"peer zone dropped", nil, "[fe80::1%eth0]:80", nil, "fe80::1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := resolver(t, tc.trusted...).ClientIP(request(tc.remote, tc.headers...))
			if got != tc.want {
				t.Fatalf("ClientIP = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestZeroResolverTrustsNobody(t *testing.T) {
	var r Resolver
	if got := r.ClientIP(request("127.0.0.1:1", "X-Forwarded-For", "198.51.100.1", "X-Real-IP", "198.51.100.2")); got != "127.0.0.1" {
		t.Fatalf("ClientIP = %q, want the peer", got)
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes([]string{"10.1.2.3/8", " 127.0.0.1 ", "::1", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "127.0.0.1/32", "::1/128", "fd00::/8"}
	for i, p := range got {
		if p.String() != want[i] {
			t.Errorf("prefix %d = %s, want %s", i, p, want[i])
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "example.com", "10.0.0.1:80", "fe80::1%eth0", "*"} {
		if _, err := ParsePrefixes([]string{bad}); err == nil {
			t.Errorf("ParsePrefixes(%q) accepted", bad)
		}
	}
}

func TestMappedPrefix(t *testing.T) {
	r := New(Config{Trusted: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}})
	if !r.Trusts(netip.MustParseAddr("10.2.3.4")) {
		t.Fatal("an IPv4-mapped prefix does not match its IPv4 addresses")
	}
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.1":        "198.51.100.1",
		"2001:db8:1:2:3::4":   "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::": "2001:db8:1:2::/64",
		"pipe":                "pipe",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClientIP: whatever the headers, ClientIP answers the peer when the
// peer is untrusted, and otherwise an address named by the peer or the
// headers; splitting X-Forwarded-For into two header lines at a comma does
// not change the answer.
func FuzzClientIP(f *testing.F) {
	f.Add("10.1.2.3:80", "6.6.6.6, 198.51.100.1, 10.0.0.5", "198.51.100.2", 5)
	f.Add("127.0.0.1:1", "", "198.51.100.2", 0)
	f.Add("203.0.113.7:1", "198.51.100.1", "", 0)
	f.Add("[fd00::1]:80", "[2001:db8::1]:4711,::ffff:1.2.3.4,evil", "x", 3)
	r := New(Config{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("fd00::/8")}})
	f.Fuzz(func(t *testing.T, remote, xff, realIP string, split int) {
		req := request(remote, "X-Real-IP", realIP)
		if xff != "" {
			req.Header.Add("X-Forwarded-For", xff)
		}
		got := r.ClientIP(req)
		host := New(Config{}).ClientIP(request(remote)) // the peer, as untrusted
		if !r.Trusts(mustAddr(host)) && got != host {
			t.Fatalf("untrusted peer %q: got %q, want the peer", host, got)
		}
		if got != host {
			a, err := netip.ParseAddr(got)
			if err != nil || a.String() != got || a.Is4In6() || a.Zone() != "" {
				t.Fatalf("got %q from the headers, not one canonical address", got)
			}
		}
		// Two header lines split at a comma name the same client.
		commas := []int{}
		for i := range len(xff) {
			if xff[i] == ',' {
				commas = append(commas, i)
			}
		}
		if len(commas) > 0 {
			at := commas[max(0, split)%len(commas)]
			two := request(remote, "X-Real-IP", realIP, "X-Forwarded-For", xff[:at], "X-Forwarded-For", xff[at+1:])
			if again := r.ClientIP(two); again != got {
				t.Fatalf("XFF %q split at %d: %q, in one line %q", xff, at, again, got)
			}
		}
	})
}

func mustAddr(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}
