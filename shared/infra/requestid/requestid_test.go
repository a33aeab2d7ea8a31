package requestid_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/infra/requestid"
)

var generated = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestFromHeader(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		kept     bool
	}{
		{"simple", "abc-123", true},
		{"nginx request_id", "5f0c8e3b2f0a4c1d9e8b7a6f5e4d3c2b", true},
		{"dots and underscores", "web.client_42", true},
		{"longest", strings.Repeat("a", 64), true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", 65), false},
		{"space", "abc 123", false},
		{"newline", "abc\n123", false},
		{"quote", `abc"123`, false},
		{"non-ascii", "abcé", false},
		{"jwt-shaped", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4In0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := requestid.FromHeader(tc.in)
			if tc.kept && got != tc.in {
				t.Fatalf("FromHeader(%q) = %q, want it kept", tc.in, got)
			}
			if !tc.kept && !generated.MatchString(got) {
				t.Fatalf("FromHeader(%q) = %q, want a generated id", tc.in, got)
			}
		})
	}
}

func TestNewIsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := requestid.New()
		if !generated.MatchString(id) || seen[id] {
			t.Fatalf("New() = %q: malformed or repeated", id)
		}
		seen[id] = true
	}
}
