package authtest

import (
	"fmt"
	"strings"
	"testing"
)

// errorsTB records Errorf instead of failing the test.
type errorsTB struct {
	testing.TB
	errs []string
}

func (e *errorsTB) Helper() {}
func (e *errorsTB) Errorf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}
func (e *errorsTB) Fatalf(format string, args ...any) { e.Errorf(format, args...) }

func TestAssertNoTokens(t *testing.T) {
	k := Shared()
	tok := Sign(t, "HS256", k.Secret, "", Claims(8, nil))
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	for _, tc := range []struct {
		name, logs string
		want       []string
	}{
		{"clean", "level=INFO msg=\"http request\" user_id=8", nil},
		{"capture without the request", "level=INFO msg=start", []string{`the API's log capture lacks "http request": "level=INFO msg=start"`}},
		{"whole token", "http request token=" + tok, []string{"the API's log holds (part of) token " + tok[:20] + "..."}},
		{"signature alone", "http request sig=" + sig, []string{"the API's log holds (part of) token " + tok[:20] + "..."}},
		{"Authorization value", "http request authorization=\"Bearer <redacted>\"", []string{"the API's log holds an Authorization value"}},
	} {
		tb := &errorsTB{TB: t}
		AssertNoTokens(tb, "API", tc.logs, []string{tok}, "http request")
		if fmt.Sprint(tb.errs) != fmt.Sprint(tc.want) {
			t.Errorf("%s: errors %q, want %q", tc.name, tb.errs, tc.want)
		}
	}
}

// TestRunRunsEveryCase: Run gives each Valid case to valid and each Invalid
// case to invalid, in subtests named for them, and returns every token.
func TestRunRunsEveryCase(t *testing.T) {
	k := Shared()
	ran := map[string]bool{}
	used := k.Run(t, 8, func(t *testing.T, c Case) {
		if c.Err != nil || !strings.HasPrefix(t.Name(), "TestRunRunsEveryCase/valid/") {
			t.Errorf("valid got %s (%v)", t.Name(), c.Err)
		}
		ran[c.Token] = true
	}, func(t *testing.T, c Case) {
		if c.Err == nil || !strings.HasPrefix(t.Name(), "TestRunRunsEveryCase/invalid/") {
			t.Errorf("invalid got %s (%v)", t.Name(), c.Err)
		}
		ran[c.Token] = true
	})
	want := len(k.Valid(t, 8)) + len(k.Invalid(t, 8))
	if len(used) != want || len(ran) != want {
		t.Fatalf("ran %d cases and returned %d tokens, want %d", len(ran), len(used), want)
	}
	for _, tok := range used {
		if !ran[tok] {
			t.Errorf("token %.20s... returned but not run", tok)
		}
	}
}
