package config

import (
	"strings"
	"testing"
)

func TestLoadArchive(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	a, err := LoadArchive(env(nil))
	if err != nil || a.On() || a.StreamMax != 100000 || a.BacklogMax != 100000 {
		t.Fatalf("defaults: %+v, %v; want off with 100000 and 100000", a, err)
	}
	a, err = LoadArchive(env(map[string]string{"ARCHIVE_DATABASE_URL": "postgresql://u@db:5432/chat", "ARCHIVE_STREAM_MAX": "5000"}))
	if err != nil || !a.On() || a.StreamMax != 5000 {
		t.Fatalf("set: %+v, %v", a, err)
	}
	for name, vars := range map[string]map[string]string{
		"not a postgres URL": {"ARCHIVE_DATABASE_URL": "redis://secret@db/0"},
		"stream too small":   {"ARCHIVE_STREAM_MAX": "10"},
		"backlog of zero":    {"ARCHIVE_BACKLOG_MAX": "0"},
	} {
		if _, err := LoadArchive(env(vars)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the URL's credentials: %v", name, err)
		}
	}
}
