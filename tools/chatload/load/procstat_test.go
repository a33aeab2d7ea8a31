package load

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a parenthesis, as /proc allows.
	stat := "4242 (redis (x) 1) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 5 0 123 456789 1234 18446744073709551615\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want {
		t.Fatalf("cpu %v, want %v", got, want)
	}
	if _, err := parseStatCPU([]byte("1 (x) S 1 2")); err == nil {
		t.Fatal("short stat accepted")
	}
}

func TestParseStatusRSS(t *testing.T) {
	status := "Name:\tws\nVmPeak:\t  100 kB\nVmRSS:\t   23456 kB\nThreads:\t7\n"
	got, err := parseStatusRSS([]byte(status))
	if err != nil || got != 23456 {
		t.Fatalf("got %d, %v", got, err)
	}
}

func TestReadProcSelf(t *testing.T) {
	self, err := ReadProc(0)
	if err != nil {
		t.Fatal(err)
	}
	if self.RSSKiB <= 0 {
		t.Fatalf("rss %d", self.RSSKiB)
	}
	byPID, err := ReadProc(os.Getpid())
	if err != nil || byPID.RSSKiB <= 0 {
		t.Fatalf("by pid: %+v %v", byPID, err)
	}
	if _, _, err := (ProcSet{1 << 30}).Sample(); err == nil {
		t.Fatal("missing process not reported")
	}
}

func TestConfigRefusesNonLoopback(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"ws://127.0.0.1:8081/ws", true},
		{"ws://localhost:8081/ws", true},
		{"ws://[::1]:8081/ws", true},
		{"ws://127.0.0.9:8081/ws", true},
		{"ws://10.0.0.1:8081/ws", false},
		{"ws://example.com/ws", false},
		{"http://127.0.0.1:8081/ws", false},
	}
	for _, tt := range tests {
		if err := CheckLoopbackURL(tt.url, "ws"); (err == nil) != tt.ok {
			t.Errorf("CheckLoopbackURL(%s) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	good := func() Config {
		return Config{WS: []string{"ws://127.0.0.1:1/ws"}, Rooms: 10, RoomSize: 2, Secret: []byte("s"),
			Seed: RoomStoreSeeder{}, Rates: []float64{1}}
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		ok     bool
	}{
		{"valid", func(*Config) {}, true},
		{"direct needs 2", func(c *Config) { c.RoomType, c.RoomSize = "direct", 3 }, false},
		{"too many publishers", func(c *Config) { c.Publishers = 3 }, false},
		{"both rate kinds", func(c *Config) { c.TotalRates = []float64{5} }, false},
		{"zero rate", func(c *Config) { c.Rates = []float64{0} }, false},
		{"too long", func(c *Config) { c.Duration = time.Hour }, false},
		{"needs source addresses", func(c *Config) { c.Rooms = 20000 }, false},
		{"with source addresses", func(c *Config) { c.Rooms, c.SourceIPs = 20000, 2 }, true},
		{"remote target", func(c *Config) { c.WS = []string{"ws://192.0.2.1/ws"} }, false},
		{"no secret", func(c *Config) { c.Secret = nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.mutate(&c)
			_, err := New(c)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
