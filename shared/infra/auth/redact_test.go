package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/infra/auth"
)

func TestRedactTokens(t *testing.T) {
	tok, err := auth.Mint([]byte("k"), 8, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	head := tok[:strings.LastIndex(tok, ".")] // header and payload only
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"/pub/send-message", "/pub/send-message"},
		{`unknown destination "/pub/` + tok + `"`, `unknown destination "/pub/[token]"`},
		{"id " + head + " and " + tok, "id [token] and [token]"},
		{"eyJ alone", "eyJ alone"},
	} {
		if got := auth.RedactTokens(tt.in); got != tt.want {
			t.Errorf("RedactTokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
