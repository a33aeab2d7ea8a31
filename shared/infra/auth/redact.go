package auth

import (
	"regexp"
	"strings"
)

// jwtShaped matches a JWT, or its first two parts, anywhere in a text: a
// base64url JSON header ("eyJ...") followed by dot-separated base64url
// parts.
var jwtShaped = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)?`)

// RedactTokens replaces anything shaped like a JWT in s with "[token]", so
// client-supplied text (a destination, an id) can be logged without a
// token a client put there. Safe for concurrent use.
func RedactTokens(s string) string {
	if !strings.Contains(s, "eyJ") {
		return s
	}
	return jwtShaped.ReplaceAllString(s, "[token]")
}
