package redistest

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Scrape GETs url (a service's /metrics, without credentials) and returns
// its samples by series, as Samples does. It fails t unless the answer is
// 200 in the Prometheus text format.
func Scrape(t testing.TB, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
		return nil
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s %q", url, res.StatusCode, res.Header.Get("Content-Type"), b)
		return nil
	}
	return Samples(t, res.Body)
}

// Samples parses a Prometheus text exposition into its samples: the value
// of each series, keyed by the series as written ("name{labels}", or
// "name" alone). Comment lines are skipped; a line that is not a sample
// fails t.
func Samples(t testing.TB, exposition io.Reader) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(exposition)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 1 || err != nil {
			t.Fatalf("bad sample %q", line)
			return nil
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read the exposition: %v", err)
	}
	return out
}
