package redistest

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// EnvCase is one environment for a service's settings loader (its main's
// load(getenv)) and what loading it must give: the settings as CheckEnv's
// format writes them (Want), or an error whose text holds WantErr.
type EnvCase struct {
	Name    string
	Vars    map[string]string // unset variables read as ""
	Want    string
	WantErr string
}

// Loads is the case name: loading vars succeeds with settings that format
// writes as want.
func Loads(name string, vars map[string]string, want string) EnvCase {
	return EnvCase{Name: name, Vars: vars, Want: want}
}

// Refuses is the case name: loading vars fails with an error holding
// wantErr.
func Refuses(name string, vars map[string]string, wantErr string) EnvCase {
	return EnvCase{Name: name, Vars: vars, WantErr: wantErr}
}

// CheckEnv loads each case's Vars with load, as a subtest named for it, and
// fails it unless load fails with WantErr (when set) or succeeds with
// settings that format writes as Want.
func CheckEnv[S any](t *testing.T, load func(getenv func(string) string) (S, error), format func(S) string, cases ...EnvCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			s, err := load(func(k string) string { return c.Vars[k] })
			if c.WantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.WantErr) {
					t.Fatalf("err %v, want one holding %q", err, c.WantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := format(s); got != c.Want {
				t.Fatalf("got  %s\nwant %s", got, c.Want)
			}
		})
	}
}

// CheckHeaderLimit serves srv (a service's http.Server, whatever its
// handler answers to path) on a loopback port until the test ends, and
// fails t unless a GET of path with 4 KiB of headers is answered 200 and
// one with 100 KiB is refused with 431 before it reaches the handler.
func CheckHeaderLimit(t *testing.T, srv *http.Server, path string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	for _, tc := range []struct {
		size int
		want int
	}{{4 << 10, http.StatusOK}, {100 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, err := http.NewRequest("GET", "http://"+ln.Addr().String()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Padding", strings.Repeat("a", tc.size))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%d bytes of headers: %d, want %d", tc.size, res.StatusCode, tc.want)
		}
	}
}
