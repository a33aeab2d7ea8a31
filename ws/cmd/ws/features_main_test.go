package main

import (
	"strings"
	"testing"
)

func TestLoadOutboxLength(t *testing.T) {
	s, err := load(func(string) string { return "" })
	if err != nil || s.outboxMaxLen != 100 {
		t.Fatalf("default: %d, %v", s.outboxMaxLen, err)
	}
	if s, err = load(func(k string) string { return map[string]string{"NOTIFY_OUTBOX_MAXLEN": "42"}[k] }); err != nil || s.outboxMaxLen != 42 {
		t.Fatalf("set: %d, %v", s.outboxMaxLen, err)
	}
	if _, err := load(func(k string) string { return map[string]string{"NOTIFY_OUTBOX_MAXLEN": "none"}[k] }); err == nil ||
		!strings.Contains(err.Error(), "NOTIFY_OUTBOX_MAXLEN") {
		t.Fatalf("bad value: %v", err)
	}
}
